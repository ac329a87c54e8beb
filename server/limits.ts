/**
 * The arithmetic that keeps every function of this module inside Convex's per-transaction limits
 * (docs.convex.dev/production/state/limits; `crates/common/src/knobs.rs`), in one place. Each
 * loop whose work grows with the data takes its chunk size from here and continues through the
 * scheduler (or the caller's next call); where the cost of an item is not known in advance (the
 * host's `onUserDeleted` hook, rows with host fields), the loop also asks
 * `ctx.meta.getTransactionMetrics()` and stops early (see {@link budgetLeft}).
 *
 * The README's "Limits" table lists each function's worst case per call against these numbers.
 */
import type { QueryMeta } from "convex/server";
import { ConvexError } from "convex/values";

const KiB = 1024;
const MiB = 1024 * KiB;

/** What Convex allows one query or mutation. `indexRanges` counts every `db.get`, query, and
 * also every `db.patch`, `db.replace` and `db.delete` (each reads the document by id first). */
export const CONVEX_LIMITS = {
  indexRanges: 4096,
  documentsRead: 32_000,
  bytesRead: 16 * MiB,
  documentsWritten: 16_000,
  bytesWritten: 16 * MiB,
  functionsScheduled: 1000,
} as const;

/** Share of each limit a function plans to use; the rest is margin (for host fields, for the
 * host's hook, for a row larger than planned). */
export const PLANNED_SHARE = 0.5;
const planned = (limit: number) => Math.floor(limit * PLANNED_SHARE);

// ---------------------------------------------------------------------------------------------
// Lengths of what comes from outside (events, routes, the browser), checked before storage.

/** Auth0 user ids and organization ids (Auth0's own are far shorter). */
export const MAX_ID_LENGTH = 512;
/** A token identifier: an issuer URL, `|`, and a user id. */
export const MAX_TOKEN_IDENTIFIER_LENGTH = 1024;
/** Email, names, nickname, organization name and display name, role names. */
export const MAX_TEXT_LENGTH = 512;
/** A picture URL (social providers' URLs run to ~2 KB). */
export const MAX_URL_LENGTH = 4096;
/** Organization metadata: Auth0 allows 25 entries, keys of 255 and values of 255 characters. */
export const MAX_METADATA_ENTRIES = 25;
export const MAX_METADATA_KEY_LENGTH = 255;
export const MAX_METADATA_VALUE_LENGTH = 255;
/** Role names one membership keeps (present and removed, each with its time). */
export const MAX_ROLES_PER_MEMBERSHIP = 100;
/** The `detail` recorded with an event. */
export const MAX_DETAIL_LENGTH = 500;

/** ConvexError code of a value over its cap: nothing is written. */
export const VALUE_TOO_LONG = "value_too_long";

/** Throws {@link VALUE_TOO_LONG} when `value` is a string longer than `max` characters. */
export function checkLength(what: string, value: string | null | undefined, max: number): void {
  if (typeof value === "string" && value.length > max) {
    throw new ConvexError({
      code: VALUE_TOO_LONG,
      message: `${what} is ${value.length} characters long; at most ${max} are stored`,
    });
  }
}

/** Throws {@link VALUE_TOO_LONG} for metadata beyond Auth0's own limits. */
export function checkMetadata(entries: { key: string; value: string }[] | null | undefined): void {
  if (!entries) return;
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw new ConvexError({
      code: VALUE_TOO_LONG,
      message: `metadata has ${entries.length} entries; at most ${MAX_METADATA_ENTRIES} are stored`,
    });
  }
  for (const { key, value } of entries) {
    checkLength("a metadata key", key, MAX_METADATA_KEY_LENGTH);
    checkLength("a metadata value", value, MAX_METADATA_VALUE_LENGTH);
  }
}

/** Largest module-owned `users` row these caps allow (host fields come on top). */
export const MAX_USER_ROW_BYTES =
  MAX_TOKEN_IDENTIFIER_LENGTH + MAX_ID_LENGTH + 5 * MAX_TEXT_LENGTH + MAX_URL_LENGTH + 512;
/** Largest `auth0Memberships` row: ids, and each role twice (name, and name with its time). */
export const MAX_MEMBERSHIP_ROW_BYTES =
  2 * MAX_ID_LENGTH + MAX_ROLES_PER_MEMBERSHIP * (2 * MAX_TEXT_LENGTH + 32) + 256;
/** Largest `auth0Organizations` row. */
export const MAX_ORGANIZATION_ROW_BYTES =
  MAX_ID_LENGTH +
  2 * MAX_TEXT_LENGTH +
  MAX_METADATA_ENTRIES * (MAX_METADATA_KEY_LENGTH + MAX_METADATA_VALUE_LENGTH + 32) +
  256;

// ---------------------------------------------------------------------------------------------
// Chunk sizes.

/**
 * Memberships one mutation deletes when an organization (or a user) is deleted: one query plus
 * one range per delete, so ~1,000 of the 4,096 ranges, 1,000 of the 16,000 writes, and at most
 * 1,000 x {@link MAX_MEMBERSHIP_ROW_BYTES} (~100 MB in theory, ~0.8 MB for real rows) read, which
 * is why {@link budgetLeft} also stops a purge on bytes. The rest follows in scheduled mutations.
 */
export const PURGE_CHUNK = 1000;

