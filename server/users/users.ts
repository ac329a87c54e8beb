/**
 * The `users` table's functions. `upsertUser` below is the one place a user row is written; every
 * path (the Post-Login Action through HTTP, `auth0.store` from the browser, and later events and
 * reconcile) funnels into it through `auth0.upsertFromAuth0` or `auth0.store`.
 */
import { ConvexError, v, type Infer } from "convex/values";
import { internalMutation, mutation, query } from "../builders";
import type { DatabaseReader, MutationCtx, QueryCtx } from "../builders";
import type { Doc, Id } from "../builders";
import { userFields } from "../tables";
import {
  parseTokenIdentifier,
  tokenIdentifier as buildTokenIdentifier,
  TokenIdentifierError,
} from "../tokenIdentifier";
import {
  appOwnedFields,
  metadataMappings,
  onUserCreated,
  onUserDeleted,
  onUserUpdated,
} from "./hooks";
import { readMappedMetadata, sameValue, type MetadataRefusal } from "./metadata";
import { isAdopted, isAnonymized, userDeletionMode } from "./rowState";
import { linkMemberships, membershipsOfUser } from "./memberships";
import { userTombstoneOf } from "./tombstones";
import {
  deploymentIssuers,
  isFromTheFuture,
  MAX_CLOCK_SKEW_MS,
  TIMESTAMP_IN_FUTURE,
  trustedDeletionTime,
  trustedProfileTime,
  trustedRowsOf,
  USER_DELETED,
} from "./rules";
import { internal } from "../api";
import { checkLength, INLINE_USER_MEMBERSHIPS, MAX_ID_LENGTH } from "../limits";
import {
  checkProfileLengths,
  identityKey,
  LAST_ACTIVE_RESOLUTION_MS,
  PROFILE_KEYS,
  profileFromIdentity,
  type UpsertArgs,
} from "./profile";

// Imported from here by scripts/lib/reconcile/plan.ts and tests/convex/users/orderingKeys.test.ts.
export { isFromTheFuture, MAX_CLOCK_SKEW_MS };

/** ISO text of a time for a message, whatever the number. */
const describeTime = (ms: number) =>
  Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);

/** What `current` returns: the module's fields of the row (an app's own fields are its own). */
const userDoc = v.object({
  ...userFields,
  _id: v.id("users"),
  _creationTime: v.number(),
});

/**
 * Finds a user's row by token identifier, or else by Auth0 user id under another configured
 * issuer, so a user who signs in through the custom domain and the canonical one has one row.
 */
export async function findUserByTokenIdentifier(
  db: DatabaseReader,
  identifier: string,
): Promise<Doc<"users"> | null> {
  const direct = await db
    .query("users")
    .withIndex("by_token", (q) => q.eq("tokenIdentifier", identifier))
    // Skips anonymized rows (deleted users) within this one identifier's range.
    // eslint-disable-next-line @convex-dev/no-filter-in-query
    .filter((q) => q.eq(q.field("deletedAt"), undefined))
    .first();
  if (direct) return direct;

  let parsed;
  try {
    parsed = parseTokenIdentifier(identifier);
  } catch {
    return null;
  }
  if (!deploymentIssuers().includes(parsed.issuer)) return null;
  return (
    (await trustedRowsOf(db, parsed.subject))[0] ??
    (await unadoptedRowOf(db, parsed.subject, parsed.issuer))
  );
}

/**
 * A not-yet-adopted row of `subject` keyed under another trusted issuer (it has no
 * `auth0UserId` to find it by): a custom-domain login of a user whose old row has the
 * canonical issuer completes that row instead of adding a second one. One index range per issuer.
 */
async function unadoptedRowOf(
  db: DatabaseReader,
  subject: string,
  except: string,
): Promise<Doc<"users"> | null> {
  for (const issuer of deploymentIssuers()) {
    if (issuer === except) continue;
    const row = await db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", buildTokenIdentifier(issuer, subject)))
      .first();
    if (row && !isAdopted(row)) return row;
  }
  return null;
}

