/**
 * The scheduler a Convex deployment runs and convex-test lacks: the jobs of `convex/crons.ts`
 * (what `init` writes; `registerCrons` adds the module's), run against the local Convex host's
 * functions. `start()` runs them on their schedules, as a deployment does, until `stop()`;
 * `run(name)` runs one now (the demo and the tests do not wait for the minute). As on Convex, a
 * job still running when its next time comes is skipped, and a failed run is logged.
 */
import { makeFunctionReference, type Crons } from "convex/server";
import type { JSONValue } from "convex/values";
import { convexModules, type ConvexTestInstance } from "./localConvex";

type Kind = "query" | "mutation" | "action";
type CronJob = Crons["crons"][string];
type Schedule = CronJob["schedule"];

export interface LocalCrons {
  /** The job names declared in `convex/crons.ts`. */
  names: string[];
  /** Runs the job `name` now and resolves with what its function returned. */
  run(name: string): Promise<unknown>;
  /** Runs every job on its schedule (timers that do not keep the process alive). */
  start(): void;
  stop(): void;
}

/** Milliseconds from `now` to the job's next time; undefined for a schedule not run here. */
export function nextRunIn(schedule: Schedule, now: number): number | undefined {
  if (schedule.type === "interval") {
    const s = schedule as { seconds?: number; minutes?: number; hours?: number };
    return ((s.seconds ?? 0) + (s.minutes ?? 0) * 60 + (s.hours ?? 0) * 3600) * 1000;
  }
  const at = new Date(now);
  at.setUTCSeconds(0, 0);
  if (schedule.type === "hourly") {
    at.setUTCMinutes(schedule.minuteUTC ?? 0);
    if (at.getTime() <= now) at.setUTCHours(at.getUTCHours() + 1);
    return at.getTime() - now;
  }
  if (schedule.type === "daily") {
    at.setUTCHours(schedule.hourUTC, schedule.minuteUTC ?? 0);
    if (at.getTime() <= now) at.setUTCDate(at.getUTCDate() + 1);
    return at.getTime() - now;
  }
  return undefined;
}

/** Whether the function at `path` ("file:export") is a query, a mutation or an action. */
async function kindOf(modules: Record<string, () => Promise<unknown>>, path: string) {
  const [file, exportName = "default"] = path.split(":");
  const key = Object.keys(modules).find(
    (k) => /^(.*)\.(ts|js)$/.exec(k)?.[1] === `./convex/${file}`,
  );
  const fn = key
    ? ((await modules[key]()) as Record<string, Record<string, unknown> | undefined>)[exportName]
    : undefined;
  const kind = (["query", "mutation", "action"] as const).find(
    (k) => fn?.[`is${k[0].toUpperCase()}${k.slice(1)}`] === true,
  );
  if (!kind) throw new Error(`convex/crons.ts schedules ${path}, which is not a Convex function`);
  return kind;
}

/** Reads `convex/crons.ts` and prepares its jobs against `t`. */
export async function localCrons(t: ConvexTestInstance): Promise<LocalCrons> {
  const modules = convexModules();
  const key = Object.keys(modules).find((k) => /^\.\/convex\/crons\.(ts|js)$/.test(k));
  const jobs: Record<string, CronJob> = key
    ? ((await modules[key]()) as { default: Crons }).default.crons
    : {};
  for (const [name, job] of Object.entries(jobs)) {
    if (nextRunIn(job.schedule, Date.now()) === undefined) {
      throw new Error(
        `the local scheduler runs interval, hourly and daily jobs; "${name}" is ${job.schedule.type}`,
      );
    }
  }
  const kinds = new Map<string, Kind>();
  for (const job of Object.values(jobs)) kinds.set(job.name, await kindOf(modules, job.name));
  const running = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();

  async function run(name: string): Promise<unknown> {
    const job = jobs[name];
    if (!job) throw new Error(`convex/crons.ts has no job "${name}"`);
    // A job's args are stored as `[args]`, the function's one argument.
    const args = ((job.args as JSONValue[] | null)?.[0] ?? {}) as Record<string, JSONValue>;
    const kind = kinds.get(job.name)!;
    running.add(name);
    try {
      if (kind === "query") return await t.query(makeFunctionReference<"query">(job.name), args);
      if (kind === "mutation") {
        return await t.mutation(makeFunctionReference<"mutation">(job.name), args);
      }
      return await t.action(makeFunctionReference<"action">(job.name), args);
    } finally {
      running.delete(name);
    }
  }

  function schedule(name: string) {
    const wait = nextRunIn(jobs[name].schedule, Date.now())!;
    const timer = setTimeout(() => {
      // Convex skips a run whose previous one is still going.
      if (!running.has(name)) {
        run(name).catch((err: unknown) =>
          console.error(`cron "${name}" failed: ${err instanceof Error ? err.message : err}`),
        );
      }
      if (timers.has(name)) schedule(name);
    }, wait);
    timer.unref();
    timers.set(name, timer);
  }

  return {
    names: Object.keys(jobs),
    run,
    start() {
      for (const name of Object.keys(jobs)) if (!timers.has(name)) schedule(name);
    },
    stop() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
