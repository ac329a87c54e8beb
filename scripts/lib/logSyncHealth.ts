/**
 * Reads the log sync's health (`auth0.logSyncHealth`, sent by the sync status route as `logSync`) for
 * people: check-sync's summary prints it and the doctor turns it into a check. One wording for both.
 */

/** `auth0.logSyncHealth` as the status route sends it (see server/logSync/logSync.ts). */
export interface LogSyncHealth {
  configured: boolean;
  running: boolean;
  checkpoint: string | null;
  checkpointDate: number | null;
  lagMs: number | null;
  lastRunAt: number | null;
  lastSuccessAt: number | null;
  lastRunUsersRefetched: number;
  lastRunLogEvents: number;
  usersRefetchedTotal: number;
  consecutiveErrors: number;
  lastError: { at: number; message: string } | null;
  stopped: { at: number; reason: string } | null;
  fullReconcileNeeded: { since: number; reason: string } | null;
}

/** A run is expected every minute: past this without a success, the sync is behind. */
export const STALE_AFTER_MS = 5 * 60_000;

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** Whether `value` looks like {@link LogSyncHealth} (a deployment before the log sync sends none). */
export function isLogSyncHealth(value: unknown): value is LogSyncHealth {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { configured?: unknown }).configured === "boolean"
  );
}

/** The verdict on the log sync: `skip` when off, `fail` with what to do, else `pass`. */
export function judgeLogSync(
  health: unknown,
  now = Date.now(),
): { status: "pass" | "fail" | "skip"; detail: string } {
  if (!isLogSyncHealth(health)) {
    return { status: "skip", detail: "this deployment has no log sync (deploy convex/ again)" };
  }
  const h = health;
  if (!h.configured) {
    return {
      status: "skip",
      detail:
        "off: set AUTH0_LOGS_CLIENT_ID and AUTH0_LOGS_CLIENT_SECRET in Convex to turn it on (docs/log-sync.md)",
    };
  }
  if (h.stopped) {
    return { status: "fail", detail: `stopped since ${iso(h.stopped.at)}: ${h.stopped.reason}` };
  }
  if (h.lastRunAt === null) {
    return {
      status: "fail",
      detail:
        "configured, but the cron has not run yet: deploy convex/ (crons.ts) and wait a minute",
    };
  }
  if (h.consecutiveErrors > 0 && h.lastError) {
    const since =
      h.lastSuccessAt === null ? "never succeeded" : `last success ${iso(h.lastSuccessAt)}`;
    if (h.lastSuccessAt === null || now - h.lastSuccessAt > STALE_AFTER_MS) {
      return {
        status: "fail",
        detail: `${h.consecutiveErrors} failed run(s) in a row (${since}): ${h.lastError.message}`,
      };
    }
  }
  if (h.lastSuccessAt !== null && now - h.lastSuccessAt > STALE_AFTER_MS) {
    return {
      status: "fail",
      detail: `no successful run since ${iso(h.lastSuccessAt)}: is the deployment's cron running?`,
    };
  }
  if (h.lagMs !== null && h.lagMs > STALE_AFTER_MS) {
    return {
      status: "fail",
      detail: `${seconds(h.lagMs)} behind the newest log event: the tenant changes faster than the sync reads (rate limits?)`,
    };
  }
  if (h.fullReconcileNeeded) {
    return {
      status: "fail",
      detail: `asks for a full reconcile since ${iso(h.fullReconcileNeeded.since)}: ${h.fullReconcileNeeded.reason}`,
    };
  }
  return { status: "pass", detail: summary(h) };
}

function summary(h: LogSyncHealth): string {
  const upTo =
    h.checkpointDate === null
      ? "no checkpoint yet"
      : `changes up to ${iso(h.checkpointDate)} applied`;
  const lag = h.lagMs === null ? "" : `, lag ${seconds(h.lagMs)}`;
  return `${upTo}${lag}; last run ${h.lastRunAt === null ? "never" : iso(h.lastRunAt)}: ${h.lastRunLogEvents} log event(s), ${h.lastRunUsersRefetched} user(s) refetched (${h.usersRefetchedTotal} in all)`;
}

/** The summary lines check-sync prints about the log sync. */
export function logSyncLines(health: unknown, now = Date.now()): string[] {
  if (!isLogSyncHealth(health)) return [];
  const verdict = judgeLogSync(health, now);
  if (verdict.status === "skip") return [`  Log sync: ${verdict.detail}`];
  const lines = [`  Log sync: ${summary(health)}`];
  if (verdict.status === "fail") lines.push(`  Warning: log sync ${verdict.detail}`);
  return lines;
}
