/**
 * Rows a 0.1 deployment stored under the module's old table names (`organizations`,
 * `memberships`, ...: see `LEGACY_TABLE_NAMES` in server/tables.ts), while an upgrading app moves
 * them. The app declares them (`...auth0LegacyTables` in its schema) and says so with the Convex
 * variable `AUTH0_LEGACY_TABLES=migrate`; until `auth0:migrateLegacyTables`
 * (server/legacy/migration.ts) has moved every row and marked itself finished:
 *
 * - queries read the new table first, then the old one ({@link tablesToRead}, {@link firstOf});
 * - mutations first move the rows they are about to read into the new table
 *   ({@link moveLegacyRows}), then read and write only the new tables, so a write to a row found
 *   under the old name moves it;
 * - a row moved to a table that already holds a row with the same key is merged into it
 *   ({@link moveRow}): nothing is lost and no key is held twice.
 *
 * Without the variable (every app that never ran 0.1, its own `organizations` table included) no
 * function touches those names. Once the migration has finished, none reads them either, so the
 * app may drop `auth0LegacyTables` from its schema before or after unsetting the variable.
 *
 * Why the variable rather than looking: an app's own `organizations` table answers a query as the
 * module's old table would, and an index the schema does not declare fails the query (Convex drops
 * a table's indexes when the table leaves the schema, and keeps its documents).
 */
import { ConvexError } from "convex/values";
import { validate } from "convex-helpers/validators";
import type { DatabaseReader, Doc, MutationCtx } from "../builders";
import { deploymentVariable, INVALID_CONFIGURATION } from "../deploymentVariables";
import { describeValidationError } from "../http";
import { budgetLeft, MAX_MEMBERSHIP_ROW_BYTES, MAX_ORGANIZATION_ROW_BYTES } from "../limits";
import { auth0Tables, LEGACY_TABLE_NAMES, type RenamedTable } from "../tables";
import { trustedDeletionTime } from "../clock";

export { LEGACY_TABLE_NAMES, type RenamedTable };

/** Every renamed table, in the order the migration moves them. */
export const RENAMED_TABLES = Object.keys(LEGACY_TABLE_NAMES) as RenamedTable[];

/** The `auth0Migrations` row of this migration. */
export const LEGACY_MIGRATION = "legacyTables";

/** The Convex variable that says the schema declares `auth0LegacyTables`. */
export const LEGACY_TABLES_VARIABLE = "AUTH0_LEGACY_TABLES";

/**
 * Whether `AUTH0_LEGACY_TABLES=migrate` is set: the app's schema declares `auth0LegacyTables`.
 * Unset means no table of 0.1 is ever read; any other value throws a ConvexError
 * `invalid_configuration` (a typo must not silently hide the rows still under the old names).
 */
export function legacyTablesDeclared(): boolean {
  const raw = (deploymentVariable(LEGACY_TABLES_VARIABLE) ?? "").trim();
  if (raw === "") return false;
  if (raw.toLowerCase() === "migrate") return true;
  throw new ConvexError({
    code: INVALID_CONFIGURATION,
    message: `${LEGACY_TABLES_VARIABLE} must be "migrate" (unset means this app has no rows under the 0.1 table names); it is ${JSON.stringify(raw.slice(0, 40))}`,
  });
}

/** The migration's progress row, if it ever ran. */
export async function migrationRow(db: DatabaseReader): Promise<Doc<"auth0Migrations"> | null> {
  return db
    .query("auth0Migrations")
    .withIndex("by_name", (q) => q.eq("name", LEGACY_MIGRATION))
    .first();
}

// One answer per transaction (keyed by its `db`): every lookup of a function asks.
const activeIn = new WeakMap<object, Promise<boolean>>();

/**
 * Whether this transaction must look at the old tables: the variable is set and the migration
 * has not finished. Costs one index range per transaction while the variable is set, none without.
 */
export function legacyActive(ctx: { db: DatabaseReader }): Promise<boolean> {
  if (!legacyTablesDeclared()) return Promise.resolve(false);
  let active = activeIn.get(ctx.db);
  if (!active) {
    active = migrationRow(ctx.db).then((row) => row?.finishedAt === undefined);
    activeIn.set(ctx.db, active);
  }
  return active;
}

/** `table` under its 0.1 name, typed as `table`: it has the same fields and indexes. */
export function legacyName<T extends RenamedTable>(table: T): T {
  return LEGACY_TABLE_NAMES[table] as string as T;
}

/** The names to read `table`'s rows under: itself, then its 0.1 name while rows may remain. */
export async function tablesToRead<T extends RenamedTable>(
  ctx: { db: DatabaseReader },
  table: T,
): Promise<T[]> {
  return (await legacyActive(ctx)) ? [table, legacyName(table)] : [table];
}

