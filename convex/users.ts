/**
 * The `users` table's functions. `upsertUser` below is the one place a user row is written; every
 * path (the Post-Login Action through HTTP, `users.store` from the browser, and later events and
 * reconcile) funnels into it through `users.upsertFromAuth0` or `users.store`.
 */
import { ConvexError, v, type Infer } from "convex/values";
import type { UserIdentity } from "convex/server";
import { env, internalMutation, mutation, query } from "./_generated/server";
import type { DatabaseReader, MutationCtx, QueryCtx } from "./_generated/server";
import type { Doc, Id } from "./_generated/dataModel";
import schema from "./schema";
import {
  configuredIssuers,
  parseTokenIdentifier,
  tokenIdentifier as buildTokenIdentifier,
  TokenIdentifierError,
} from "./tokenIdentifier";
import { parseAuth0Time } from "./auth0Profile";
import { onUserDeleted } from "./userHooks";

const nullable = <T extends ReturnType<typeof v.string> | ReturnType<typeof v.boolean>>(x: T) =>
  v.optional(v.union(x, v.null()));

/**
 * Profile facts Auth0 owns. Absent leaves the stored value alone; `null` clears it. Shared by the
 * mutation's args and the HTTP route's body check, so both accept exactly the same thing.
 */
export const auth0ProfileFields = {
  email: nullable(v.string()),
  emailVerified: nullable(v.boolean()),
  name: nullable(v.string()),
  nickname: nullable(v.string()),
  givenName: nullable(v.string()),
  familyName: nullable(v.string()),
  avatarUrl: nullable(v.string()),
  /** Auth0's `updated_at` in ms: the ordering key that keeps updates monotonic. */
  auth0UpdatedAt: v.optional(v.number()),
};

/** Body of `POST /auth0/upsert-user`: an identifier plus the profile facts. */
export const upsertBodyFields = {
  tokenIdentifier: v.string(),
  ...auth0ProfileFields,
};

export const upsertArgs = {
  ...upsertBodyFields,
  /** True when the call comes from a sign-in: `lastActiveAt` is touched. */
  login: v.optional(v.boolean()),
};
export type UpsertArgs = Infer<ReturnType<typeof v.object<typeof upsertArgs>>>;

/** The profile facts Auth0 owns on a row. */
export const PROFILE_KEYS = [
  "email",
  "emailVerified",
  "name",
  "nickname",
  "givenName",
  "familyName",
  "avatarUrl",
] as const;

/** Logins closer together than this do not rewrite `lastActiveAt` (the Action and the hook both
 * report each sign-in; one write is enough). */
export const LAST_ACTIVE_RESOLUTION_MS = 60_000;

/** ConvexError code thrown by {@link upsertUser} for a profile older than the user's deletion. */
export const USER_DELETED = "user_deleted";

/** True when `err` is the {@link upsertUser} refusal for a deleted user. */
export function isUserDeletedError(err: unknown): boolean {
  return (
    err instanceof ConvexError &&
    typeof err.data === "object" &&
    err.data !== null &&
    (err.data as { code?: unknown }).code === USER_DELETED
  );
}

const userDoc = v.object({
  ...schema.tables.users.validator.fields,
  _id: v.id("users"),
  _creationTime: v.number(),
});

/** The normalized issuers this deployment trusts (`AUTH0_DOMAIN`, `AUTH0_CUSTOM_DOMAIN`). */
export function deploymentIssuers(): string[] {
  return configuredIssuers(env.AUTH0_DOMAIN, env.AUTH0_CUSTOM_DOMAIN);
}

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
    .first();
  if (direct) return direct;

  let parsed;
  try {
    parsed = parseTokenIdentifier(identifier);
  } catch {
    return null;
  }
  const issuers = deploymentIssuers();
  if (!issuers.includes(parsed.issuer)) return null;
  const sameSubject = await db
    .query("users")
    .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", parsed.subject))
    .take(16);
  return (
    sameSubject.find((row) => {
      try {
        return issuers.includes(parseTokenIdentifier(row.tokenIdentifier).issuer);
      } catch {
        return false;
      }
    }) ?? null
  );
}

