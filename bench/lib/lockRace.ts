/**
 * The cron-sync lock race: N contender processes call acquireLock at the same instant, trial
 * after trial, with no lock, with a stale lock (a dead process of this host) or with an expired
 * lock (a run on another host past its deadline). Exactly one must hold it every time.
 */
import { fork, type ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";

export type Scenario = "none" | "stale" | "expired";

export interface RaceResult {
  scenario: Scenario;
  trials: number;
  contenders: number;
  /** How many trials ended with exactly one holder. */
  exactlyOne: number;
  /** Histogram: holders per trial -> trials. */
  holders: Record<number, number>;
  /** Trials where the lock file on disk was not the holder's. */
  fileMismatch: number;
}

/** A pid that is certainly dead: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])
    .stdout.toString()
    .trim() as unknown as number;
}

/** Runs `trials` races of `contenders` processes for `scenario`. */
export async function lockRace(
  scenario: Scenario,
  trials: number,
  contenders: number,
): Promise<RaceResult> {
  const dir = await mkdtemp(join(tmpdir(), "lock-race-"));
  const path = join(dir, "auth0-sync.lock");
  const worker = resolve(import.meta.dirname, "lockRaceWorker.ts");
  const children: ChildProcess[] = [];
  const replies = new Map<ChildProcess, (msg: Record<string, unknown>) => void>();
  const next = (child: ChildProcess) =>
    new Promise<Record<string, unknown>>((ok) => replies.set(child, ok));
  try {
    for (let i = 0; i < contenders; i++) {
      const child = fork(worker, [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
      child.on("message", (msg) => {
        const reply = replies.get(child);
        replies.delete(child);
        reply?.(msg as Record<string, unknown>);
      });
      children.push(child);
    }
    await Promise.all(children.map(next));
    const result: RaceResult = {
      scenario,
      trials,
      contenders,
      exactlyOne: 0,
      holders: {},
      fileMismatch: 0,
    };
    const dead = Number(deadPid());
    for (let trial = 0; trial < trials; trial++) {
      await rm(path, { force: true });
      const past = new Date(Date.now() - 6 * 3_600_000).toISOString();
      if (scenario === "stale") {
        await writeFile(
          path,
          JSON.stringify({
            pid: dead,
            host: hostname(),
            startedAt: past,
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
            token: "dead",
          }),
        );
      } else if (scenario === "expired") {
        await writeFile(
          path,
          JSON.stringify({
            pid: 1,
            host: "another-host",
            startedAt: past,
            expiresAt: past,
            token: "expired",
          }),
        );
      }
      const at = Date.now() + 60;
      const answers = await Promise.all(
        children.map((child) => {
          const reply = next(child);
          child.send({ type: "go", at, path, maxRunMs: 3_600_000 });
          return reply;
        }),
      );
      const winners = answers.filter((a) => a.acquired === true);
      result.holders[winners.length] = (result.holders[winners.length] ?? 0) + 1;
      if (winners.length === 1) {
        result.exactlyOne++;
        const owner = JSON.parse(await readFile(path, "utf8")) as { pid: number };
        if (owner.pid !== winners[0].pid) result.fileMismatch++;
      }
      await Promise.all(
        children.map((child) => {
          const reply = next(child);
          child.send({ type: "release" });
          return reply;
        }),
      );
    }
    return result;
  } finally {
    for (const child of children) child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}
