/**
 * `npm run cron-sync` and `npm run backup-users`: unattended runs with a JSON-lines log, one run
 * at a time, resumable after being killed; backups that are complete and owner-only.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { start } from "../../scripts/lib/childProcess";

let tenant: Tenant | undefined;
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
});

function logLines(t: Tenant): Record<string, unknown>[] {
  const dir = join(t.dir, "logs");
  const name = `auth0-sync-${new Date().toISOString().slice(0, 10)}.log`;
  return readFileSync(join(dir, name), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function driftedTenant() {
  const t = await startTenant();
  await t.seedInSync(3);
  t.emulator.seedUser({ user_id: "auth0|missing", email: "private.person@example.com" });
  t.emulator.updateUser("auth0|u00002", {
    name: "Secret Name",
    updated_at: new Date().toISOString(),
  });
  const gone = t.emulator.seedUser({ user_id: "auth0|gone" });
  await t.insertRow(gone);
  t.emulator.removeUser(gone.user_id);
  return t;
}

describe("cron-sync", () => {
  test("applies creates and updates, keeps orphans, and logs JSON lines without profile values", async () => {
    const t = (tenant = await driftedTenant());
    const run = await t.run("cron-sync");
    expect(run.code).toBe(0);
    const rows = (await t.rows()).map((r) => r.auth0UserId);
    expect(rows).toContain("auth0|missing");
    expect(rows).toContain("auth0|gone");

    const lines = logLines(t);
    expect(lines.map((l) => l.event)).toEqual([
      "start",
      "counts",
      "change",
      "change",
      "orphans_kept",
      "end",
    ]);
    expect(lines[1]).toMatchObject({ missing: 1, drift: 1, orphans: 1 });
    // In the listing's order (the profiles are read from it again, a batch at a time).
    const changes = lines.filter((l) => l.event === "change");
    expect(
      changes.sort((a, b) => String(a.auth0UserId).localeCompare(String(b.auth0UserId))),
    ).toEqual([
      expect.objectContaining({
        auth0UserId: "auth0|missing",
        action: "upsert",
        outcome: "created",
      }),
      expect.objectContaining({
        auth0UserId: "auth0|u00002",
        fields: ["name"],
        outcome: "updated",
      }),
    ]);
    expect(lines.at(-1)).toMatchObject({ event: "end", exitCode: 0 });
    const text = JSON.stringify(lines);
    expect(text).not.toContain("private.person@example.com");
    expect(text).not.toContain("Secret Name");
    for (const secret of Object.values(t.secrets)) expect(text).not.toContain(secret);
    // The lock is gone once the run ends.
    expect(existsSync(join(t.dir, "logs", "auth0-sync.lock"))).toBe(false);
  });

  test("SYNC_DELETE_ORPHANS=true deletes orphans, after writing their backup", async () => {
    const t = (tenant = await driftedTenant());
    const run = await t.run("cron-sync", [], { env: { SYNC_DELETE_ORPHANS: "true" } });
    expect(run.code).toBe(0);
    expect((await t.rows()).map((r) => r.auth0UserId)).not.toContain("auth0|gone");
    const lines = logLines(t);
    const backup = lines.find((l) => l.event === "backup");
    const deletion = lines.findIndex((l) => l.event === "change" && l.action === "delete");
    expect(backup).toMatchObject({ rows: 1 });
    expect(lines.indexOf(backup!)).toBeLessThan(deletion);
    expect(readFileSync(String(backup!.path), "utf8")).toContain('"auth0UserId":"auth0|gone"');
  });

  test("refuses to start while a live run holds the lock: exit 3, nothing written", async () => {
    const t = (tenant = await driftedTenant());
    mkdirSync(join(t.dir, "logs"), { recursive: true });
    const lock = join(t.dir, "logs", "auth0-sync.lock");
    const owner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    writeFileSync(lock, JSON.stringify(owner));
    const run = await t.run("cron-sync");
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`another run \\(pid ${process.pid}`));
    expect(t.emulator.requests).toEqual([]);
    expect(readFileSync(lock, "utf8")).toBe(JSON.stringify(owner));
  });

  test("takes over a stale lock left by a run that died", async () => {
    const t = (tenant = await driftedTenant());
    const dead = start("node", ["-e", ""], { env: { PATH: process.env.PATH }, cwd: t.dir });
    await dead.done;
    mkdirSync(join(t.dir, "logs"), { recursive: true });
    const lock = join(t.dir, "logs", "auth0-sync.lock");
    writeFileSync(lock, JSON.stringify({ pid: dead.child.pid, host: hostname(), startedAt: "x" }));
    const run = await t.run("cron-sync");
    expect(run.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  test("killed mid-way, the next run converges to the same result", async () => {
    let applies = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reachedHold!: () => void;
    const holding = new Promise<void>((r) => (reachedHold = r));
    const t = (tenant = await startTenant({
      // The third batch hangs until the run has been killed.
      beforeConvexRequest: async (path) => {
        if (path !== "/auth0/sync/apply" || ++applies !== 3) return;
        reachedHold();
        await held;
      },
    }));
    await t.seedInSync(10);
    for (let i = 0; i < 450; i++) t.emulator.seedUser({ user_id: `auth0|new${i}` });

    const first = t.start("cron-sync");
    await holding;
    first.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.code).toBeNull();
    release();
    // Two batches (200 users) at least landed; the lock was left behind by the dead run.
    expect((await t.rows()).length).toBeGreaterThanOrEqual(210);
    expect((await t.rows()).length).toBeLessThan(460);
    expect(existsSync(join(t.dir, "logs", "auth0-sync.lock"))).toBe(true);

    const second = await t.run("cron-sync");
    expect(second.code).toBe(0);
    expect(await t.rows()).toHaveLength(460);
    const check = await t.run("check-sync");
    expect(check.code).toBe(0);
  });
});

describe("backup-users", () => {
  test("writes both sides to owner-only NDJSON files under backups/", async () => {
    const t = (tenant = await startTenant());
    await t.seedInSync(4);
    t.emulator.seedUser({ user_id: "auth0|only-in-auth0", app_metadata: { roles: ["admin"] } });
    const run = await t.run("backup-users", ["--json"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ auth0: { users: 5 }, convex: { rows: 4 } });
    const dir = join(t.dir, "backups");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(dir)) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    const auth0 = readFileSync(result.auth0.path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(auth0.find((u) => u.user_id === "auth0|only-in-auth0")).toMatchObject({
      app_metadata: { roles: ["admin"] },
      identities: [expect.objectContaining({ provider: "auth0" })],
    });
    const convex = readFileSync(result.convex.path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(convex.map((r) => r.auth0UserId).sort()).toEqual([
      "auth0|u00000",
      "auth0|u00001",
      "auth0|u00002",
      "auth0|u00003",
    ]);
    expect(convex[0]).toHaveProperty("_id");
  });

  test("a failed export leaves no partial backup behind: exit 2", async () => {
    const t = (tenant = await startTenant());
    await t.seedInSync(2);
    t.emulator.jobs.failNextExport();
    const run = await t.run("backup-users");
    expect(run.code).toBe(2);
    expect(readdirSync(join(t.dir, "backups"))).toEqual([]);
  });
});
