/**
 * The app's hooks into the module, set once from the app's `convex/auth0.ts` with
 * `configureAuth0Users({ onUserDeleted })`.
 *
 * `onUserDeleted` runs when a user deleted in Auth0 is removed from `users` (a `user.deleted`
 * event, or any later path that calls `deleteUser` in server/users.ts). It receives the user's
 * first organization memberships (at most `INLINE_USER_MEMBERSHIPS`, 16, in server/limits.ts),
 * which are removed with the row; a user in more organizations has the rest removed right after
 * by scheduled `auth0:purgeMemberships` mutations. It runs:
 * - exactly once per removed row: a redelivered or late event whose row is already gone does not
 *   call it again;
 * - inside the same mutation as the removal, just before the row is deleted, so the row can still
 *   be read and everything it writes commits or rolls back together with the removal;
 * - with the same limits as any mutation (1 s of code, 4,096 index ranges, 16,000 documents
 *   written), shared with the rest of the deletion and, in a reconcile batch, with the other
 *   users of the batch (`auth0.applyBatch` checks `ctx.meta.getTransactionMetrics()` before each
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
 * // convex/auth0.ts
 * configureAuth0Users<DataModel>({
 *   onUserDeleted: async (ctx, user) => {
 *     const posts = await ctx.db
 *       .query("posts")
 *       .withIndex("by_author", (q) => q.eq("authorId", user._id))
 *       .take(100);
 *     for (const post of posts) await ctx.db.delete("posts", post._id);
 *   },
 * });
 */
import type {
  DocumentByName,
  GenericDataModel,
  GenericMutationCtx,
  TableNamesInDataModel,
} from "convex/server";
import type { Doc, MutationCtx } from "./builders";
import { setConfiguredUserDeletion, type UserDeletionMode } from "./userRowState";

/** What `onUserDeleted` receives beside the row. */
export interface DeletedUserRelated {
  /** The user's first memberships, removed with the row (the rest right after, scheduled). */
  memberships: Doc<"memberships">[];
  /** AUTH0_USER_DELETION: whether the row is about to be removed or kept anonymized. */
  mode: UserDeletionMode;
}

/** The app's hooks; each is optional. `AppDataModel` is the app's own (`./_generated/dataModel`). */
export interface Auth0UsersOptions<AppDataModel extends GenericDataModel = GenericDataModel> {
  /** Cascade for a deleted user, in the deleting mutation, before the row changes. */
  onUserDeleted?: (
    ctx: GenericMutationCtx<AppDataModel>,
    user: "users" extends TableNamesInDataModel<AppDataModel>
      ? DocumentByName<AppDataModel, "users">
      : Doc<"users">,
    related: DeletedUserRelated,
  ) => Promise<void>;
  /** What a deletion does while the Convex variable AUTH0_USER_DELETION is unset (it wins when
   * set): `anonymize` keeps the row so your `v.id("users")` references resolve; default `remove`. */
  userDeletion?: UserDeletionMode;
}

let configured: Auth0UsersOptions = {};

/**
 * Sets the app's hooks. Call it once, at the top level of `convex/auth0.ts`, the file that serves
 * the module's functions: it runs whenever one of them is loaded, before any of them runs.
 */
export function configureAuth0Users<AppDataModel extends GenericDataModel = GenericDataModel>(
  options: Auth0UsersOptions<AppDataModel>,
): void {
  if (options.onUserDeleted !== undefined && typeof options.onUserDeleted !== "function") {
    throw new Error("configureAuth0Users: onUserDeleted must be a function");
  }
  setConfiguredUserDeletion(options.userDeletion);
  // The app's data model is a superset of the module's: its hook gets the same ctx and row.
  configured = { ...options } as unknown as Auth0UsersOptions;
}

/** Runs the app's `onUserDeleted`, if any; the default keeps the app's other data untouched. */
export async function onUserDeleted(
  ctx: MutationCtx,
  user: Doc<"users">,
  related: DeletedUserRelated,
): Promise<void> {
  await configured.onUserDeleted?.(
    ctx as unknown as GenericMutationCtx<GenericDataModel>,
    user,
    related,
  );
}