/**
 * Creates or updates the row for `args.tokenIdentifier`. The only function that writes user rows.
 *
 * - Auth0 owns the profile facts: they are overwritten when they differ; absent keeps, null clears.
 *   Facts the app owns (`appOwnedFields`, server/users/hooks.ts) are written at creation only.
 * - The app's metadata fields (`metadata`) follow the same rules as Auth0's facts, for each value
 *   the profile carries that passes its validator; a refused value leaves its field alone and
 *   is returned in `refusedMetadata`.
 * - The app's hooks run here, in the caller's transaction: `onUserCreated` before the insert (its
 *   fields are inserted with the row), `onUserUpdated` after a change (not for `lastActiveAt`).
 * - Monotonic: a profile whose `auth0UpdatedAt` is older than the stored one changes no fact.
 * - No key from the future: an `auth0UpdatedAt` more than {@link MAX_CLOCK_SKEW_MS} ahead of this
 *   deployment's clock throws a ConvexError `timestamp_in_future` and writes nothing. A stored key
 *   that lies in the future is not trusted (see {@link trustedProfileTime}), so old poisoned rows
 *   give way to real updates.
 * - Dateless profiles (no `auth0UpdatedAt`, e.g. an ID token without the `profile` scope) cannot be
 *   ordered: on a row that carries a date they only fill fields the row lacks, and never change or
 *   clear a fact. On a row without a date they apply as before.
 * - A call that changes nothing writes nothing, except `lastActiveAt` on a login (once a minute).
 * - Tombstones: when the user was deleted in Auth0 (see {@link deleteUser}), a profile that is not
 *   newer than the deletion (or has no `auth0UpdatedAt`) throws a ConvexError with code
 *   `user_deleted` and writes nothing, whichever path it came from (Action, `auth0.store`, event,
 *   reconcile). A newer profile (the same user_id re-created) goes through and clears the tombstone.
 */
