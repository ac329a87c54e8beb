/**
 * The module's scheduled jobs, added to the app's `convex/crons.ts`: `registerCrons(crons)`.
 */
import type { Crons } from "convex/server";
import { internal } from "./api";

/** Adds the event pruning (hourly) and the tenant-log sync (every minute) to `crons`. */
export function registerCrons(crons: Crons): void {
  // Event records and tombstones are kept RETENTION_DAYS (server/events.ts); pruning hourly keeps
  // the tables within an hour of that. Each run deletes a bounded batch and reschedules itself.
  crons.hourly(
    "prune Auth0 event records and tombstones",
    { minuteUTC: 17 },
    internal.auth0.pruneEvents,
    {},
  );
  // The tenant-log sync (server/logSync.ts): returns at once unless AUTH0_LOGS_CLIENT_ID and
  // AUTH0_LOGS_CLIENT_SECRET are set; runs never overlap (a lease) and each stays under a minute.
  crons.interval(
    "sync users from the Auth0 tenant log",
    { minutes: 1 },
    internal.auth0.logSyncRun,
    {},
  );
}
