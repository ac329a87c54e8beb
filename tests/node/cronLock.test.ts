/**
 * The cron-sync lock (issue 16, item 5): exactly one of many simultaneous acquirers holds it,
 * with or without a stale lock; only the owner releases it; a lock of a live run on another host
 * is respected until its deadline or `--break-lock`; logs/ is owner-only and a symlinked log file
 * is never followed.
 */
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { acquireLock } from "../../scripts/lib/reconcile/lock";
import { lockRace } from "../../bench/lib/lockRace";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";

let tenant: Tenant | undefined;
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
});

describe("the lock race", () => {
  test.each(["none", "stale", "expired"] as const)(
    "lock %s before: 6 processes acquiring at the same instant, exactly one holds it, 20 trials out of 20",
    async (scenario) => {
      const result = await lockRace(scenario, 20, 6);
      expect(result.holders).toEqual({ 1: 20 });
      expect(result.fileMismatch).toBe(0);
    },
    120_000,
  );
});

describe("ownership", () => {
  test("release() removes only its own lock, never one taken over since", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lock-own-"));
    try {
      const path = join(dir, "auth0-sync.lock");
      const mine = await acquireLock(path, { maxRunMs: 60_000 });
      expect(mine.acquired).toBe(true);
      // Someone else's lock now sits at the path (taken over after our deadline, say).
      const theirs = JSON.stringify({
        pid: 1,
        host: "other",
        startedAt: "",
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        token: "theirs",
      });
      writeFileSync(path, theirs);
      if (mine.acquired) await mine.release();
      expect(readFileSync(path, "utf8")).toBe(theirs);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("cron-sync and the lock", () => {
  const otherHostLock = (expiresAt: string) =>
    JSON.stringify({
      pid: 4242,
      host: "container-gone-7f3a",
      startedAt: new Date(Date.now() - 600_000).toISOString(),
      expiresAt,
      token: "t",
    });

  test("a live run's lock on another host: exit 3 naming --break-lock; --break-lock takes it over", async () => {
    const t = (tenant = await startTenant());
    await t.seedInSync(2);
    mkdirSync(join(t.dir, "logs"), { recursive: true });
    const lock = join(t.dir, "logs", "auth0-sync.lock");
    writeFileSync(lock, otherHostLock(new Date(Date.now() + 3_600_000).toISOString()));
    const refused = await t.run("cron-sync");
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/pid 4242 on container-gone-7f3a/);
    expect(refused.stderr).toMatch(/--break-lock/);
    expect(t.emulator.requests).toEqual([]);

    const broken = await t.run("cron-sync", ["--break-lock"]);
    expect(broken.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  test("a lock whose run's deadline has passed (a dead container) is taken over", async () => {
    const t = (tenant = await startTenant());
    await t.seedInSync(2);
    mkdirSync(join(t.dir, "logs"), { recursive: true });
    const lock = join(t.dir, "logs", "auth0-sync.lock");
    writeFileSync(lock, otherHostLock(new Date(Date.now() - 3_600_000).toISOString()));
    const run = await t.run("cron-sync");
    expect(run.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  test("logs/ is created owner-only (0700)", async () => {
    const t = (tenant = await startTenant());
    await t.seedInSync(1);
    const run = await t.run("cron-sync");
    expect(run.code).toBe(0);
    expect(statSync(join(t.dir, "logs")).mode & 0o777).toBe(0o700);
  });

  test("a symlink in place of the log file is never followed: exit 2, its target untouched", async () => {
    const t = (tenant = await startTenant());
    await t.seedInSync(1);
    mkdirSync(join(t.dir, "logs"), { recursive: true });
    const target = join(t.dir, "victim.txt");
    writeFileSync(target, "precious\n");
    const name = `auth0-sync-${new Date().toISOString().slice(0, 10)}.log`;
    symlinkSync(target, join(t.dir, "logs", name));
    const run = await t.run("cron-sync");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/symbolic link: it is never followed/);
    expect(readFileSync(target, "utf8")).toBe("precious\n");
    expect(existsSync(join(t.dir, "logs", "auth0-sync.lock"))).toBe(false);
  });
});
