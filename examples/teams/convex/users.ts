import { v } from "convex/values";
import { mutation } from "./_generated/server";
import { userMutation, userQuery } from "./functions";
import { usertagFor } from "./usertags";

/**
 * Stores the signed-in user (the Convex docs' "Storing users in the Convex database"): the
 * client calls it once Convex has accepted the token. Name and avatar are edited in the app,
 * so an existing row is left as it is.
 */
export const store = mutation({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) {
      throw new Error("Called storeUser without authentication present");
    }
    // Check if we've already stored this identity before.
    const user = await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
    if (user !== null) {
      return user._id;
    }
    if (!identity.email) {
      throw new Error("Sign in with an account that has an email address");
    }
    // If it's a new identity, create a new `User`.
    return await ctx.db.insert("users", {
      name: identity.name ?? identity.email,
      email: identity.email,
      avatarUrl: identity.pictureUrl,
      usertag: await usertagFor(ctx, identity.email),
      plan: "free",
      tokenIdentifier: identity.tokenIdentifier,
    });
  },
});

/** The signed-in user's row. */
export const current = userQuery({
  args: {},
  handler: async (ctx) => ctx.user,
});

/** The profile page: name and avatar live in Convex only. */
export const updateProfile = userMutation({
  args: { name: v.string(), avatarUrl: v.optional(v.string()) },
  handler: async (ctx, { name, avatarUrl }) => {
    if (name.trim() === "") {
      throw new Error("A name cannot be empty");
    }
    await ctx.db.patch("users", ctx.user._id, { name: name.trim(), avatarUrl });
  },
});
