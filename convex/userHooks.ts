/**
 * Hooks for the host app. Edit this file to run your own code when this module changes users.
 *
 * `onUserDeleted` runs when a user deleted in Auth0 is removed from `users` (a `user.deleted`
 * event, or any later path that calls `deleteUser` in convex/users.ts). It receives the user's
 * first organization memberships (at most `INLINE_USER_MEMBERSHIPS`, 16, in convex/limits.ts),
 * which are removed with the row; a user in more organizations has the rest removed right after
 * by scheduled `orgSync:purgeMemberships` mutations. It runs:
 * - exactly once per removed row: a redelivered or late event whose row is already gone does not
 *   call it again;
 * - inside the same mutation as the removal, just before the row is deleted, so the row can still
 *   be read and everything it writes commits or rolls back together with the removal;
 * - with the same limits as any mutation (1 s of code, 4,096 index ranges, 16,000 documents
 *   written), shared with the rest of the deletion and, in a reconcile batch, with the other
 *   users of the batch (`sync.applyBatch` checks `ctx.meta.getTransactionMetrics()` before each
 *   user and leaves the rest to the caller's next call). Keep it to a bounded amount of work; a
 *   user with more dependent data should be marked here and cleaned up by a scheduled function
 *   (`ctx.scheduler.runAfter(0, internal.myApp.cleanup, { userId: user._id })`) in chunks.
 *
 * If it throws, nothing is removed and the event route answers 500, so Auth0 retries the event.
 *
 * With `AUTH0_USER_DELETION=anonymize` the row is kept with its Auth0 facts cleared instead of
 * deleted (see `deleteUser`); the hook runs the same way, before the facts are cleared.
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
