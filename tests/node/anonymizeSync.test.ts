/**
 * The reconcile with `AUTH0_USER_DELETION=anonymize`: orphans are anonymized (not removed), the
 * backup holds each row as it was, and the next runs see the anonymized rows as settled rather
 * than as orphans or drift.
 */
import { afterEach, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { readBackup } from "../../bench/lib/restoreBackup";

let tenant: Tenant | undefined;
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
  delete process.env.AUTH0_USER_DELETION;
});

test("sync anonymizes orphans after backing them up whole; check-sync then reports them settled", async () => {
  const t = (tenant = await startTenant());
  process.env.AUTH0_USER_DELETION = "anonymize"; // the deployment's variable (functions run here)
  await t.seedInSync(4);
  const gone = ["auth0|gone-1", "auth0|gone-2"];
  for (const id of gone) {
    await t.insertRow(t.emulator.seedUser({ user_id: id }));
    t.emulator.removeUser(id);
  }
  const before = (await t.rows()).filter((r) => gone.includes(r.auth0UserId));
  expect(before.every((r) => r.email !== undefined)).toBe(true);

  const run = await t.run("sync", ["--yes", "--delete-orphans", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as { backup: string };
  // The backup holds each row exactly as it was, profile included.
  const backedUp = readBackup(report.backup).filter((r) => r.table === "users");
  expect(
    backedUp.map((r) => r.row).sort((a, b) => String(a._id).localeCompare(String(b._id))),
  ).toEqual(before.sort((a, b) => String(a._id).localeCompare(String(b._id))));
  // The rows stay (same ids), without their Auth0 facts.
  const after = (await t.rows()).filter((r) => gone.includes(r.auth0UserId));
  expect(after.map((r) => r._id).sort()).toEqual(before.map((r) => r._id).sort());
  for (const row of after) {
    expect(row.deletedAt).toBeTypeOf("number");
    expect(row).not.toHaveProperty("email");
    expect(row).not.toHaveProperty("name");
  }

  // Settled: no orphan, no drift, in sync (exit 0), the anonymized rows counted apart.
  const check = await t.run("check-sync", ["--json"]);
  expect(check.code, check.stderr).toBe(0);
  const checked = JSON.parse(check.stdout) as {
    inSync: boolean;
    counts: Record<string, number>;
  };
  expect(checked.inSync).toBe(true);
  expect(checked.counts).toMatchObject({ orphans: 0, drift: 0, missing: 0, anonymized: 2 });
});
