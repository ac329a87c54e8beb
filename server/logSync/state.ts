/**
 * The log sync's state in Convex (see server/logSync/logSync.ts): the checkpoint, the run lease, the
 * health figures, the cached Management API token, and the one write the sync makes besides the
 * users batch: a user's organizations as Auth0 lists them. Every function is internal, small,
 * and reads or writes a handful of documents.
 */
import { ConvexError, v } from "convex/values";
import { internalMutation, internalQuery, type MutationCtx, type QueryCtx } from "../builders";
import {
  organizationReadFields,
  storedEntries,
  removeMembership,
  setMembership,
  upsertOrganization,
} from "../organizations";
import { firstOf, moveLegacyRows, tablesToRead } from "../legacy";

/** The one state row's key. */
export const STATE_KEY = "tenant";

const byKey = (ctx: QueryCtx) => (table: "auth0LogSyncState") =>
  ctx.db.query(table).withIndex("by_key", (q) => q.eq("key", STATE_KEY));

/** The state row, for reading (also under its 0.1 table name, see server/legacy/tables.ts). */
export async function readState(ctx: QueryCtx) {
  return firstOf(ctx, "auth0LogSyncState", (table) => byKey(ctx)(table).first());
}

/** The state row, for a mutation to change: moved from its 0.1 table name first. */
export async function writableState(ctx: MutationCtx) {
  await moveLegacyRows(ctx, "auth0LogSyncState", byKey(ctx));
  return byKey(ctx)("auth0LogSyncState").first();
}

async function stateRow(ctx: MutationCtx) {
  const row = await writableState(ctx);
  if (row) return row;
  const id = await ctx.db.insert("auth0LogSyncState", { key: STATE_KEY });
  return (await ctx.db.get("auth0LogSyncState", id))!;
}

const startState = v.object({
  checkpoint: v.optional(v.string()),
  checkpointDate: v.optional(v.number()),
  stopped: v.optional(v.object({ at: v.number(), reason: v.string() })),
});

/**
 * Takes the run lease for `leaseMs` and returns where to start, or null while another run holds
 * it (a slow run and the next minute's cron never read the log at once).
 */
export const begin = internalMutation({
  args: { leaseMs: v.number() },
  returns: v.union(v.null(), startState),
  handler: async (ctx, { leaseMs }) => {
    const now = Date.now();
    const row = await stateRow(ctx);
    if (row.leaseUntil !== undefined && row.leaseUntil > now) return null;
    await ctx.db.patch("auth0LogSyncState", row._id, { leaseUntil: now + leaseMs, lastRunAt: now });
    return {
      ...(row.checkpoint !== undefined ? { checkpoint: row.checkpoint } : {}),
      ...(row.checkpointDate !== undefined ? { checkpointDate: row.checkpointDate } : {}),
      ...(row.stopped ? { stopped: row.stopped } : {}),
    };
  },
});

/** Starts the log from `checkpoint` (the newest event) and asks for one full reconcile. */
export const initialize = internalMutation({
  args: { checkpoint: v.string(), checkpointDate: v.number(), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { checkpoint, checkpointDate, reason }) => {
    const row = await stateRow(ctx);
    if (row.checkpoint !== undefined) {
      throw new ConvexError({
        code: "already_started",
        message: "the log sync already has a checkpoint",
      });
    }
    await ctx.db.patch("auth0LogSyncState", row._id, {
      checkpoint,
      checkpointDate,
      newestLogDate: checkpointDate,
      fullReconcileNeeded: { since: Date.now(), reason },
    });
    return null;
  },
});

/**
 * Moves the checkpoint from `from` to `to`, once the users of the events in between are applied.
 * Refused when the stored checkpoint is not `from` (another run moved it): nothing is skipped.
 */
