/**
 * Moves the rows a 0.1 deployment stored under the module's old table names into the renamed
 * tables (see server/legacy/tables.ts for how the module reads both meanwhile). An upgrading app
 * spreads `auth0LegacyTables` into its schema, sets `AUTH0_LEGACY_TABLES=migrate`, deploys, and
 * runs `npx convex run auth0:migrateLegacyTables` (the module's hourly cron runs it too):
 *
 * - Each step moves rows in table order while the transaction's planned budget lasts (it asks
 *   `ctx.meta.getTransactionMetrics()` before each row), then schedules the next step. Moving
 *   deletes the old row, so a step always starts from what is left: stopping anywhere, or two
 *   steps at once (Convex serializes them), loses and repeats nothing.
 * - A row whose key the new table already holds is merged into it (server/legacy/tables.ts).
 * - A row that is not the module's shape is not moved: the migration reports it (`blocked`) and
 *   moves the other tables; a person decides what it is.
 * - Once nothing is left it records `finishedAt`: the module stops reading the old names, and
 *   `auth0:legacyTablesStatus` (the doctor) says to remove `auth0LegacyTables`.
 */
import { v, type Infer } from "convex/values";
import { internal } from "../api";
import { internalMutation, internalQuery, type MutationCtx } from "../builders";
import {
  LEGACY_MIGRATION,
  LEGACY_TABLE_NAMES,
  LEGACY_TABLES_VARIABLE,
  legacyIndexesDeclared,
  legacyName,
  legacyTablesDeclared,
  migrationRow,
  moveNeed,
  moveRow,
  notModuleRow,
  RENAMED_TABLES,
} from "./tables";
import { budgetLeft, takeWithinBudget } from "../limits";

const blockedRow = v.object({ table: v.string(), id: v.string(), reason: v.string() });

const progress = v.object({
  state: v.union(v.literal("off"), v.literal("running"), v.literal("done"), v.literal("blocked")),
  /** Rows this step moved, and merged into a row the new table held for the same key. */
  moved: v.number(),
  merged: v.number(),
  /** Since the migration started. */
  totalMoved: v.number(),
  totalMerged: v.number(),
  blocked: v.optional(blockedRow),
  /** What happens next, for a person. */
  message: v.string(),
});
export type LegacyMigrationProgress = Infer<typeof progress>;

const DONE_MESSAGE =
  "nothing is left under the 0.1 table names: remove `...auth0LegacyTables` from convex/schema.ts and unset AUTH0_LEGACY_TABLES (npx convex env remove AUTH0_LEGACY_TABLES), in either order";

/** One step of the migration (see the file's comment). `background: false` (the reconcile's
 * routes drive the steps themselves) schedules no next step. */
export const migrateLegacyTables = internalMutation({
  args: { background: v.optional(v.boolean()) },
  returns: progress,
  handler: async (ctx, { background = true }): Promise<LegacyMigrationProgress> => {
    if (!legacyTablesDeclared()) {
      return {
        state: "off",
        moved: 0,
        merged: 0,
        totalMoved: 0,
        totalMerged: 0,
        message: `${LEGACY_TABLES_VARIABLE} is not set: nothing is read or moved under the 0.1 table names. Set it to "migrate" only when this deployment holds rows of convex-auth0-users 0.1 and the schema spreads auth0LegacyTables`,
      };
    }
    const step = await moveWhatFits(ctx);
    const now = Date.now();
    const row = await migrationRow(ctx.db);
    const totalMoved = (row?.moved ?? 0) + step.moved;
    const totalMerged = (row?.merged ?? 0) + step.merged;
    const finished = !step.stopped && !step.blocked;
    if (!row) {
      await ctx.db.insert("auth0Migrations", {
        name: LEGACY_MIGRATION,
        startedAt: now,
        updatedAt: now,
        moved: totalMoved,
        merged: totalMerged,
        ...(finished ? { finishedAt: now } : {}),
        ...(step.blocked ? { blocked: step.blocked } : {}),
      });
    } else if (
      step.moved + step.merged > 0 ||
      finished !== (row.finishedAt !== undefined) ||
      JSON.stringify(step.blocked) !== JSON.stringify(row.blocked)
    ) {
      await ctx.db.patch("auth0Migrations", row._id, {
        updatedAt: now,
        moved: totalMoved,
        merged: totalMerged,
        finishedAt: finished ? (row.finishedAt ?? now) : undefined,
        blocked: step.blocked,
      });
    }
    const counts = { moved: step.moved, merged: step.merged, totalMoved, totalMerged };
    if (step.stopped) {
      // Another step only when this one got somewhere: foreign rows are not re-read forever.
      const next = background && step.moved + step.merged > 0;
      if (next) await ctx.scheduler.runAfter(0, internal.auth0.migrateLegacyTables, {});
      return {
        state: "running",
        ...counts,
        ...(step.blocked ? { blocked: step.blocked } : {}),
        message: next
          ? "more rows are left: the next step is scheduled"
          : "more rows are left: run it again",
      };
    }
    if (step.blocked) {
      const b = step.blocked;
      console.warn(
        `auth0:migrateLegacyTables: ${b.table} ${b.id} is not a row of convex-auth0-users (${b.reason}); it stays`,
      );
      return {
        state: "blocked",
        ...counts,
        blocked: b,
        message: `${b.table} holds a row that is not the module's (${b.id}: ${b.reason}): the migration does not move it. If the table is your app's own, unset ${LEGACY_TABLES_VARIABLE} and drop auth0LegacyTables; if the row is the module's, fix or delete it and run auth0:migrateLegacyTables again`,
      };
    }
    if (finished && (!row || row.finishedAt === undefined)) {
      console.log(
        `auth0:migrateLegacyTables done: ${totalMoved} rows moved, ${totalMerged} merged`,
      );
    }
    return { state: "done", ...counts, message: DONE_MESSAGE };
  },
});