/** The row `find` finds in `table`, else under its 0.1 name (see {@link tablesToRead}). */
export async function firstOf<T extends RenamedTable>(
  ctx: { db: DatabaseReader },
  table: T,
  find: (table: T) => Promise<Doc<T> | null>,
): Promise<Doc<T> | null> {
  for (const name of await tablesToRead(ctx, table)) {
    const row = await find(name);
    if (row) return row;
  }
  return null;
}

/**
 * The rows of several queries in the order of one key, as one stream: each query is sorted by
 * `key` (its index), and the streams are merged by it. A key two of them hold comes once, from
 * the earlier query (the renamed table's row before its 0.1 copy). Reads one row ahead per query.
 */
export async function* inKeyOrder<R>(
  queries: AsyncIterable<R>[],
  key: (row: R) => string,
): AsyncGenerator<R> {
  const streams = queries.map((q) => q[Symbol.asyncIterator]());
  const heads: IteratorResult<R>[] = [];
  for (const stream of streams) heads.push(await stream.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i].done) continue;
      if (best < 0 || key(heads[i].value as R) < key(heads[best].value as R)) best = i;
    }
    if (best < 0) return;
    const row = heads[best].value as R;
    yield row;
    const k = key(row);
    for (let i = 0; i < heads.length; i++) {
      while (!heads[i].done && key(heads[i].value as R) === k) heads[i] = await streams[i].next();
    }
  }
}

/** Bytes one row of each table may hold (the module's fields at their caps). */
export const ROW_BYTES: Record<RenamedTable, number> = {
  auth0Organizations: MAX_ORGANIZATION_ROW_BYTES,
  auth0Memberships: MAX_MEMBERSHIP_ROW_BYTES,
  auth0OrganizationTombstones: 2048,
  auth0UserTombstones: 2048,
  auth0LogSyncState: 4096,
  auth0LogSyncToken: 16_384,
};

/** What moving one row may cost ({@link moveRow}): the key lookup, a replace and the delete
 * (each one index range, each reading the row), two writes. */
export const moveNeed = (table: RenamedTable) => ({
  ranges: 4,
  writes: 2,
  bytesRead: 4 * ROW_BYTES[table],
});

/**
 * Before a mutation reads rows of `table` to change them: moves the first `max` rows that `find`
 * selects under the 0.1 name into `table` (see {@link moveRow}), so what follows reads and writes
 * the new table only. `find` gets the old name, typed as `table`, and returns a query on it;
 * `patch(row)` gives fields the caller would have written to the row, written with the move.
 * `withinBudget` stops early when the transaction's planned budget could not hold another move
 * (for loops over many rows; a lookup by key always moves its row). Returns how many rows it
 * moved and whether rows may be left. Does nothing unless {@link legacyActive}.
 */
export async function moveLegacyRows<T extends RenamedTable>(
  ctx: MutationCtx,
  table: T,
  find: (legacyTable: T) => AsyncIterable<Doc<T>>,
  opts: { max?: number; withinBudget?: boolean; patch?: (row: Doc<T>) => Partial<Doc<T>> } = {},
): Promise<{ moved: number; more: boolean }> {
  const { max = 1, withinBudget = false, patch } = opts;
  if (max <= 0 || !(await legacyActive(ctx))) return { moved: 0, more: false };
  let moved = 0;
  for await (const row of find(legacyName(table))) {
    if (moved >= max) return { moved, more: true };
    if (withinBudget && !(await budgetLeft(ctx, moveNeed(table)))) return { moved, more: true };
    await moveRow(ctx, table, row, patch?.(row));
    moved++;
  }
  return { moved, more: false };
}

/** The fields that identify a row of each table: at most one row per key (the key's index). */
const KEYS: { [T in RenamedTable]: { index: string; fields: readonly string[] } } = {
  auth0Organizations: { index: "by_auth0_org_id", fields: ["auth0OrgId"] },
  auth0Memberships: { index: "by_org", fields: ["auth0OrgId", "auth0UserId"] },
  auth0OrganizationTombstones: { index: "by_org_user", fields: ["auth0OrgId", "auth0UserId"] },
  auth0UserTombstones: { index: "by_auth0_user_id", fields: ["auth0UserId"] },
  auth0LogSyncState: { index: "by_key", fields: ["key"] },
  auth0LogSyncToken: { index: "by_client", fields: ["clientId"] },
};

type Fields = Record<string, unknown>;
const fieldsOf = ({ _id, _creationTime, ...fields }: Fields): Fields => fields;

