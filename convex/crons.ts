import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Event records and tombstones are kept RETENTION_DAYS (convex/events.ts); pruning hourly keeps
// the tables within an hour of that. Each run deletes a bounded batch and reschedules itself.
crons.hourly(
  "prune Auth0 event records and tombstones",
  { minuteUTC: 17 },
  internal.events.prune,
  {},
);

// The tenant-log sync (convex/logSync.ts): returns at once unless AUTH0_LOGS_CLIENT_ID and
// AUTH0_LOGS_CLIENT_SECRET are set; runs never overlap (a lease) and each stays under a minute.
crons.interval("sync users from the Auth0 tenant log", { minutes: 1 }, internal.logSync.run, {});

export default crons;