/**
 * Rows one step moves at most: each move costs up to 4 index ranges in production (the scan's
 * share, the key lookup, the write's and the delete's reads), so 500 keep a step near half of the
 * 4,096 whatever the metrics say.
 */
export const MIGRATION_STEP_ROWS = 500;

/** Moves rows, table by table, while the budget lasts; skips a table at its first foreign row. */
async function moveWhatFits(ctx: MutationCtx): Promise<{
  moved: number;
  merged: number;
  stopped: boolean;
  blocked?: Infer<typeof blockedRow>;
}> {
  let moved = 0;
  let merged = 0;
  let blocked: Infer<typeof blockedRow> | undefined;
  for (const table of RENAMED_TABLES) {
    // A full scan in creation order: no index needed, so it works whatever the schema declares.
    for await (const row of ctx.db.query(legacyName(table))) {
      if (moved + merged >= MIGRATION_STEP_ROWS || !(await budgetLeft(ctx, moveNeed(table)))) {
        return { moved, merged, stopped: true, blocked };
      }
      const reason = notModuleRow(table, row as unknown as Record<string, unknown>);
      if (reason !== null) {
        blocked ??= { table: LEGACY_TABLE_NAMES[table], id: row._id, reason };
        break;
      }
      if ((await moveRow(ctx, table, row)) === "moved") moved++;
      else merged++;
    }
  }
  return { moved, merged, stopped: false, blocked };
}

/** Rows counted per table by the status (the figure says "more" past it). */
const STATUS_COUNT_CAP = 1000;

/**
 * Where the migration stands, for the doctor (through the sync status route) and for
 * `npx convex run auth0:legacyTablesStatus`: the variable, the progress row, and per old table
 * how many rows are left (counted up to 1,000 while the variable is set; otherwise only whether
 * its first row has the module's shape, which tells a 0.1 deployment that never set the variable
 * from an app whose own table has that name). Reads the old names by full scan only: it works
 * whether or not the schema declares them.
 */
export const legacyTablesStatus = internalQuery({
  args: {},
  returns: v.object({
    variable: v.union(v.literal("unset"), v.literal("migrate"), v.literal("invalid")),
    migration: v.union(
      v.null(),
      v.object({
        startedAt: v.number(),
        updatedAt: v.number(),
        finishedAt: v.union(v.number(), v.null()),
        moved: v.number(),
        merged: v.number(),
        blocked: v.union(blockedRow, v.null()),
      }),
    ),
    /** With the variable set: whether the schema declares every old table with its indexes
     * (`auth0LegacyTables`); the module's reads fail until it does. Null otherwise. */
    schemaDeclared: v.union(v.boolean(), v.null()),
    tables: v.array(
      v.object({
        table: v.string(),
        legacyTable: v.string(),
        /** Rows left (at least this many when `more`). */
        rows: v.number(),
        more: v.boolean(),
        /** Its first row has the module's fields: rows of convex-auth0-users 0.1. */
        moduleRows: v.boolean(),
      }),
    ),
  }),
  handler: async (ctx) => {
    let variable: "unset" | "migrate" | "invalid";
    try {
      variable = legacyTablesDeclared() ? "migrate" : "unset";
    } catch {
      variable = "invalid";
    }
    const row = await migrationRow(ctx.db);
    const tables = [];
    for (const table of RENAMED_TABLES) {
      const first = await ctx.db.query(legacyName(table)).first();
      const sample =
        variable === "migrate" && first
          ? await takeWithinBudget(ctx, ctx.db.query(legacyName(table)), STATUS_COUNT_CAP)
          : { rows: first ? [first] : [], more: first !== null && variable !== "migrate" };
      tables.push({
        table,
        legacyTable: LEGACY_TABLE_NAMES[table],
        rows: sample.rows.length,
        more: sample.more,
        moduleRows:
          first !== null &&
          notModuleRow(table, first as unknown as Record<string, unknown>) === null,
      });
    }
    let schemaDeclared: boolean | null = null;
    if (variable === "migrate") {
      schemaDeclared = true;
      for (const table of RENAMED_TABLES) {
        if (!(await legacyIndexesDeclared(ctx.db, table))) schemaDeclared = false;
      }
    }
    return {
      variable,
      schemaDeclared,
      migration: row
        ? {
            startedAt: row.startedAt,
            updatedAt: row.updatedAt,
            finishedAt: row.finishedAt ?? null,
            moved: row.moved,
            merged: row.merged,
            blocked: row.blocked ?? null,
          }
        : null,
      tables,
    };
  },
});
