/**
 * Orphan checks within the deletion cap: when the candidates are more than the cap lets a run
 * delete, sync (where no one can confirm) and cron-sync stop asking Auth0 about them once the
 * deletion is proven over the cap, say how many were left unchecked, and delete nothing;
 * check-sync still checks every one. ~15 s.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { MIN_ORPHAN_CHECKS } from "../../scripts/lib/reconcile/run";

let tenant: Tenant | undefined;
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
});

/** 20 users in sync and 60 rows whose users are gone: the default cap allows 8 (10% of 80). */
async function manyCandidates() {
  const t = (tenant = await startTenant());
  await t.seedInSync(20);
  for (let i = 0; i < 60; i++) {
    const gone = t.emulator.seedUser({ user_id: `auth0|gone-${i}` });
    await t.insertRow(gone);
    t.emulator.removeUser(gone.user_id);
  }
  return t;
}

const defaultCap = { SYNC_MAX_DELETION_PERCENT: undefined };
/** The orphan checks Auth0 answered since `from` (a 429, retried by the SDK, is not a check). */
const checks = (t: Tenant, from: number) =>
  t.emulator.requests
    .slice(from)
    .filter((q) => q.path.startsWith("/api/v2/users/auth0%7Cgone") && q.status !== 429);

test("cron-sync stops checking once the deletion is over the cap, says how many are unchecked, deletes nothing; check-sync checks all", async () => {
  const t = await manyCandidates();
  // A few in flight when the proof is complete still finish (four at a time).
  const atMost = MIN_ORPHAN_CHECKS + 4;

  let from = t.emulator.requests.length;
  const cron = await t.run("cron-sync", ["--delete-orphans", "--json"], { env: defaultCap });
  expect(cron.code, cron.stderr).toBe(4);
  expect(checks(t, from).length).toBeGreaterThanOrEqual(MIN_ORPHAN_CHECKS);
  expect(checks(t, from).length).toBeLessThanOrEqual(atMost);
  const report = JSON.parse(cron.stdout) as { counts: Record<string, number> };
  expect(report.counts.orphans + report.counts.uncheckedCandidates).toBe(60);
  expect(report.counts.uncheckedCandidates).toBe(60 - checks(t, from).length);
  expect(cron.stderr).toMatch(
    new RegExp(
      `mass deletion held back: users: ${report.counts.orphans} of 80 rows \\(\\d+%\\), and ${report.counts.uncheckedCandidates} more candidate user\\(s\\) not checked`,
    ),
  );
  const log = readFileSync(join(t.dir, "logs", readdirSync(join(t.dir, "logs"))[0]), "utf8");
  expect(log).toContain(`"uncheckedCandidates":${report.counts.uncheckedCandidates}`);
  expect(await t.rows()).toHaveLength(80);

  // Reporting deletes nothing: check-sync proves every candidate.
  from = t.emulator.requests.length;
  const check = await t.run("check-sync", ["--json"], { env: defaultCap });
  expect(JSON.parse(check.stdout).counts).toMatchObject({ orphans: 60, uncheckedCandidates: 0 });
  expect(checks(t, from)).toHaveLength(60);
}, 60_000);

test("sync without a terminal refuses after the checks that prove it, naming the unchecked", async () => {
  const t = await manyCandidates();
  const from = t.emulator.requests.length;
  const sync = await t.run("sync", ["--yes", "--delete-orphans"], { env: defaultCap });
  expect(sync.code).toBe(2);
  expect(sync.stderr).toMatch(/refusing a mass deletion .*more candidate user\(s\) not checked/);
  expect(sync.stdout).toMatch(/more orphan candidate\(s\) not checked with Auth0/);
  expect(checks(t, from).length).toBeLessThanOrEqual(MIN_ORPHAN_CHECKS + 4);
  expect(await t.rows()).toHaveLength(80);
});

test("within the cap every candidate is checked and each deleted row has its own 404", async () => {
  const t = await manyCandidates();
  const from = t.emulator.requests.length;
  const run = await t.run("cron-sync", ["--delete-orphans", "--json"], {
    env: { SYNC_MAX_DELETION_PERCENT: "100" },
  });
  expect(run.code, run.stderr).toBe(0);
  expect(checks(t, from)).toHaveLength(60);
  expect(JSON.parse(run.stdout).applied).toMatchObject({ removed: 60 });
  expect(await t.rows()).toHaveLength(20);
});
