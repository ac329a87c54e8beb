/**
 * cron-sync's log: JSON lines appended to `logs/auth0-sync-YYYY-MM-DD.log` (the UTC date the run
 * started). Each line has `at` and `event` (start, counts, change, error, end). A change names the
 * user and the fields, never their values: the log must not become a copy of the profiles.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export interface RunLog {
  path: string;
  write(event: string, fields?: Record<string, unknown>): void;
}

/** Opens today's log under `dir` (default `logs/` in the working directory). */
export function openRunLog(dir = resolve(process.cwd(), "logs"), now = new Date()): RunLog {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `auth0-sync-${now.toISOString().slice(0, 10)}.log`);
  return {
    path,
    write(event, fields = {}) {
      // Synchronous: a line is on disk before the run goes on, even if it is killed next.
      appendFileSync(
        path,
        `${JSON.stringify({ at: new Date().toISOString(), event, ...fields })}\n`,
        {
          mode: 0o600,
        },
      );
    },
  };
}
