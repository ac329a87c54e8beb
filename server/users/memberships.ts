/**
 * The user's side of a membership: `auth0Memberships` rows are keyed by the Auth0 user id and
 * point at the user's row (`userId`) once it exists. The users capability keeps that link as its
 * rows come and go: a new or adopted row picks up the memberships recorded before it (an event
 * first), and a deleted user's memberships are listed for the app's `onUserDeleted` and removed
 * with the row (server/users/users.ts). Organizations and roles themselves are written by
 * server/organizations/, which reads the users' rules, never the other way round.
 */
import { v } from "convex/values";
import { internal } from "../api";
import { internalMutation, type Doc, type Id, type MutationCtx } from "../builders";
import { moveLegacyRows } from "../legacy";
import { INLINE_USER_MEMBERSHIPS, PURGE_CHUNK, PURGE_PAGE_BYTES } from "../limits";

/** A user's memberships, under `table` (the renamed table or its 0.1 name). */
const userMemberships = (ctx: MutationCtx, auth0UserId: string) => (table: "auth0Memberships") =>
  ctx.db.query(table).withIndex("by_auth0_user", (q) => q.eq("auth0UserId", auth0UserId));

/** The first memberships of a user, at most `max` (what `deleteUser` hands to the host hook). */
export async function membershipsOfUser(
  ctx: MutationCtx,
  auth0UserId: string,
  max: number = INLINE_USER_MEMBERSHIPS,
): Promise<Doc<"auth0Memberships">[]> {
  const byUser = userMemberships(ctx, auth0UserId);
  await moveLegacyRows(ctx, "auth0Memberships", byUser, { max });
  return byUser("auth0Memberships").take(max);
}

/**
 * Points a new user row's memberships (recorded before it existed) at it: up to
 * {@link INLINE_USER_MEMBERSHIPS} here, the rest by scheduled mutations.
 */
export async function linkMemberships(
  ctx: MutationCtx,
  auth0UserId: string,
  userId: Id<"users">,
): Promise<void> {
  const byUser = userMemberships(ctx, auth0UserId);
  const legacy = await moveLegacyRows(ctx, "auth0Memberships", byUser, {
    max: INLINE_USER_MEMBERSHIPS,
    patch: (row) => (row.userId ? {} : { userId }),
  });
  const rows = await byUser("auth0Memberships").take(INLINE_USER_MEMBERSHIPS);
  for (const row of rows) {
    if (!row.userId) await ctx.db.patch("auth0Memberships", row._id, { userId });
  }
  if (legacy.more || rows.length === INLINE_USER_MEMBERSHIPS) {
    await ctx.scheduler.runAfter(0, internal.auth0.linkMemberships, {
      auth0UserId,
      userId,
      cursor: null,
    });
  }
}

/** One scheduled step of {@link linkMemberships}: a page of {@link PURGE_CHUNK}. */
export async function linkMembershipsPage(
  ctx: MutationCtx,
  auth0UserId: string,
  userId: Id<"users">,
  cursor: string | null,
): Promise<void> {
  const user = await ctx.db.get("users", userId);
  if (user === null || user.deletedAt !== undefined) return; // deleted (or anonymized) since
  const byUser = userMemberships(ctx, auth0UserId);
  // Rows still under the 0.1 name are moved (and linked on the way) first, until none is left.
  const legacy = await moveLegacyRows(ctx, "auth0Memberships", byUser, {
    max: PURGE_CHUNK,
    withinBudget: true,
    patch: (row) => (row.userId ? {} : { userId }),
  });
  if (legacy.more) {
    await ctx.scheduler.runAfter(0, internal.auth0.linkMemberships, {
      auth0UserId,
      userId,
      cursor,
    });
    return;
  }
  const page = await byUser("auth0Memberships").paginate({
    cursor,
    numItems: PURGE_CHUNK,
    maximumBytesRead: PURGE_PAGE_BYTES,
  });
  for (const row of page.page) {
    if (!row.userId) await ctx.db.patch("auth0Memberships", row._id, { userId });
  }
  if (!page.isDone) {
    await ctx.scheduler.runAfter(0, internal.auth0.linkMemberships, {
      auth0UserId,
      userId,
      cursor: page.continueCursor,
    });
  }
}

/** One scheduled page of linking a new user row's memberships to it. */
export const linkMembershipsStep = internalMutation({
  args: {
    auth0UserId: v.string(),
    userId: v.id("users"),
    cursor: v.union(v.string(), v.null()),
  },
  returns: v.null(),
  handler: async (ctx, { auth0UserId, userId, cursor }) => {
    await linkMembershipsPage(ctx, auth0UserId, userId, cursor);
    return null;
  },
});
