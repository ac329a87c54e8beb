/**
 * The module's scheduled jobs, added to the app's `convex/crons.ts`: `registerCrons(crons)`.
 */
import type { Crons } from "convex/server";
import { internal } from "./api";

/** Adds the event pruning (hourly), the tenant-log sync (every minute) and the move of rows
 * still under the 0.1 table names (hourly) to `crons`. */
export function registerCrons(crons: Crons): void {
  // Event records and tombstones are kept RETENTION_DAYS (server/events/events.ts); pruning hourly keeps
  // the tables within an hour of that. Each run deletes a bounded batch and reschedules itself.
  crons.hourly(
    "prune Auth0 event records and tombstones",
    { minuteUTC: 17 },
    internal.auth0.pruneEvents,
    {},
  );
  // The tenant-log sync (server/logSync/logSync.ts): returns at once unless AUTH0_LOGS_CLIENT_ID and
  // AUTH0_LOGS_CLIENT_SECRET are set; runs never overlap (a lease) and each stays under a minute.
  crons.interval(
    "sync users from the Auth0 tenant log",
    { minutes: 1 },
    internal.auth0.logSyncRun,
    {},
  );
  // An upgrade from 0.1 (server/legacy/migration.ts): returns at once unless AUTH0_LEGACY_TABLES
  // is set; otherwise it starts (or resumes) the migration, whose steps schedule each other.
  crons.hourly(
    "move rows from the 0.1 table names",
    { minuteUTC: 47 },
    internal.auth0.migrateLegacyTables,
    {},
  );
}
