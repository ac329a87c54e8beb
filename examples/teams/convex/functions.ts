import { customCtx, customMutation, customQuery } from "convex-helpers/server/customFunctions";
import { ConvexError } from "convex/values";
import { mutation, query, type QueryCtx } from "./_generated/server";

/** The signed-in user's row; throws when signed out or not stored yet. */
async function userFromIdentity(ctx: QueryCtx) {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) {
    throw new ConvexError("Not signed in");
  }
  const user = await ctx.db
    .query("users")
    .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
    .unique();
  if (user === null) {
    throw new ConvexError("User not found");
  }
  return user;
}

/** A query for signed-in users: `ctx.user` is their row. */
export const userQuery = customQuery(
  query,
  customCtx(async (ctx) => ({ user: await userFromIdentity(ctx) })),
);

/** A mutation for signed-in users: `ctx.user` is their row. */
export const userMutation = customMutation(
  mutation,
  customCtx(async (ctx) => ({ user: await userFromIdentity(ctx) })),
);
