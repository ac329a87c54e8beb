/**
 * Reconcile's access to the `users` table (see scripts/check-sync.ts and scripts/sync.ts): one
 * page of rows at a time, and a batch of upserts and deletions applied through `upsertUser` and
 * `deleteUser`, the same functions every other path uses. Reached over HTTP by the routes in
 * server/reconcile/syncRoutes.ts, which are signed with AUTH0_SYNC_SECRET.
 */
import { v, type Infer } from "convex/values";
import { internalMutation, internalQuery } from "../builders";
import { deploymentVariable } from "../deploymentVariables";
import {
  budgetLeft,
  BYTES_PER_BATCH_ITEM,
  MAX_PAGE_BYTES,
  RANGES_PER_USER_ITEM,
  VALUE_TOO_LONG,
} from "../limits";
import { tokenIdentifier } from "../tokenIdentifier";
import {
  deleteUser,
  upsertUser,
  auth0ProfileFields,
  PROFILE_KEYS,
  appOwnedFields,
  metadataMappings,
  convexErrorCode,
  TIMESTAMP_IN_FUTURE,
  USER_DELETED,
} from "../users";

/** Most rows one page may ask for, and most items in one batch (see server/limits.ts). */
export { MAX_BATCH_ITEMS, MAX_PAGE_SIZE } from "../limits";

// Whole documents with the app's own fields, which only the app's schema knows: validated by the
// app's schema when written, not again here.
const userDoc = v.any();

/** One page of the `users` table, whole documents (host fields included, for backups). */
export const usersPage = internalQuery({
  args: { cursor: v.union(v.string(), v.null()), numItems: v.number() },
  returns: v.object({
    rows: v.array(userDoc),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, { cursor, numItems }) => {
    // Bounded in bytes too: a page of large rows (long names and URLs, host fields) is shorter,
    // never over the read or return limits.
    const page = await ctx.db
      .query("users")
      .paginate({ cursor, numItems, maximumBytesRead: MAX_PAGE_BYTES });
    return { rows: page.page, isDone: page.isDone, continueCursor: page.continueCursor };
  },
});

export const upsertItem = v.object({
  auth0UserId: v.string(),
  /** The Auth0 profile mapped by server/users/auth0Profile.ts `profileFromAuth0User`. */
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
    /** Refused: the profile's date lies in the future, or a value is over its cap
     * (server/limits.ts). */
    v.literal("refused"),
    /** Delete: rows removed (possibly none) and a tombstone kept. */
    v.literal("removed"),
    /** Delete not applied: the stored profile is newer than the deletion. */
    v.literal("superseded"),
  ),
  removed: v.optional(v.number()),
  /** Upsert: the app's metadata fields whose value was refused (kept as they were). */
  refusedMetadata: v.optional(v.array(v.string())),
});
export type ApplyResult = Infer<typeof itemResult>;

/**
 * Applies a batch in one transaction, possibly in part: an item starts only while the planned
 * budget (server/limits.ts) still holds its worst case, which the host's `onUserDeleted` hook
 * may have eaten. The results then list the items applied, in order, and the caller sends the
 * rest again (the reconcile's client does). The first item always runs. Rows are keyed with the canonical issuer (`AUTH0_DOMAIN`),
 * as the events receiver keys them; `upsertUser` finds a row made through the custom domain.
 * The monotonic rule means a batch never overwrites a newer profile a login or an event wrote
 * while the reconcile ran.
 */
export const applyBatch = internalMutation({
  args: applyBatchArgs,
  returns: v.array(itemResult),
  handler: async (ctx, { upserts, deletions }) => {
    const results: ApplyResult[] = [];
    const room = async () =>
      results.length === 0 ||
      (await budgetLeft(ctx, {
        ranges: RANGES_PER_USER_ITEM,
        writes: RANGES_PER_USER_ITEM,
        bytesRead: BYTES_PER_BATCH_ITEM,
      }));
    for (const { auth0UserId, profile } of upserts) {
      if (!(await room())) return results;
      const identifier = tokenIdentifier(deploymentVariable("AUTH0_DOMAIN") ?? "", auth0UserId);
      try {
        const { created, updated, refusedMetadata } = await upsertUser(ctx, {
          tokenIdentifier: identifier,
          ...profile,
        });
        const outcome = created ? "created" : updated ? "updated" : "unchanged";
        results.push({
          auth0UserId,
          kind: "upsert",
          outcome,
          ...(refusedMetadata.length > 0
            ? { refusedMetadata: refusedMetadata.map((r) => r.field) }
            : {}),
        });
      } catch (err) {
        const code = convexErrorCode(err);
        if (code !== USER_DELETED && code !== TIMESTAMP_IN_FUTURE && code !== VALUE_TOO_LONG) {
          throw err;
        }
        const outcome = code === USER_DELETED ? "user_deleted" : "refused";
        results.push({ auth0UserId, kind: "upsert", outcome });
      }
    }
    for (const { auth0UserId, deletedAt } of deletions) {
      if (!(await room())) return results;
      let deleted;
      try {
        deleted = await deleteUser(ctx, { auth0UserId, deletedAt });
      } catch (err) {
        if (convexErrorCode(err) !== VALUE_TOO_LONG) throw err;
        results.push({ auth0UserId, kind: "delete", outcome: "refused" });
        continue;
      }
      const { removed, superseded } = deleted;
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

/** What the reconcile must know of the app's configuration (server/users/hooks.ts). */
export const userFieldRulesValidator = v.object({
  /** Profile fields the app owns: written at creation only, never drift. */
  appOwned: v.array(v.string()),
  /** The app's fields copied from Auth0 metadata, and from where. */
  metadata: v.array(
    v.object({
      field: v.string(),
      from: v.string(),
      /** Whether the field may be absent: a key Auth0 lacks then removes it, else it is kept. */
      optional: v.boolean(),
    }),
  ),
});
export type UserFieldRules = Infer<typeof userFieldRulesValidator>;

/**
 * The app's field ownership and metadata mappings, as `configureAuth0Users` set them in the
 * deployment: `/auth0/sync/status` reports them, so the reconcile (which runs outside Convex)
 * compares what this deployment really writes, never a local guess.
 */
export const userFieldRules = internalQuery({
  args: {},
  returns: userFieldRulesValidator,
  handler: async () => configuredFieldRules(),
});

/** The field rules `configureAuth0Users` set in this process (also the reconcile benchmark's
 * in-memory Convex side, bench/lib/memoryConvex.ts). */
export function configuredFieldRules(): UserFieldRules {
  const owned = appOwnedFields();
  return {
    appOwned: PROFILE_KEYS.filter((key) => owned.has(key)),
    metadata: metadataMappings().map(({ field, from, validator }) => ({
      field,
      from,
      optional: validator.isOptional === "optional",
    })),
  };
}
