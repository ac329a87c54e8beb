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

export default crons;