/**
 * Memberships a deletion removes in its own transaction before scheduling the rest: a plain
 * `take`, not bounded in bytes, so it is sized for rows at their largest ({@link
 * MAX_MEMBERSHIP_ROW_BYTES}) to stay within the planned bytes read. Scheduled pages are bounded
 * in bytes by `paginate` and take up to {@link PURGE_CHUNK}.
 */
export const INLINE_PURGE = Math.min(
  PURGE_CHUNK,
  Math.floor(planned(CONVEX_LIMITS.bytesRead) / 2 / MAX_MEMBERSHIP_ROW_BYTES),
);

/** Ranges one item of a sync batch costs at most, excluding membership cascades (chunked) and
 * the host's hook (checked with {@link budgetLeft}): lookups by token, by user id, tombstones,
 * the write, and the organization row and tombstones for an organization item. */
export const RANGES_PER_BATCH_ITEM = 10;
/** Most items in one sync batch (users or organizations). */
export const MAX_BATCH_ITEMS = 200;
/** Memberships a user deletion removes inline (and hands to the host's hook), and memberships
 * a new user row links inline; more are handled by scheduled mutations of {@link PURGE_CHUNK}.
 * Small, so that a batch of {@link MAX_BATCH_ITEMS} such items stays inside the plan. */
export const INLINE_USER_MEMBERSHIPS = 16;

/**
 * Membership deletions an organization batch of `items` items may run inline, all deleted
 * organizations together: what the planned range budget leaves after the items themselves, at
 * most {@link PURGE_CHUNK}. The rest of each purge is scheduled (one scheduled function per
 * deleted organization, at most {@link MAX_BATCH_ITEMS} of the 1,000 allowed).
 */
export function orgBatchPurgeBudget(items: number): number {
  const left = planned(CONVEX_LIMITS.indexRanges) - items * RANGES_PER_BATCH_ITEM - 48;
  return Math.max(0, Math.min(INLINE_PURGE, left));
}

/** What one user upsert or deletion of a sync batch costs at most, without the host's hook:
 * `applyBatch` starts an item only while this much of the planned budget is left. */
export const RANGES_PER_USER_ITEM = RANGES_PER_BATCH_ITEM + INLINE_USER_MEMBERSHIPS;
/** Bytes one item of a sync batch reads at most: up to 16 user rows of an Auth0 user id (one
 * per trusted issuer, read with `take(16)`), its first memberships, an organization row. */
export const BYTES_PER_BATCH_ITEM =
  16 * MAX_USER_ROW_BYTES +
  INLINE_USER_MEMBERSHIPS * MAX_MEMBERSHIP_ROW_BYTES +
  MAX_ORGANIZATION_ROW_BYTES;

/** Most rows one sync page returns, and the bytes it may read: a page stops early when rows
 * are large (host fields, long names, metadata), so it is smaller, never an error. 4 MiB read
 * keeps the reply far under the 16 MiB a function may return and the 20 MiB of an HTTP reply. */
export const MAX_PAGE_SIZE = 5000;
export const MAX_PAGE_BYTES = 4 * MiB;
/** Bytes one scheduled purge page reads at most (memberships). */
export const PURGE_PAGE_BYTES = 4 * MiB;

/** Rows `auth0.pruneEvents` deletes per run across its three tables (one range each, plus three
 * queries): well inside the range and write budgets. */
export const MAX_PRUNE_BATCH = 1000;

/** Memberships `auth0.myOrganizations` reads for one user (with one organization read each):
 * 2 x 1,000 ranges, ~1,000 x (0.8 + 7) KB read for real rows; it also stops at the planned
 * bytes ({@link takeWithinBudget}). A user in more organizations sees the first ones by
 * organization id. */
export const MAX_MINE = 1000;

// ---------------------------------------------------------------------------------------------

/**
 * Whether the current transaction still has `need` (index ranges, documents written, bytes
 * read) to spare within the planned share of each limit, as `ctx.meta` reports it.
 */
export async function budgetLeft(
  ctx: { meta: QueryMeta },
  need: { ranges: number; writes?: number; bytesRead?: number },
): Promise<boolean> {
  const m = await ctx.meta.getTransactionMetrics();
  const margin = (limit: number) => limit - planned(limit);
  return (
    m.databaseQueries.remaining - margin(CONVEX_LIMITS.indexRanges) >= need.ranges &&
    m.documentsWritten.remaining - margin(CONVEX_LIMITS.documentsWritten) >= (need.writes ?? 0) &&
    m.bytesRead.remaining - margin(CONVEX_LIMITS.bytesRead) >= (need.bytesRead ?? 0)
  );
}

/**
 * Reads up to `max` rows of `query`, stopping early when the transaction's planned budget
 * could not hold `reservePerRow` more bytes (rows of unknown size: host fields). `more` says
 * rows were left unread. The bounded, documented sample `auth0.eventsHealth` counts with.
 */
export async function takeWithinBudget<T>(
  ctx: { meta: QueryMeta },
  query: AsyncIterable<T>,
  max: number,
  reservePerRow: number = 0,
): Promise<{ rows: T[]; more: boolean }> {
  const rows: T[] = [];
  for await (const row of query) {
    if (rows.length >= max) return { rows, more: true };
    rows.push(row);
    if (!(await budgetLeft(ctx, { ranges: 2, bytesRead: reservePerRow }))) {
      return { rows, more: true };
    }
  }
  return { rows, more: false };
}