/**
 * Creates or updates the row for `args.tokenIdentifier`. The only function that writes user rows.
 *
 * - Auth0 owns the profile facts: they are overwritten when they differ; absent keeps, null clears.
 * - Monotonic: a profile whose `auth0UpdatedAt` is older than the stored one changes no fact.
 * - A call that changes nothing writes nothing, except `lastActiveAt` on a login (once a minute).
 * - Tombstones: when the user was deleted in Auth0 (see {@link deleteUser}), a profile that is not
 *   newer than the deletion (or has no `auth0UpdatedAt`) throws a ConvexError with code
 *   `user_deleted` and writes nothing, whichever path it came from (Action, `users.store`, event,
 *   reconcile). A newer profile (the same user_id re-created) goes through and clears the tombstone.
 */
export async function upsertUser(
  ctx: MutationCtx,
  args: UpsertArgs,
): Promise<{ userId: Id<"users">; created: boolean }> {
  let subject: string;
  try {
    subject = parseTokenIdentifier(args.tokenIdentifier).subject;
  } catch (err) {
    throw new ConvexError({
      code: "invalid_token_identifier",
      message: err instanceof TokenIdentifierError ? err.message : "invalid tokenIdentifier",
    });
  }
  const now = Date.now();
  const existing = await findUserByTokenIdentifier(ctx.db, args.tokenIdentifier);

  const tombstone = await ctx.db
    .query("userTombstones")
    .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", subject))
    .first();
  if (tombstone) {
    const rowIsNewer =
      existing?.auth0UpdatedAt !== undefined && existing.auth0UpdatedAt > tombstone.deletedAt;
    const incomingIsNewer =
      args.auth0UpdatedAt !== undefined && args.auth0UpdatedAt > tombstone.deletedAt;
    if (!rowIsNewer && !incomingIsNewer) {
      throw new ConvexError({
        code: USER_DELETED,
        message: `Auth0 user ${subject} was deleted at ${new Date(tombstone.deletedAt).toISOString()}; a profile read before that cannot bring it back`,
      });
    }
    // The user was re-created under the same user_id after the deletion: the tombstone is spent.
    await ctx.db.delete("userTombstones", tombstone._id);
  }

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
    return { userId: await ctx.db.insert("users", row), created: true };
  }

  const patch: Partial<Doc<"users">> = {};
  const stale =
    args.auth0UpdatedAt !== undefined &&
    existing.auth0UpdatedAt !== undefined &&
    args.auth0UpdatedAt < existing.auth0UpdatedAt;
  if (!stale) {
    for (const key of PROFILE_KEYS) {
      const incoming = args[key];
      if (incoming === undefined) continue;
      const next = incoming === null ? undefined : incoming;
      if (existing[key] !== next) (patch as Record<string, unknown>)[key] = next;
    }
    if (args.auth0UpdatedAt !== undefined && args.auth0UpdatedAt !== existing.auth0UpdatedAt) {
      patch.auth0UpdatedAt = args.auth0UpdatedAt;
    }
  }
  if (Object.keys(patch).length > 0) patch.updatedAt = now;
  if (
    args.login &&
    (existing.lastActiveAt === undefined ||
      now - existing.lastActiveAt >= LAST_ACTIVE_RESOLUTION_MS)
  ) {
    patch.lastActiveAt = now;
  }
  if (Object.keys(patch).length > 0) await ctx.db.patch("users", existing._id, patch);
  return { userId: existing._id, created: false };
}