/** The row of `table` with the same key as `row`, if any. */
async function twinOf<T extends RenamedTable>(
  db: DatabaseReader,
  table: T,
  row: Doc<T>,
): Promise<Doc<T> | null> {
  const { index, fields } = KEYS[table];
  const values = row as unknown as Fields;
  // One equality per key field, on the key's own index; typed loosely as it serves every table.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  return (db.query(table) as any)
    .withIndex(index, (q: any) => fields.reduce((r: any, f) => r.eq(f, values[f]), q))
    .first();
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

/**
 * Whether the schema declares `table` under its 0.1 name with its indexes (`auth0LegacyTables`):
 * a lookup on its key index fails when it does not, which every read of the module would then do.
 */
export async function legacyIndexesDeclared(
  db: DatabaseReader,
  table: RenamedTable,
): Promise<boolean> {
  const { index } = KEYS[table];
  try {
    // Typed loosely as it serves every table; an undeclared index throws on the first read.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (db.query(legacyName(table)) as any).withIndex(index).first();
    return true;
  } catch {
    return false;
  }
}

const later = (field: string) => (kept: Fields, moving: Fields) =>
  (moving[field] as number) > (kept[field] as number) ? moving : null;

type Membership = Doc<"auth0Memberships">;

/** Two records of one membership as one: each role's latest change, the latest sighting. */
function mergeMemberships(kept: Fields, moving: Fields): Fields | null {
  const a = kept as unknown as Membership;
  const b = moving as unknown as Membership;
  const times = new Map(a.roleTimes.map((t) => [t.name, t]));
  for (const t of b.roleTimes) {
    const mine = times.get(t.name);
    if (!mine || t.at > mine.at) times.set(t.name, t);
  }
  const roleTimes = [...times.values()].sort((x, y) =>
    x.name < y.name ? -1 : x.name > y.name ? 1 : 0,
  );
  const notBefore = Math.max(a.notBefore ?? -Infinity, b.notBefore ?? -Infinity);
  const userId = a.userId ?? b.userId;
  const merged: Fields = {
    ...kept,
    roles: roleTimes.filter((t) => t.present).map((t) => t.name),
    roleTimes,
    auth0At: Math.max(a.auth0At, b.auth0At),
    ...(Number.isFinite(notBefore) ? { notBefore } : {}),
    ...(userId !== undefined ? { userId } : {}),
    createdAt: Math.min(a.createdAt, b.createdAt),
    updatedAt: Math.max(a.updatedAt, b.updatedAt),
  };
  return JSON.stringify(merged) === JSON.stringify(kept) ? null : merged;
}

/**
 * How a row moving in joins the row its table already holds for the same key (possible only when
 * the module ran without AUTH0_LEGACY_TABLES for a while): the fields to keep, or null to keep the
 * held row as it is. The rules are the tables' own: the later Auth0 state, the later deletion,
 * each role's latest change; the log sync's state and token are the current ones already.
 */
const MERGE: { [T in RenamedTable]: (kept: Fields, moving: Fields) => Fields | null } = {
  auth0Organizations: later("auth0At"),
  auth0Memberships: mergeMemberships,
  auth0OrganizationTombstones: later("deletedAt"),
  auth0UserTombstones: later("deletedAt"),
  auth0LogSyncState: () => null,
  auth0LogSyncToken: () => null,
};

/**
 * Moves one row from the 0.1 table into `table`, in the caller's transaction: inserted as it is
 * (`userId` still names the same `users` row: `users` keeps its name), or merged into the row
 * `table` holds for its key (with `patch` applied first); then deleted from the old table. At most
 * 3 index ranges and 2 writes.
 */
export async function moveRow<T extends RenamedTable>(
  ctx: MutationCtx,
  table: T,
  row: Doc<T>,
  patch: Partial<Doc<T>> = {},
): Promise<"moved" | "merged"> {
  const twin = await twinOf(ctx.db, table, row);
  const moving = { ...fieldsOf(row as unknown as Fields), ...(patch as Fields) };
  if (table === "auth0UserTombstones") {
    // A deletion time in the future is trusted as the tombstone's creation time, which the
    // moved row would not keep: it carries the trusted time itself.
    const tombstone = row as unknown as Doc<"auth0UserTombstones">;
    moving.deletedAt = trustedDeletionTime(tombstone, Date.now());
  }
  // The generic table's document type is not resolved here; `moving` is a row of that table.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const db = ctx.db as any;
  if (!twin) {
    await db.insert(table, moving);
  } else {
    const merged = MERGE[table](fieldsOf(twin as unknown as Fields), moving);
    if (merged) await db.replace(table, twin._id, merged);
  }
  await db.delete(legacyName(table), row._id);
  /* eslint-enable @typescript-eslint/no-explicit-any */
  return twin ? "merged" : "moved";
}

/**
 * Why `row` (read under the 0.1 name of `table`) is not a row of the module, or null when it is:
 * the module's fields with the module's validators (fields the app added are not checked here;
 * the app's schema checks them when the row is inserted).
 */
export function notModuleRow(table: RenamedTable, row: Fields): string | null {
  try {
    validate(auth0Tables[table].validator, fieldsOf(row), {
      throw: true,
      allowUnknownFields: true,
    });
    return null;
  } catch (err) {
    return describeValidationError(err);
  }
}