export async function upsertUser(
  ctx: MutationCtx,
  args: UpsertArgs,
): Promise<{
  userId: Id<"users">;
  created: boolean;
  updated: boolean;
  refusedMetadata: MetadataRefusal[];
}> {
  checkProfileLengths(args);
  let subject: string;
  try {
    subject = parseTokenIdentifier(args.tokenIdentifier).subject;
  } catch (err) {
    throw new ConvexError({
      code: "invalid_token_identifier",
      message: err instanceof TokenIdentifierError ? err.message : "invalid tokenIdentifier",
    });
  }
  checkLength("the Auth0 user id", subject, MAX_ID_LENGTH);
  const now = Date.now();
  if (args.auth0UpdatedAt !== undefined && isFromTheFuture(args.auth0UpdatedAt, now)) {
    throw new ConvexError({
      code: TIMESTAMP_IN_FUTURE,
      message: `auth0UpdatedAt ${describeTime(args.auth0UpdatedAt)} lies in the future (more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes ahead of this deployment's clock); it cannot order updates`,
    });
  }
  const existing = await findUserByTokenIdentifier(ctx.db, args.tokenIdentifier);
  const storedTime = existing ? trustedProfileTime(existing, now) : undefined;

  const tombstone = await userTombstoneOf(ctx, subject);
  if (tombstone) {
    const deletedAt = trustedDeletionTime(tombstone, now);
    const rowIsNewer = storedTime !== undefined && storedTime > deletedAt;
    const incomingIsNewer = args.auth0UpdatedAt !== undefined && args.auth0UpdatedAt > deletedAt;
    if (!rowIsNewer && !incomingIsNewer) {
      throw new ConvexError({
        code: USER_DELETED,
        message: `Auth0 user ${subject} was deleted at ${describeTime(deletedAt)}; a profile read before that cannot bring it back`,
      });
    }
    // The user was re-created under the same user_id after the deletion: the tombstone is spent.
    await ctx.db.delete("auth0UserTombstones", tombstone._id);
  }

  const metadata = readMappedMetadata(args.metadataJson, metadataMappings(), subject);
  const refusedMetadata = metadata.refused;

  if (!existing) {
    const row: Omit<Doc<"users">, "_id" | "_creationTime"> = {
      tokenIdentifier: args.tokenIdentifier,
      auth0UserId: subject,
      createdAt: now,
      updatedAt: now,
    };
    for (const key of PROFILE_KEYS) {
      const value = args[key];
      if (value !== undefined && value !== null) (row as Record<string, unknown>)[key] = value;
    }
    if (args.auth0UpdatedAt !== undefined) row.auth0UpdatedAt = args.auth0UpdatedAt;
    if (args.login) row.lastActiveAt = now;
    const mapped: Record<string, unknown> = {};
    for (const [field, value] of metadata.values) if (value !== undefined) mapped[field] = value;
    // The app's fields first: its defaults give way to valid metadata, and the module's own win.
    const appFields = await onUserCreated(ctx, { ...mapped, ...row });
    const userId = await insertUser(ctx, { ...appFields, ...mapped, ...row });
    // Memberships recorded before the user had a row (an event first) now point at it.
    await linkMemberships(ctx, subject, userId);
    return { userId, created: true, updated: false, refusedMetadata };
  }

  const patch: Partial<Doc<"users">> = {};
  const dateless = args.auth0UpdatedAt === undefined;
  const stale = !dateless && storedTime !== undefined && args.auth0UpdatedAt! < storedTime;
  // A dateless profile may be older than what a dated row holds: it only fills gaps.
  const fillOnly = dateless && storedTime !== undefined;
  if (!stale) {
    const appOwned = appOwnedFields();
    for (const key of PROFILE_KEYS) {
      const incoming = args[key];
      if (incoming === undefined || appOwned.has(key)) continue;
      if (fillOnly && (incoming === null || existing[key] !== undefined)) continue;
      const next = incoming === null ? undefined : incoming;
      if (existing[key] !== next) (patch as Record<string, unknown>)[key] = next;
    }
    for (const [field, incoming] of metadata.values) {
      const stored = (existing as Record<string, unknown>)[field];
      if (fillOnly && (incoming === undefined || stored !== undefined)) continue;
      if (!sameValue(stored, incoming)) (patch as Record<string, unknown>)[field] = incoming;
    }
    if (!dateless && args.auth0UpdatedAt !== existing.auth0UpdatedAt) {
      patch.auth0UpdatedAt = args.auth0UpdatedAt;
    }
  }
  if (!isAdopted(existing)) {
    // An app's row from before this module (see server/users/adoption.ts): completed here.
    const r = existing as Partial<Doc<"users">>;
    patch.auth0UserId = subject;
    if (r.createdAt === undefined) patch.createdAt = existing._creationTime;
  }
  const updated = Object.keys(patch).length > 0;
  if (updated) patch.updatedAt = now;
  if (
    args.login &&
    (existing.lastActiveAt === undefined ||
      now - existing.lastActiveAt >= LAST_ACTIVE_RESOLUTION_MS)
  ) {
    patch.lastActiveAt = now;
  }
  if (Object.keys(patch).length > 0) await ctx.db.patch("users", existing._id, patch);
  if (patch.auth0UserId !== undefined) await linkMemberships(ctx, subject, existing._id);
  if (updated) await onUserUpdated(ctx, existing, patched(existing, patch));
  return { userId: existing._id, created: false, updated, refusedMetadata };
}

/** `row` as `db.patch(row._id, patch)` leaves it (an `undefined` removes a field). */
function patched(row: Doc<"users">, patch: Partial<Doc<"users">>): Doc<"users"> {
  const after: Record<string, unknown> = { ...row };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete after[key];
    else after[key] = value;
  }
  return after as Doc<"users">;
}

/**
 * Inserts a new row; a refusal by the app's schema (a required field of the app nobody filled)
 * says where the fix goes, since it would otherwise refuse every first login the same way.
 */
async function insertUser(
  ctx: MutationCtx,
  row: Omit<Doc<"users">, "_id" | "_creationTime">,
): Promise<Id<"users">> {
  try {
    return await ctx.db.insert("users", row);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!/schema|validator|required field/i.test(message)) throw err;
    throw new Error(
      `${message}\nconvex-auth0-users: a users table with required fields of the app needs configureAuth0Users({ onUserCreated }) in convex/auth0.ts to return them for each new row`,
      { cause: err },
    );
  }
}

/**
 * Completes an app's row from before this module (server/users/adoption.ts): the fields the module
 * requires, the memberships recorded for its user, and the app's `onUserUpdated`, as any other
 * change of a row. `now` dates the change.
 */
