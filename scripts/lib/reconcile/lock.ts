/**
 * One cron-sync at a time: a lock file holding the owner's pid. A lock whose process is gone (a
 * run killed or a machine rebooted) is stale and taken over.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

export type LockResult =
  { acquired: true; release(): Promise<void> } | { acquired: false; owner: LockOwner };

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
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): signal 0 succeeded, so it runs
  }
}

/** Takes the lock at `path`, or reports who holds it. */
export async function acquireLock(path: string): Promise<LockResult> {
  await mkdir(dirname(path), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      let released = false;
      return {
        acquired: true,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => {});
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let owner: LockOwner | undefined;
    try {
      owner = JSON.parse(await readFile(path, "utf8")) as LockOwner;
    } catch {
      owner = undefined; // unreadable or half-written: treat as stale
    }
    const stale =
      !owner || !Number.isInteger(owner.pid) || (owner.host === me.host && !alive(owner.pid));
    if (!stale) return { acquired: false, owner: owner! };
    await unlink(path).catch(() => {});
  }
  throw new Error(`could not take the lock ${path}`);
}
