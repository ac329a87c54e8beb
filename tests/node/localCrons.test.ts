/**
 * The local scheduler the sandbox runs convex/crons.ts with (convex-test has none): each job's
 * next time as a deployment computes it, each job's function called as the kind it is, and the
 * timers actually starting runs (without which `npm run sandbox`'s log sync would go stale).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import schema from "../../convex/schema";
import { internal } from "../../convex/_generated/api";
import { convexModules } from "../../scripts/lib/localConvex";
import { localCrons, nextRunIn } from "../../scripts/lib/localCrons";
import { LOG_SYNC_JOB } from "../../scripts/lib/sandbox";

const newConvex = () => convexTest({ schema, modules: convexModules(), transactionLimits: true });

const saved = { ...process.env };
beforeEach(() => {
  for (const name of ["AUTH0_LOGS_CLIENT_ID", "AUTH0_LOGS_CLIENT_SECRET", "AUTH0_DOMAIN"]) {
    delete process.env[name];
  }
});
afterEach(() => {
  vi.useRealTimers();
  process.env = { ...saved };
});

describe("nextRunIn", () => {
  const at = Date.parse("2026-03-01T10:16:30.000Z");
  test("an interval runs every period; hourly and daily at their next UTC time", () => {
    expect(nextRunIn({ type: "interval", minutes: 1 }, at)).toBe(60_000);
    expect(nextRunIn({ type: "interval", seconds: 30 }, at)).toBe(30_000);
    expect(nextRunIn({ type: "hourly", minuteUTC: 17 }, at)).toBe(30_000);
    expect(nextRunIn({ type: "hourly", minuteUTC: 16 }, at)).toBe(3_570_000);
    expect(nextRunIn({ type: "daily", hourUTC: 10, minuteUTC: 0 }, at)).toBe(
      Date.parse("2026-03-02T10:00:00.000Z") - at,
    );
  });

  test("a cron expression is not run here (the sandbox refuses it rather than skip it)", () => {
    expect(nextRunIn({ type: "cron", cron: "* * * * *" }, at)).toBeUndefined();
  });
});

describe("localCrons on convex/crons.ts", () => {
  test("lists the module's jobs and runs the log sync (an action) and the pruning (a mutation)", async () => {
    const crons = await localCrons(newConvex());
    expect(crons.names).toContain(LOG_SYNC_JOB);
    // Without its variables the log sync is off: the action ran and said so.
    expect(await crons.run(LOG_SYNC_JOB)).toMatchObject({ status: "off", managementCalls: 0 });
    expect(await crons.run("prune Auth0 event records and tombstones")).toEqual({
      events: 0,
      tombstones: 0,
      more: false,
    });
    await expect(crons.run("no such job")).rejects.toThrow(/no job "no such job"/);
  });

  test("start() runs the log sync a minute later, as the deployment's scheduler does", async () => {
    const t = newConvex();
    const crons = await localCrons(t);
    // Configured against a tenant nobody serves: the run is recorded, with its error.
    Object.assign(process.env, {
      AUTH0_DOMAIN: "127.0.0.1:1",
      AUTH0_LOGS_CLIENT_ID: "log-sync",
      AUTH0_LOGS_CLIENT_SECRET: "not-a-real-secret",
    });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    crons.start();
    const health = () => t.query(internal.auth0.logSyncHealth, {});
    vi.advanceTimersByTime(59_000);
    expect((await health()).lastRunAt).toBeNull();
    vi.advanceTimersByTime(1_000);
    vi.useRealTimers();
    await vi.waitFor(async () => expect((await health()).lastError).not.toBeNull(), {
      timeout: 10_000,
    });
    crons.stop();
  });
});