export async function completeAdoptedRow(
  ctx: MutationCtx,
  row: Doc<"users">,
  auth0UserId: string,
  now: number,
): Promise<void> {
  const r = row as Partial<Doc<"users">>;
  const patch = { auth0UserId, createdAt: r.createdAt ?? row._creationTime, updatedAt: now };
  await ctx.db.patch("users", row._id, patch);
  await linkMemberships(ctx, auth0UserId, row._id);
  await onUserUpdated(ctx, row, patched(row, patch));
}

/**
 * Removes a user deleted in Auth0: the one place a `users` row is removed. For every row of
 * `auth0UserId` under a configured issuer it calls the host app's `onUserDeleted` hook
 * (server/users/hooks.ts, which also sees the user's memberships) and deletes the row and the
 * user's memberships, all in the caller's transaction, and keeps a tombstone
 * (`deletedAt`, `eventId`) so that no older profile brings the user back (see {@link upsertUser}).
 *
 * A deletion older than the stored profile (`auth0UpdatedAt > deletedAt`: the same user_id was
 * re-created since) removes nothing and leaves no tombstone; it returns `superseded: true`.
 * Deleting a user without a row still writes the tombstone, since its creation may arrive later.
 * A `deletedAt` in the future is clamped to now: a tombstone dated years ahead would refuse every
 * later profile, locking the user id out for good.
 *
 * With `AUTH0_USER_DELETION=anonymize` (see {@link userDeletionMode}) the row is kept instead of
 * deleted, so the app's `v.id("users")` references stay valid: every fact that came from Auth0
 * (the profile, app-owned profile fields included, `auth0UpdatedAt`, `lastActiveAt`, and the
 * app's metadata fields whose validator is optional) is cleared and `deletedAt` set;
 * `auth0UserId`, `tokenIdentifier`, `createdAt` and the app's other fields stay. Lookups (`getCurrentUser`, the
 * upsert, memberships, the reconcile) skip such a row, so the hook runs once for it, a login is
 * refused by the tombstone, and a user re-created under the same id after the deletion gets a new
 * row: the anonymized row, and what the app attached to it, stays with the deleted person.
 */
export async function deleteUser(
  ctx: MutationCtx,
  args: { auth0UserId: string; deletedAt: number; eventId?: string },
): Promise<{ removed: number; superseded: boolean }> {
  if (args.auth0UserId === "" || !Number.isFinite(args.deletedAt)) {
    throw new ConvexError({
      code: "invalid_deletion",
      message: "deleteUser needs a non-empty auth0UserId and a finite deletedAt (ms)",
    });
  }
  checkLength("auth0UserId", args.auth0UserId, MAX_ID_LENGTH);
  // Read before any write: a bad value must refuse the whole deletion, not half of it.
  const mode = userDeletionMode();
  const now = Date.now();
  const deletedAt = Math.min(args.deletedAt, now);
  const rows = await trustedRowsOf(ctx.db, args.auth0UserId);
  if (rows.some((row) => (trustedProfileTime(row, now) ?? -Infinity) > deletedAt)) {
    return { removed: 0, superseded: true };
  }
  // Bounded: the first INLINE_USER_MEMBERSHIPS go now (and reach the hook); a scheduled purge
  // removes the rest, and the tombstone below keeps any of them from coming back meanwhile.
  const memberships = await membershipsOfUser(ctx, args.auth0UserId, INLINE_USER_MEMBERSHIPS);
  for (const row of rows) {
    await onUserDeleted(ctx, row, { memberships, mode });
    if (mode === "remove") {
      await ctx.db.delete("users", row._id);
    } else {
      // The hook may have patched the app's own fields: only the module's are touched here.
      const cleared: Partial<Doc<"users">> = { auth0UpdatedAt: undefined, lastActiveAt: undefined };
      // App-owned profile fields too: they are personal data copied from Auth0 at creation.
      for (const key of PROFILE_KEYS) cleared[key] = undefined;
      // Metadata copied from Auth0 as well, where the app's validator lets the field be absent.
      for (const { field, validator } of metadataMappings()) {
        if (validator.isOptional === "optional")
          (cleared as Record<string, unknown>)[field] = undefined;
      }
      await ctx.db.patch("users", row._id, { ...cleared, deletedAt, updatedAt: now });
    }
  }
  for (const m of memberships) {
    // A membership Auth0 showed after this deletion belongs to a re-created user: it stays.
    if (m.auth0At <= deletedAt) await ctx.db.delete("auth0Memberships", m._id);
  }
  if (memberships.length === INLINE_USER_MEMBERSHIPS) {
    await ctx.scheduler.runAfter(0, internal.auth0.purgeMemberships, {
      auth0UserId: args.auth0UserId,
      deletedAt,
      cursor: null,
    });
  }

  const tombstone = await userTombstoneOf(ctx, args.auth0UserId);
  if (!tombstone) {
    await ctx.db.insert("auth0UserTombstones", {
      auth0UserId: args.auth0UserId,
      deletedAt,
      ...(args.eventId !== undefined ? { eventId: args.eventId } : {}),
    });
  } else {
    // Keeps the later deletion; a tombstone dated in the future is brought back to a real time.
    const kept = trustedDeletionTime(tombstone, now);
    if (deletedAt > kept) {
      await ctx.db.patch("auth0UserTombstones", tombstone._id, {
        deletedAt,
        eventId: args.eventId,
      });
    } else if (kept !== tombstone.deletedAt) {
      await ctx.db.patch("auth0UserTombstones", tombstone._id, { deletedAt: kept });
    }
  }
  return { removed: rows.length, superseded: false };
}

