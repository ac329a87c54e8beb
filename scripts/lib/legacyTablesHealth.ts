/**
 * Reads where the move from the 0.1 table names stands (`auth0.legacyTablesStatus`, sent by the
 * sync status route as `legacyTables`; see server/legacy/migration.ts) for people: the doctor's
 * check, which says what to do next, up to "the old tables are empty: remove them".
 */

/** `auth0.legacyTablesStatus` as the status route sends it. */
export interface LegacyTablesStatus {
  variable: "unset" | "migrate" | "invalid";
  schemaDeclared: boolean | null;
  migration: {
    startedAt: number;
    updatedAt: number;
    finishedAt: number | null;
    moved: number;
    merged: number;
    blocked: { table: string; id: string; reason: string } | null;
  } | null;
  tables: {
    table: string;
    legacyTable: string;
    rows: number;
    more: boolean;
    moduleRows: boolean;
  }[];
}

const SETUP =
  "add `...auth0LegacyTables` (from convex-auth0-users/server) to defineSchema({ … }) in convex/schema.ts, run `npx convex env set AUTH0_LEGACY_TABLES migrate`, deploy, then `npx convex run auth0:migrateLegacyTables` (docs/upgrading.md)";
const REMOVE =
  "remove `...auth0LegacyTables` from convex/schema.ts and run `npx convex env remove AUTH0_LEGACY_TABLES` (in either order), then deploy";

function isStatus(value: unknown): value is LegacyTablesStatus {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as { tables?: unknown }).tables) &&
    typeof (value as { variable?: unknown }).variable === "string"
  );
}

const counted = (t: LegacyTablesStatus["tables"][number]) =>
  `${t.legacyTable} (${t.more ? "at least " : ""}${t.rows} row${t.rows === 1 ? "" : "s"})`;

/**
 * The verdict: `fail` when rows of 0.1 are not read (or the migration is blocked), `warn` while
 * something is left to do (rows to move, old tables to remove), `pass` when nothing is left.
 */
export function judgeLegacyTables(status: unknown): {
  status: "pass" | "fail" | "skip" | "warn";
  detail: string;
} {
  if (!isStatus(status)) {
    return { status: "skip", detail: "this deployment does not report it (deploy convex/ again)" };
  }
  const held = status.tables.filter((t) => t.rows > 0);
  const ours = held.filter((t) => t.moduleRows);
  const theirs = held.filter((t) => !t.moduleRows).map((t) => t.legacyTable);
  const appOwn =
    theirs.length > 0
      ? ` (${theirs.join(", ")}: your app's own table${theirs.length > 1 ? "s" : ""}, not the module's rows)`
      : "";
  if (status.variable === "invalid") {
    return {
      status: "fail",
      detail:
        'AUTH0_LEGACY_TABLES is set to something other than "migrate": the module refuses to guess whether the 0.1 tables exist. Set it to migrate (npx convex env set AUTH0_LEGACY_TABLES migrate) or remove it',
    };
  }
  if (status.variable === "unset") {
    if (ours.length > 0) {
      return {
        status: "fail",
        detail: `${ours.map(counted).join(", ")} hold rows of convex-auth0-users 0.1 that the module no longer reads (its tables are now ${ours.map((t) => t.table).join(", ")}): ${SETUP}`,
      };
    }
    return { status: "pass", detail: `no rows under the 0.1 table names${appOwn}` };
  }
  const m = status.migration;
  if (status.schemaDeclared === false && !m?.finishedAt) {
    return {
      status: "fail",
      detail:
        "AUTH0_LEGACY_TABLES is migrate but convex/schema.ts does not declare the 0.1 tables with their indexes, so the module's reads of them fail (logins included): add `...auth0LegacyTables` (from convex-auth0-users/server) to defineSchema({ … }) and deploy, or remove AUTH0_LEGACY_TABLES if this deployment never ran 0.1",
    };
  }
  if (m?.blocked) {
    return {
      status: "fail",
      detail: `the migration stopped at ${m.blocked.table} ${m.blocked.id}, which is not a row of convex-auth0-users (${m.blocked.reason}): if that table is your app's own, remove AUTH0_LEGACY_TABLES and auth0LegacyTables; if the row is the module's, fix or delete it, then npx convex run auth0:migrateLegacyTables`,
    };
  }
  if (ours.length > 0 || theirs.length > 0) {
    const left = held.map(counted).join(", ");
    return {
      status: "warn",
      detail: m
        ? `the migration is under way (${m.moved} rows moved, ${m.merged} merged so far): ${left} left; each step schedules the next, and the hourly cron resumes it (npx convex run auth0:migrateLegacyTables to run one now). The module reads both names meanwhile`
        : `not started: ${left} left under the 0.1 names; run npx convex run auth0:migrateLegacyTables (the hourly cron starts it too). The module reads both names meanwhile`,
    };
  }
  if (!m || m.finishedAt === null) {
    return {
      status: "warn",
      detail:
        "the 0.1 tables are empty, but the migration has not recorded that it finished: run npx convex run auth0:migrateLegacyTables once, then the module stops reading them",
    };
  }
  return {
    status: "warn",
    detail: `the 0.1 tables are empty (the migration finished on ${new Date(m.finishedAt).toISOString()}: ${m.moved} rows moved, ${m.merged} merged) and can be removed: ${REMOVE}`,
  };
}