/**
 * Removes a user deleted in Auth0: the one place a `users` row is removed. For every row of
 * `auth0UserId` under a configured issuer it calls the host app's `onUserDeleted` hook
 * (convex/userHooks.ts) and deletes the row, all in the caller's transaction, and keeps a tombstone
 * (`deletedAt`, `eventId`) so that no older profile brings the user back (see {@link upsertUser}).
 *
 * A deletion older than the stored profile (`auth0UpdatedAt > deletedAt`: the same user_id was
 * re-created since) removes nothing and leaves no tombstone; it returns `superseded: true`.
 * Deleting a user without a row still writes the tombstone, since its creation may arrive later.
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
  const issuers = deploymentIssuers();
  const rows = (
    await ctx.db
      .query("users")
      .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", args.auth0UserId))
      .take(16)
  ).filter((row) => {
    try {
      return issuers.includes(parseTokenIdentifier(row.tokenIdentifier).issuer);
    } catch {
      return false;
    }
  });
  if (rows.some((row) => row.auth0UpdatedAt !== undefined && row.auth0UpdatedAt > args.deletedAt)) {
    return { removed: 0, superseded: true };
  }
  for (const row of rows) {
    await onUserDeleted(ctx, row);
    await ctx.db.delete("users", row._id);
  }

  const tombstone = await ctx.db
    .query("userTombstones")
    .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", args.auth0UserId))
    .first();
  if (!tombstone) {
    await ctx.db.insert("userTombstones", {
      auth0UserId: args.auth0UserId,
      deletedAt: args.deletedAt,
      ...(args.eventId !== undefined ? { eventId: args.eventId } : {}),
    });
  } else if (args.deletedAt > tombstone.deletedAt) {
    await ctx.db.patch("userTombstones", tombstone._id, {
      deletedAt: args.deletedAt,
      eventId: args.eventId,
    });
  }
  return { removed: rows.length, superseded: false };
}

/**
 * The key of a Convex identity, built by the shared builder so `store` and `current` agree even
 * for a token whose `iss` lacks Auth0's trailing slash; the raw identifier if it is not Auth0-shaped.
 */
export function identityKey(identity: UserIdentity): string {
  try {
    return buildTokenIdentifier(identity.issuer, identity.subject);
  } catch {
    return identity.tokenIdentifier;
  }
}

/** Profile facts carried by a Convex identity (the claims of the Auth0 ID token). */
export function profileFromIdentity(identity: UserIdentity): UpsertArgs {
  const present = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);
  return {
    tokenIdentifier: buildTokenIdentifier(identity.issuer, identity.subject),
    email: present(identity.email),
    emailVerified: identity.emailVerified,
    name: present(identity.name) ?? present(identity.nickname),
    nickname: present(identity.nickname),
    givenName: present(identity.givenName),
    familyName: present(identity.familyName),
    avatarUrl: present(identity.pictureUrl),
    auth0UpdatedAt: parseAuth0Time(identity.updatedAt),
  };
}

/**
 * Creates or updates a user from Auth0 facts. Internal: called by the `/auth0/upsert-user` route
 * (for the Post-Login Action) and by other server-side paths. Returns the row's `_id` and whether
 * this call created it (the route reports `created` from the same transaction).
 */
export const upsertFromAuth0 = internalMutation({
  args: upsertArgs,
  returns: v.object({ userId: v.id("users"), created: v.boolean() }),
  handler: (ctx, args) => upsertUser(ctx, args),
});

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
          "users.store was called without a signed-in user: call it once useConvexAuth() reports isAuthenticated",
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
  return await findUserByTokenIdentifier(ctx.db, identityKey(identity));
}

/** The signed-in user's row; throws a ConvexError when signed out or not stored yet. */
export async function getCurrentUserOrThrow(ctx: QueryCtx): Promise<Doc<"users">> {
  const user = await getCurrentUser(ctx);
  if (!user) {
    throw new ConvexError({
      code: "user_not_found",
      message:
        "No users row for the signed-in user: make sure users.store ran (useStoreUserEffect) or the Post-Login Action is deployed",
    });
  }
  return user;
}

/** The signed-in user's row, or null. */
export const current = query({
  args: {},
  returns: v.union(v.null(), userDoc),
  handler: (ctx) => getCurrentUser(ctx),
});
