/**
 * The log sync's health where people read it: `npm run check-sync` (a child process, through the
 * signed sync status route of a local Convex host) prints it in its summary and its JSON.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";

let tenant: Tenant;
beforeEach(async () => {
  tenant = await startTenant();
  await tenant.seedInSync(3);
});
afterEach(async () => {
  delete process.env.AUTH0_LOGS_CLIENT_ID;
  delete process.env.AUTH0_LOGS_CLIENT_SECRET;
  await tenant.close();
});

describe("check-sync reports the log sync", () => {
  test("off: says how to turn it on", async () => {
    const run = await tenant.run("check-sync");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /Log sync: off: set AUTH0_LOGS_CLIENT_ID and AUTH0_LOGS_CLIENT_SECRET/,
    );
  });

  test("stopped past retention: a warning with what to do, and the figures in --json", async () => {
    // The deployment's variables (the local host runs the functions in this process).
    process.env.AUTH0_LOGS_CLIENT_ID = "log-sync-app";
    process.env.AUTH0_LOGS_CLIENT_SECRET = "log-sync-secret-never-printed";
    const at = Date.now() - 120_000;
    await tenant.convex.t.run(async (ctx) => {
      await ctx.db.insert("auth0LogSyncState", {
        key: "tenant",
        checkpoint: "9002026000000000000000000000000000000000000000000000042",
        checkpointDate: at - 3 * 86_400_000,
        lastRunAt: at,
        lastSuccessAt: at - 3 * 86_400_000,
        stopped: { at, reason: "the checkpoint is past the tenant's log retention" },
        fullReconcileNeeded: {
          since: at,
          reason: "the checkpoint is past the tenant's log retention",
        },
      });
    });
    const text = await tenant.run("check-sync");
    expect(text.stdout).toMatch(/Log sync: changes up to .* applied/);
    expect(text.stdout).toMatch(
      /Warning: log sync stopped since .*past the tenant's log retention/,
    );
    const json = await tenant.run("check-sync", ["--json"]);
    const logSync = (JSON.parse(json.stdout) as { logSync: Record<string, unknown> }).logSync;
    expect(logSync).toMatchObject({ configured: true, checkpointDate: at - 3 * 86_400_000 });
    expect(json.stdout).not.toContain("log-sync-secret-never-printed");
  });
});
