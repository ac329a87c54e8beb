/**
 * What the Event Stream receiver can say about itself: when it last heard from Auth0, what failed,
 * rows dated in the future, and how big its tables are (bounded samples, never scans).
 */
import { ConvexError, v } from "convex/values";
import { internalQuery, type QueryCtx } from "../builders";
import { tablesToRead } from "../legacy";
import { MAX_CLOCK_SKEW_MS } from "../users";
import { takeWithinBudget } from "../limits";
import { RETENTION_DAYS } from "./events";

/** Window of the health figure's failure count. */
export const FAILURE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Most failures counted by `health`: enough to alarm, bounded to keep the query cheap. */
const FAILURE_COUNT_CAP = 1000;
/** Most rows counted per table by `health`: a bounded sample (a flood shows as `more: true`).
 * With every stored string capped (server/limits.ts) an event record is at most ~2 KB, so the
 * whole query reads at most ~3,200 documents and ~6 MB (see the README's limits table). */
export const TABLE_COUNT_CAP = 1000;
/** Most future-dated rows counted by `health`, and user ids listed as examples. */
const FUTURE_COUNT_CAP = 100;
const FUTURE_EXAMPLES = 10;

/** {@link takeWithinBudget} over several queries, one after the other, `max` rows in all. */
async function sampleOf<T>(ctx: QueryCtx, queries: AsyncIterable<T>[], max: number) {
  const rows: T[] = [];
  for (const query of queries) {
    const sample = await takeWithinBudget(ctx, query, max - rows.length);
    rows.push(...sample.rows);
    if (sample.more) return { rows, more: true };
  }
  return { rows, more: false };
}

const cappedCount = v.object({ count: v.number(), more: v.boolean() });
const futureDated = v.object({
  count: v.number(),
  more: v.boolean(),
  auth0UserIds: v.array(v.string()),
});

const failureRecord = v.object({
  eventId: v.string(),
  type: v.string(),
  auth0UserId: v.optional(v.string()),
  receivedAt: v.number(),
  detail: v.optional(v.string()),
});

/**
 * The receiver's health, for `check-sync` and `npx convex run auth0:eventsHealth`:
 * - `lastEventReceivedAt` (ms, or null): when the newest event was received. A stream that
 *   stopped delivering shows as a figure that stops moving while users change in Auth0.
 * - `failuresLast24h`: events recorded as failed in the last 24 h (capped at 1000), and the
 *   latest of them; list them with `npx convex run auth0:eventFailures`.
 * - `futureDatedUsers` / `futureDatedTombstones`: rows whose ordering key lies in the future
 *   (written before the skew rule, or by a bad clock), with example user ids. Such a row gives
 *   way to the next real update or deletion; a reconcile repairs it at once.
 * - `eventRecords` / `tombstones`: table sizes, counted up to {@link TABLE_COUNT_CAP}; a flood of
 *   events (a leaked events token) shows here before the 30-day prune catches up.
 */
export const health = internalQuery({
  args: {},
  returns: v.object({
    lastEventReceivedAt: v.union(v.number(), v.null()),
    lastEventType: v.union(v.string(), v.null()),
    failuresLast24h: v.number(),
    lastFailure: v.union(v.null(), failureRecord),
    retentionDays: v.number(),
    futureDatedUsers: futureDated,
    futureDatedTombstones: futureDated,
    eventRecords: cappedCount,
    tombstones: cappedCount,
  }),
  handler: async (ctx) => {
    const now = Date.now();
    const horizon = now + MAX_CLOCK_SKEW_MS;
    // Bounded samples: each list stops at its cap or when the planned read budget
    // (server/limits.ts) is spent; `more: true` then says the real number is larger. A user row
    // may carry host fields of any size, hence the budget check rather than a fixed count.
    const futureUsers = await takeWithinBudget(
      ctx,
      ctx.db
        .query("users")
        .withIndex("by_auth0_updated_at", (q) => q.gt("auth0UpdatedAt", horizon)),
      FUTURE_COUNT_CAP,
    );
    // Tombstones still under their 0.1 table name count too, while the migration runs.
    const tombstoneTables = await tablesToRead(ctx, "auth0UserTombstones");
    const futureTombstones = await sampleOf(
      ctx,
      tombstoneTables.map((table) =>
        ctx.db.query(table).withIndex("by_deleted_at", (q) => q.gt("deletedAt", horizon)),
      ),
      FUTURE_COUNT_CAP,
    );
    const examples = (rows: { auth0UserId: string }[]) =>
      rows.slice(0, FUTURE_EXAMPLES).map((r) => r.auth0UserId);
    const last = await ctx.db
      .query("auth0Events")
      .withIndex("by_received_at")
      .order("desc")
      .first();
    const since = now - FAILURE_WINDOW_MS;
    const failures = await takeWithinBudget(
      ctx,
      ctx.db
        .query("auth0Events")
        .withIndex("by_outcome", (q) => q.eq("outcome", "failed").gte("receivedAt", since))
        .order("desc"),
      FAILURE_COUNT_CAP,
    );
    const latest = failures.rows[0];
    const events = await takeWithinBudget(ctx, ctx.db.query("auth0Events"), TABLE_COUNT_CAP);
    const tombstones = await sampleOf(
      ctx,
      tombstoneTables.map((table) => ctx.db.query(table)),
      TABLE_COUNT_CAP,
    );
    const counted = (sample: { rows: unknown[]; more: boolean }) => ({
      count: sample.rows.length,
      more: sample.more,
    });
    return {
      lastEventReceivedAt: last?.receivedAt ?? null,
      lastEventType: last?.type ?? null,
      failuresLast24h: failures.rows.length,
      lastFailure: latest
        ? {
            eventId: latest.eventId,
            type: latest.type,
            ...(latest.auth0UserId !== undefined ? { auth0UserId: latest.auth0UserId } : {}),
            receivedAt: latest.receivedAt,
            ...(latest.detail !== undefined ? { detail: latest.detail } : {}),
          }
        : null,
      retentionDays: RETENTION_DAYS,
      futureDatedUsers: { ...counted(futureUsers), auth0UserIds: examples(futureUsers.rows) },
      futureDatedTombstones: {
        ...counted(futureTombstones),
        auth0UserIds: examples(futureTombstones.rows),
      },
      eventRecords: counted(events),
      tombstones: counted(tombstones),
    };
  },
});

/** Events recorded as failed, newest first (`npx convex run auth0:eventFailures '{"limit": 20}'`). */
export const failures = internalQuery({
  args: { limit: v.optional(v.number()) },
  returns: v.array(failureRecord),
  handler: async (ctx, { limit = 50 }) => {
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ConvexError({ code: "invalid_limit", message: "limit must be an integer 1..1000" });
    }
    const rows = await ctx.db
      .query("auth0Events")
      .withIndex("by_outcome", (q) => q.eq("outcome", "failed"))
      .order("desc")
      .take(limit);
    return rows.map((r) => ({
      eventId: r.eventId,
      type: r.type,
      ...(r.auth0UserId !== undefined ? { auth0UserId: r.auth0UserId } : {}),
      receivedAt: r.receivedAt,
      ...(r.detail !== undefined ? { detail: r.detail } : {}),
    }));
  },
});
