/**
 * Hooks for the host app. Edit this file to run your own code when this module changes users.
 *
 * `onUserDeleted` runs when a user deleted in Auth0 is removed from `users` (a `user.deleted`
 * event, or any later path that calls `deleteUser` in convex/users.ts). It receives the user's
 * organization memberships, which are removed with the row. It runs:
 * - exactly once per removed row: a redelivered or late event whose row is already gone does not
 *   call it again;
 * - inside the same mutation as the removal, just before the row is deleted, so the row can still
 *   be read and everything it writes commits or rolls back together with the removal;
 * - with the same limits as any mutation (1 s of code, 16,000 documents written). A user with more
 *   dependent data than that should be marked here and cleaned up by a scheduled function
 *   (`ctx.scheduler.runAfter(0, internal.myApp.cleanup, { userId: user._id })`).
 *
 * If it throws, nothing is removed and the event route answers 500, so Auth0 retries the event.
 *
 * @example
 * export async function onUserDeleted(ctx: MutationCtx, user: Doc<"users">) {
 *   const posts = await ctx.db
 *     .query("posts")
 *     .withIndex("by_author", (q) => q.eq("authorId", user._id))
 *     .collect();
 *   for (const post of posts) await ctx.db.delete("posts", post._id);
 * }
 */
import type { MutationCtx } from "./_generated/server";
import type { Doc } from "./_generated/dataModel";

/** Cascade for a deleted user; the default keeps the app's other data untouched. */
export async function onUserDeleted(
  _ctx: MutationCtx,
  _user: Doc<"users">,
  _related: { memberships: Doc<"memberships">[] },
): Promise<void> {}
