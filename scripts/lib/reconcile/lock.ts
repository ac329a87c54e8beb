/**
 * One cron-sync at a time: a lock file created atomically with its whole content (written to a
 * private file, then hard-linked to the lock's name: `link` fails if the name exists), holding
 * the owner's pid, host, a random token and the time its run must have ended by. Only the owner
 * (same token) removes it.
 *
 * A lock is stale when its owner is a dead process on this host, or when its run's deadline has
 * passed (cron-sync stops itself at that deadline, so no live run holds an expired lock: this is
 * how a lock left by a dead process on another host, a replaced container say, is taken over), or
 * when the operator says so (`--break-lock`). A stale lock is removed only while holding a second
 * lock, `<lock>.break`, and only if it still holds the very content judged stale: two processes
 * finding the same stale lock can never both take it.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { link, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  /** When the owner's run is over at the latest (ISO); after it, the lock is stale. */
  expiresAt: string;
  token: string;
}

export type LockResult =
  | { acquired: true; owner: LockOwner; release(): Promise<void> }
  | { acquired: false; owner: LockOwner | undefined };

/** A `.break` file older than this was left by a process that died while breaking a lock. */
const BREAK_STALE_MS = 30_000;
/** Clocks of two hosts may differ: an expired lock is taken over this much later. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Whether `pid` is a running process. A zombie (dead, not yet reaped) holds no lock. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // Linux: the state follows the parenthesized command name in /proc/<pid>/stat.
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): signal 0 succeeded, so it runs
  }
}

/** Creates `path` holding `content`, atomically: false when the name is taken. */
async function createWith(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, content, { mode: 0o600, flag: "wx" });
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Runs before deadlines were recorded: assumed over this long after they started. */
const LEGACY_MAX_RUN_MS = 2 * 3_600_000;

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (!Number.isInteger(o.pid) || typeof o.host !== "string") return undefined;
    const started = Date.parse(String(o.startedAt));
    return {
      pid: o.pid!,
      host: o.host,
      startedAt: String(o.startedAt),
      // A lock written by an earlier version has no deadline or token.
      expiresAt:
        typeof o.expiresAt === "string"
          ? o.expiresAt
          : new Date((Number.isFinite(started) ? started : 0) + LEGACY_MAX_RUN_MS).toISOString(),
      token: typeof o.token === "string" ? o.token : "",
    };
  } catch {
    return undefined;
  }
}

/** Why a lock may be taken over, or undefined while its owner may still run. */
export function staleReason(
  owner: LockOwner | undefined,
  now: number,
  me: string,
): string | undefined {
  // Content is complete from the start (created by link), so unreadable means foreign junk.
  if (!owner) return "unreadable lock file";
  if (owner.host === me && !alive(owner.pid)) return `pid ${owner.pid} is gone`;
  const expires = Date.parse(owner.expiresAt);
  if (!Number.isFinite(expires)) return "lock without a deadline";
  if (now > expires + CLOCK_SKEW_MS) return `its run's deadline ${owner.expiresAt} has passed`;
  return undefined;
}

/**
 * Removes the lock at `path` if it still holds exactly `judged`, under the `.break` lock.
 * Returns false when another process is breaking it at the same time.
 */
async function breakLock(path: string, judged: string): Promise<boolean> {
  const breakPath = `${path}.break`;
  const token = randomBytes(12).toString("hex");
  if (!(await createWith(breakPath, token))) {
    // A breaker that died mid-way leaves its file: old enough, it is removed (then retried).
    const info = await stat(breakPath).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > BREAK_STALE_MS) await rm(breakPath, { force: true });
    return false;
  }
  try {
    if ((await readText(path)) === judged) await rm(path, { force: true });
  } finally {
    if ((await readText(breakPath)) === token) await rm(breakPath, { force: true });
  }
  return true;
}

/**
 * Takes the lock at `path` for a run that ends by `maxRunMs` from now, or reports who holds it.
 * `force` takes over a lock whatever its state (`--break-lock`: only when its holder is known to
 * be dead).
 */
export async function acquireLock(
  path: string,
  opts: { maxRunMs: number; force?: boolean },
): Promise<LockResult> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const now = Date.now();
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + opts.maxRunMs).toISOString(),
    token: randomBytes(16).toString("hex"),
  };
  const content = JSON.stringify(me);
  let owner: LockOwner | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createWith(path, content)) {
      let released = false;
      return {
        acquired: true,
        owner: me,
        async release() {
          if (released) return;
          released = true;
          // Only our own lock: one taken over after our deadline belongs to someone else.
          if ((await readText(path)) === content) await rm(path, { force: true });
        },
      };
    }
    const text = await readText(path);
    if (text === undefined) continue; // removed meanwhile: try again
    owner = parseOwner(text);
    const stale =
      opts.force && attempt === 0 ? "--break-lock" : staleReason(owner, Date.now(), me.host);
    if (!stale) return { acquired: false, owner };
    if (!(await breakLock(path, text))) {
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 50));
    }
  }
  return { acquired: false, owner };
}