export const advance = internalMutation({
  args: {
    from: v.string(),
    to: v.string(),
    toDate: v.number(),
    usersRefetched: v.number(),
    /** Why some events need a full reconcile (they name no user); empty when none. */
    reconcileReasons: v.array(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const row = await stateRow(ctx);
    if (row.checkpoint !== args.from || row.stopped) {
      throw new ConvexError({
        code: "checkpoint_moved",
        message: "the log sync's checkpoint changed during this run; the next run goes on from it",
      });
    }
    const reason = args.reconcileReasons[0];
    await ctx.db.patch("auth0LogSyncState", row._id, {
      checkpoint: args.to,
      checkpointDate: args.toDate,
      usersRefetchedTotal: (row.usersRefetchedTotal ?? 0) + args.usersRefetched,
      ...(reason !== undefined && !row.fullReconcileNeeded
        ? { fullReconcileNeeded: { since: Date.now(), reason: reason.slice(0, 300) } }
        : {}),
    });
    return null;
  },
});

/** Stops the sync: it cannot go on by itself (checkpoint past retention or refused). */
export const stop = internalMutation({
  args: { reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { reason }) => {
    const row = await stateRow(ctx);
    const now = Date.now();
    await ctx.db.patch("auth0LogSyncState", row._id, {
      stopped: { at: now, reason },
      fullReconcileNeeded: row.fullReconcileNeeded ?? { since: now, reason },
    });
    return null;
  },
});

/** Releases the lease and records the run's figures and its error, if any. */
export const finish = internalMutation({
  args: {
    /** False for a run that stopped or failed: `lastSuccessAt` stays where it was. */
    succeeded: v.boolean(),
    usersRefetched: v.number(),
    logEvents: v.number(),
    newestLogDate: v.optional(v.number()),
    error: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const row = await stateRow(ctx);
    const now = Date.now();
    await ctx.db.patch("auth0LogSyncState", row._id, {
      leaseUntil: undefined,
      lastRunUsersRefetched: args.usersRefetched,
      lastRunLogEvents: args.logEvents,
      ...(args.newestLogDate !== undefined ? { newestLogDate: args.newestLogDate } : {}),
      ...(args.succeeded ? { lastSuccessAt: now, consecutiveErrors: 0 } : {}),
      ...(args.error !== undefined
        ? {
            consecutiveErrors: (row.consecutiveErrors ?? 0) + 1,
            lastError: { at: now, message: args.error.slice(0, 500) },
          }
        : {}),
    });
    return null;
  },
});

const tokenShape = v.object({ accessToken: v.string(), scope: v.string(), expiresAt: v.number() });

/** The cached token of `clientId`, if it is still valid. */
export const cachedToken = internalQuery({
  args: { clientId: v.string() },
  returns: v.union(v.null(), tokenShape),
  handler: async (ctx, { clientId }) => {
    const row = await firstOf(ctx, "auth0LogSyncToken", (table) =>
      ctx.db
        .query(table)
        .withIndex("by_client", (q) => q.eq("clientId", clientId))
        .first(),
    );
    if (!row || row.expiresAt <= Date.now()) return null;
    return { accessToken: row.accessToken, scope: row.scope, expiresAt: row.expiresAt };
  },
});

/** Keeps one token (the newest) per client; `null` forgets it (Auth0 refused it). */
export const saveToken = internalMutation({
  args: { clientId: v.string(), token: v.union(v.null(), tokenShape) },
  returns: v.null(),
  handler: async (ctx, { clientId, token }) => {
    // A cache: tokens still under the 0.1 table name are dropped with the others.
    for (const table of await tablesToRead(ctx, "auth0LogSyncToken")) {
      const rows = await ctx.db.query(table).take(10);
      for (const row of rows) await ctx.db.delete(table, row._id);
    }
    if (token) await ctx.db.insert("auth0LogSyncToken", { clientId, ...token });
    return null;
  },
});

/** Most organizations of one user applied at once (a user in more is rare; the rest wait for the
 * reconcile, which the sync then asks for). */
export const MAX_USER_ORGANIZATIONS = 100;

/**
 * Makes a user's memberships what Auth0 listed at `at`: each listed organization and membership
 * (with its roles) is written, and a membership Convex holds in an organization the listing lacks
 * is removed, all through server/organizations/writes.ts, so a newer login or event still wins.
 */
export const applyUserOrganizations = internalMutation({
  args: {
    auth0UserId: v.string(),
    at: v.number(),
    organizations: v.array(
      v.object({ ...organizationReadFields(storedEntries), roles: v.array(v.string()) }),
    ),
  },
  returns: v.object({ applied: v.number(), removed: v.number() }),
  handler: async (ctx, { auth0UserId, at, organizations }) => {
    if (organizations.length > MAX_USER_ORGANIZATIONS) {
      throw new ConvexError({
        code: "too_many_organizations",
        message: `at most ${MAX_USER_ORGANIZATIONS} organizations per user`,
      });
    }
    let applied = 0;
    let removed = 0;
    const listed = new Set<string>();
    for (const { roles, ...org } of organizations) {
      listed.add(org.auth0OrgId);
      await upsertOrganization(ctx, org, at);
      const outcome = await setMembership(ctx, { auth0OrgId: org.auth0OrgId, auth0UserId }, at, {
        kind: "roles",
        roles,
      });
      if (outcome === "applied") applied += 1;
    }
    const byUser = (table: "auth0Memberships") =>
      ctx.db.query(table).withIndex("by_auth0_user", (q) => q.eq("auth0UserId", auth0UserId));
    await moveLegacyRows(ctx, "auth0Memberships", byUser, { max: MAX_USER_ORGANIZATIONS + 1 });
    const held = await byUser("auth0Memberships").take(MAX_USER_ORGANIZATIONS + 1);
    for (const m of held) {
      if (listed.has(m.auth0OrgId)) continue;
      if (
        (await removeMembership(ctx, { auth0OrgId: m.auth0OrgId, auth0UserId }, at)) === "applied"
      ) {
        removed += 1;
      }
    }
    return { applied, removed };
  },
});