/**
 * Removes a user deleted in Auth0 (see {@link deleteUser}): for server-side paths that run as
 * actions, such as a reconcile that finds a user gone from Auth0. `deletedAt` is when the user was
 * known to be gone (ms); profiles not newer than it are refused afterwards.
 */
export const deleteFromAuth0 = internalMutation({
  args: { auth0UserId: v.string(), deletedAt: v.number(), eventId: v.optional(v.string()) },
  returns: v.object({ removed: v.number(), superseded: v.boolean() }),
  handler: (ctx, args) => deleteUser(ctx, args),
});

/**
 * Stores the signed-in user from their Convex identity: the browser's backstop for a login the
 * Action could not report. Call it after `useConvexAuth().isAuthenticated`; `useStoreUserEffect`
 * does. Returns the row's `_id`.
 */
export const store = mutation({
  args: {},
  returns: v.id("users"),
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) {
      throw new ConvexError({
        code: "unauthenticated",
        message:
          "auth0.store was called without a signed-in user: call it once useConvexAuth() reports isAuthenticated",
      });
    }
    const { userId } = await upsertUser(ctx, { ...profileFromIdentity(identity), login: true });
    return userId;
  },
});

/** The signed-in user's row, or null when signed out or not stored yet. */
export async function getCurrentUser(ctx: QueryCtx): Promise<Doc<"users"> | null> {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) return null;
  const user = await findUserByTokenIdentifier(ctx.db, identityKey(identity));
  // An anonymized row is a deleted user's: the person signed in now is not that user.
  return user && !isAnonymized(user) ? user : null;
}

/** The signed-in user's row; throws a ConvexError when signed out or not stored yet. */
export async function getCurrentUserOrThrow(ctx: QueryCtx): Promise<Doc<"users">> {
  const user = await getCurrentUser(ctx);
  if (!user) {
    throw new ConvexError({
      code: "user_not_found",
      message:
        "No users row for the signed-in user: make sure auth0.store ran (useStoreUserEffect) or the Post-Login Action is deployed",
    });
  }
  return user;
}

/** The signed-in user's row, or null. */
export const current = query({
  args: {},
  returns: v.union(v.null(), userDoc),
  handler: async (ctx) => {
    const user = await getCurrentUser(ctx);
    // A row not adopted yet is "not stored yet": auth0.store (useStoreUserEffect) completes it.
    return user && isAdopted(user) ? moduleFieldsOf(user) : null;
  },
});

function moduleFieldsOf(user: Doc<"users">): Infer<typeof userDoc> {
  const picked: Record<string, unknown> = { _id: user._id, _creationTime: user._creationTime };
  for (const key of Object.keys(userFields)) {
    const value = (user as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked as Infer<typeof userDoc>;
}
