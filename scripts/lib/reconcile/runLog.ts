/**
 * cron-sync's log: JSON lines appended to `logs/auth0-sync-YYYY-MM-DD.log` (the UTC date the run
 * started). Each line has `at` and `event` (start, counts, change, error, end). A change names the
 * user and the fields, never their values: the log must not become a copy of the profiles.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";

export interface RunLog {
  path: string;
  write(event: string, fields?: Record<string, unknown>): void;
}

/**
 * Opens today's log under `dir` (default `logs/` in the working directory, made owner-only).
 * The file is opened with O_NOFOLLOW: a symlink planted in its place (to a file the run's user
 * may write) is refused (ELOOP), never written through.
 */
export function openRunLog(dir = resolve(process.cwd(), "logs"), now = new Date()): RunLog {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = join(dir, `auth0-sync-${now.toISOString().slice(0, 10)}.log`);
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  process.once("exit", () => closeSync(fd));
  return {
    path,
    write(event, fields = {}) {
      // Synchronous and synced: a line is on disk before the run goes on, even if killed next.
      writeSync(fd, `${JSON.stringify({ at: new Date().toISOString(), event, ...fields })}\n`);
      fsyncSync(fd);
    },
  };
}
