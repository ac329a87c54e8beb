/**
 * Reconcile's access to the `users` table (see scripts/check-sync.ts and scripts/sync.ts): one
 * page of rows at a time, and a batch of upserts and deletions applied through `upsertUser` and
 * `deleteUser`, the same functions every other path uses. Reached over HTTP by the routes in
 * convex/syncRoutes.ts, which are signed with AUTH0_SYNC_SECRET.
 */
import { v, type Infer } from "convex/values";
import { env, internalMutation, internalQuery } from "./_generated/server";
import schema from "./schema";
import { tokenIdentifier } from "./tokenIdentifier";
import {
  auth0ProfileFields,
  convexErrorCode,
  deleteUser,
  TIMESTAMP_IN_FUTURE,
  upsertUser,
  USER_DELETED,
} from "./users";

/** Most rows one page may ask for: a row is well under 1 KB, so a page stays far inside the
 * 16 MiB a query may read and the 20 MiB an HTTP reply may carry. */
export const MAX_PAGE_SIZE = 5000;
/** Most upserts plus deletions in one batch. Each is a few index reads and one write, so a batch
 * stays far inside a mutation's 1 s of code and its read and write limits. */
export const MAX_BATCH_ITEMS = 200;

const userDoc = v.object({
  ...schema.tables.users.validator.fields,
  _id: v.id("users"),
  _creationTime: v.number(),
});

/** One page of the `users` table, whole documents (host fields included, for backups). */
export const usersPage = internalQuery({
  args: { cursor: v.union(v.string(), v.null()), numItems: v.number() },
  returns: v.object({
    rows: v.array(userDoc),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, { cursor, numItems }) => {
    const page = await ctx.db.query("users").paginate({ cursor, numItems });
    return { rows: page.page, isDone: page.isDone, continueCursor: page.continueCursor };
  },
});

export const upsertItem = v.object({
  auth0UserId: v.string(),
  /** The Auth0 profile mapped by convex/auth0Profile.ts `profileFromAuth0User`. */
  profile: v.object(auth0ProfileFields),
});
export const deletionItem = v.object({
  auth0UserId: v.string(),
  /** When the user was confirmed gone from Auth0 (ms); clamped to now by deleteUser. */
  deletedAt: v.number(),
});
export const applyBatchArgs = {
  upserts: v.array(upsertItem),
  deletions: v.array(deletionItem),
};

const itemResult = v.object({
  auth0UserId: v.string(),
  kind: v.union(v.literal("upsert"), v.literal("delete")),
  outcome: v.union(
    /** Upsert: a row was created. */
    v.literal("created"),
    /** Upsert: facts changed. */
    v.literal("updated"),
    /** Upsert: nothing to change, or Convex already holds a newer profile (a login or event). */
    v.literal("unchanged"),
    /** Upsert refused: the user was deleted after this profile was read. */
    v.literal("user_deleted"),
    /** Upsert refused: the profile's date lies in the future. */
    v.literal("refused"),
    /** Delete: rows removed (possibly none) and a tombstone kept. */
    v.literal("removed"),
    /** Delete not applied: the stored profile is newer than the deletion. */
    v.literal("superseded"),
  ),
  removed: v.optional(v.number()),
});
export type ApplyResult = Infer<typeof itemResult>;

/**
 * Applies a batch in one transaction. Rows are keyed with the canonical issuer (`AUTH0_DOMAIN`),
 * as the events receiver keys them; `upsertUser` finds a row made through the custom domain.
 * The monotonic rule means a batch never overwrites a newer profile a login or an event wrote
 * while the reconcile ran.
 */
export const applyBatch = internalMutation({
  args: applyBatchArgs,
  returns: v.array(itemResult),
  handler: async (ctx, { upserts, deletions }) => {
    const results: ApplyResult[] = [];
    for (const { auth0UserId, profile } of upserts) {
      const identifier = tokenIdentifier(env.AUTH0_DOMAIN ?? "", auth0UserId);
      try {
        const { created, updated } = await upsertUser(ctx, {
          tokenIdentifier: identifier,
          ...profile,
        });
        const outcome = created ? "created" : updated ? "updated" : "unchanged";
        results.push({ auth0UserId, kind: "upsert", outcome });
      } catch (err) {
        const code = convexErrorCode(err);
        if (code !== USER_DELETED && code !== TIMESTAMP_IN_FUTURE) throw err;
        const outcome = code === USER_DELETED ? "user_deleted" : "refused";
        results.push({ auth0UserId, kind: "upsert", outcome });
      }
    }
    for (const { auth0UserId, deletedAt } of deletions) {
      const { removed, superseded } = await deleteUser(ctx, { auth0UserId, deletedAt });
      results.push({
        auth0UserId,
        kind: "delete",
        outcome: superseded ? "superseded" : "removed",
        removed,
      });
    }
    return results;
  },
});
