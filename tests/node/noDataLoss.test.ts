/**
 * No deletion without proof (issue 16): the wrong tenant is refused before anything is read, a
 * mass deletion needs a second proof, a deletion is dated with its 404, and the backup written
 * before a deletion holds every row it removes, each once, and restores them.
 */
import type { CommandName } from "../../scripts/lib/cli/commands";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { internal } from "../../convex/_generated/api";
import { SYNC_ORGS_PAGE_PATH } from "../../server/reconcile/orgSyncRoutes";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { CLI, start, TSX } from "../../scripts/lib/childProcess";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { comparable, readBackup, restoreBackup } from "../../bench/lib/restoreBackup";

let tenant: Tenant | undefined;
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
});

const snapshot = async (t: Tenant) =>
  t.convex.t.run(async (ctx) => ({
    users: await ctx.db.query("users").collect(),
    tombstones: await ctx.db.query("auth0UserTombstones").collect(),
    auth0Organizations: await ctx.db.query("auth0Organizations").collect(),
    auth0Memberships: await ctx.db.query("auth0Memberships").collect(),
  }));

const backups = (t: Tenant) => {
  const dir = join(t.dir, "backups");
  return existsSync(dir) ? readdirSync(dir) : [];
};

const readNdjson = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { table: string; row: Record<string, unknown> });

/** A tenant with users in sync and two gone from Auth0 (orphans). */
async function withOrphans() {
  const t = (tenant = await startTenant());
  await t.seedInSync(4);
  for (const id of ["auth0|gone-1", "auth0|gone-2"]) {
    const gone = t.emulator.seedUser({ user_id: id });
    await t.insertRow(gone);
    t.emulator.removeUser(id);
  }
  return t;
}

describe("the wrong tenant is refused before anything is read or written", () => {
  const commands: [CommandName, string[]][] = [
    ["check-sync", []],
    ["sync", ["--yes", "--delete-orphans"]],
    ["cron-sync", ["--delete-orphans"]],
    ["backup-users", []],
  ];

  test.each(commands)(
    "%s with AUTH0_DOMAIN naming another tenant: exit 2 naming both, no call to either tenant's users",
    async (script, args) => {
      const t = await withOrphans();
      const other = await t.startOtherTenant();
      const before = await snapshot(t);
      const run = await t.run(script, args, { env: { AUTH0_DOMAIN: other.domain } });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`wrong tenant: AUTH0_DOMAIN here is ${other.domain}`);
      expect(run.stderr).toContain(`trusts ${t.emulator.domain}`);
      expect(other.requests).toEqual([]);
      expect(t.emulator.requests).toEqual([]);
      expect(await snapshot(t)).toEqual(before);
      expect(backups(t)).toEqual([]);
    },
  );

  test.each(commands)(
    "%s when the domain matches but the token was issued by another tenant: exit 2 naming both",
    async (script, args) => {
      const t = await withOrphans();
      t.emulator.setTenantDomain("other-tenant.eu.auth0.com");
      const before = await snapshot(t);
      const run = await t.run(script, args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("issued by other-tenant.eu.auth0.com");
      expect(run.stderr).toContain(`trusts ${t.emulator.domain}`);
      // Only the token request: no listing, no per-user check, no write.
      expect(t.emulator.requests.map((q) => q.path)).toEqual(["/oauth/token"]);
      expect(await snapshot(t)).toEqual(before);
      expect(backups(t)).toEqual([]);
    },
  );
});

describe("a mass deletion needs a second proof", () => {
  /** 20 rows, 5 gone from Auth0 (25%, over the default 10%). */
  async function massTenant() {
    const t = (tenant = await startTenant());
    const users = await t.seedInSync(20);
    for (const user of users.slice(0, 5)) t.emulator.removeUser(user.user_id);
    t.emulator.seedUser({ user_id: "auth0|new-in-auth0" });
    return t;
  }
  const defaults = { SYNC_MAX_DELETION_PERCENT: undefined };

  test("sync without a terminal: refused naming the count, exit 2, nothing written", async () => {
    const t = await massTenant();
    const before = await snapshot(t);
    const run = await t.run("sync", ["--yes", "--delete-orphans"], { env: defaults });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refusing a mass deletion \(users: 5 of 20 rows \(25%\)\)/);
    expect(await snapshot(t)).toEqual(before);
    expect(backups(t)).toEqual([]);
  });

  test("sync on a terminal asks again, even with --yes: the count typed back deletes", async () => {
    const t = await massTenant();
    const wrong = await onTerminal(t, ["sync", "--yes", "--delete-orphans"], "y\n", defaults);
    expect(wrong.output).toMatch(/Type 5 \(the rows over the cap\) to delete them/);
    expect(wrong.code).toBe(1);
    expect((await t.rows()).length).toBe(20);

    const typed = await onTerminal(t, ["sync", "--yes", "--delete-orphans"], "5\n", defaults);
    expect(typed.code).toBe(0);
    expect(typed.output).toMatch(/deleted 5/);
    expect((await t.rows()).length).toBe(16);
  });

  test("cron-sync applies no deletion, logs why and exits 4; a raised cap lets it through", async () => {
    const t = await massTenant();
    const run = await t.run("cron-sync", ["--delete-orphans"], { env: defaults });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/mass deletion held back: users: 5 of 20 rows \(25%\)/);
    const rows = await t.rows();
    expect(rows.length).toBe(21); // the new user was created, nothing removed
    expect(backups(t)).toEqual([]);
    const log = readFileSync(
      join(
        t.dir,
        "logs",
        readdirSync(join(t.dir, "logs")).find((f) => f.endsWith(".log"))!,
      ),
      "utf8",
    );
    expect(log).toMatch(/"event":"mass_deletion_refused"/);

    const raised = await t.run("cron-sync", ["--delete-orphans", "--max-deletion-percent=30"], {
      env: defaults,
    });
    expect(raised.code).toBe(0);
    expect((await t.rows()).length).toBe(16);
  });
});

describe("a deletion is dated with the 404 that proved it", () => {
  test("a user who signs up again and logs in between the proof and the apply keeps the new row", async () => {
    let resignedUp = false;
    const t = (tenant = await startTenant({
      // While `--orgs` lists (after the 404, before anything is applied), as in the issue.
      beforeConvexRequest: async (path) => {
        if (path !== SYNC_ORGS_PAGE_PATH || resignedUp || !tenant) return;
        resignedUp = true;
        const at = new Date().toISOString();
        const user = tenant.emulator.seedUser({ user_id: "auth0|back", updated_at: at });
        await tenant.convex.t.mutation(internal.auth0.upsertFromAuth0, {
          tokenIdentifier: tokenIdentifier(tenant.emulator.domain, user.user_id),
          email: user.email,
          auth0UpdatedAt: Date.parse(at),
          login: true,
        });
      },
    }));
    await t.seedInSync(20);
    const gone = t.emulator.seedUser({
      user_id: "auth0|back",
      updated_at: new Date(Date.now() - 3_600_000).toISOString(),
    });
    await t.insertRow(gone, { overrides: { auth0UpdatedAt: Date.now() - 3_600_000 } });
    t.emulator.removeUser(gone.user_id);
    await new Promise((r) => setTimeout(r, 20));

    const run = await t.run("sync", ["--yes", "--delete-orphans", "--orgs"]);
    expect(resignedUp).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/not deleted 1 \(re-created since\)/);
    const row = (await t.rows()).find((r) => r.auth0UserId === "auth0|back");
    expect(row).toBeDefined();
    // No tombstone refuses the user's next login.
    expect(await t.tombstones()).toEqual([]);
  });
});

describe("the backup holds every row a deletion removes, each once, and restores them", () => {
  test("orphan users with two trusted rows and memberships, a gone organization and its members: backup, delete, restore", async () => {
    process.env.AUTH0_CUSTOM_DOMAIN = "login.example.com";
    const t = (tenant = await startTenant());
    process.env.AUTH0_CUSTOM_DOMAIN = "login.example.com";
    t.emulator.setRateLimit(1000);
    const users = await t.seedInSync(30);
    // Gone users: one with a tenant-domain and a custom-domain row, one with one row.
    const twoRows = t.emulator.seedUser({ user_id: "auth0|gone-two-rows" });
    await t.insertRow(twoRows);
    await t.insertRow(twoRows, { issuer: "login.example.com" });
    const oneRow = t.emulator.seedUser({ user_id: "auth0|gone-one-row" });
    await t.insertRow(oneRow);
    t.emulator.removeUser(twoRows.user_id);
    t.emulator.removeUser(oneRow.user_id);
    // Organizations: "kept" stays in Auth0, "gone" was deleted from it.
    const kept = t.emulator.orgs.seedOrganization({ id: "org_kept", name: "kept" });
    const at = Date.now() - 60_000;
    const member = (org: string, user: string, userId?: Id<"users">) => ({
      auth0OrgId: org,
      auth0UserId: user,
      ...(userId ? { userId } : {}),
      roles: [],
      roleTimes: [],
      auth0At: at,
      createdAt: at,
      updatedAt: at,
    });
    t.emulator.orgs.setMember(kept.id, users[0].user_id);
    const ids = Object.fromEntries((await t.rows()).map((r) => [r.auth0UserId, r._id]));
    await t.convex.t.run(async (ctx) => {
      for (const org of ["org_kept", "org_gone"]) {
        await ctx.db.insert("auth0Organizations", {
          auth0OrgId: org,
          name: org.slice(4),
          auth0At: at,
          createdAt: at,
          updatedAt: at,
        });
      }
      await ctx.db.insert(
        "auth0Memberships",
        member("org_kept", users[0].user_id, ids[users[0].user_id]) as never,
      );
      await ctx.db.insert(
        "auth0Memberships",
        member("org_kept", twoRows.user_id, ids[twoRows.user_id]) as never,
      );
      await ctx.db.insert(
        "auth0Memberships",
        member("org_gone", users[1].user_id, ids[users[1].user_id]) as never,
      );
      await ctx.db.insert(
        "auth0Memberships",
        member("org_gone", users[2].user_id, ids[users[2].user_id]) as never,
      );
      await ctx.db.insert(
        "auth0Memberships",
        member("org_gone", oneRow.user_id, ids[oneRow.user_id]) as never,
      );
    });
    const before = await snapshot(t);

    const run = await t.run("sync", ["--yes", "--delete-orphans", "--orgs", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { backup: string; applied: { removed: number } };
    expect(report.applied.removed).toBe(2);
    const after = await snapshot(t);
    expect(after.users.map((u) => u.auth0UserId).sort()).toEqual(
      users.map((u) => u.user_id).sort(),
    );
    expect(after.auth0Organizations.map((o) => o.auth0OrgId)).toEqual(["org_kept"]);
    expect(after.auth0Memberships.map((m) => m.auth0UserId)).toEqual([users[0].user_id]);

    // Every removed row is in the backup, once.
    const records = readNdjson(report.backup);
    const keys = records.map((r) => `${r.table}:${String(r.row._id)}`);
    expect(new Set(keys).size).toBe(keys.length);
    const removed = (table: "users" | "auth0Organizations" | "auth0Memberships") => {
      const still = new Set(after[table].map((row) => row._id as string));
      return before[table].filter((row) => !still.has(row._id as string));
    };
    for (const table of ["users", "auth0Organizations", "auth0Memberships"] as const) {
      expect(
        records
          .filter((r) => r.table === table)
          .map((r) => r.row._id)
          .sort(),
        table,
      ).toEqual(
        removed(table)
          .map((row) => row._id)
          .sort(),
      );
    }
    expect(records.filter((r) => r.table === "users")).toHaveLength(3);
    expect(records.filter((r) => r.table === "auth0Memberships")).toHaveLength(4);

    // Restore, and the tables are as they were (new ids; memberships point at the new rows).
    await restoreBackup(t, readBackup(report.backup));
    const restored = await snapshot(t);
    expect(comparable(restored)).toEqual(comparable(before));
    // Restored memberships point at the restored rows.
    const restoredIds = new Set(restored.users.map((u) => u._id as string));
    for (const m of restored.auth0Memberships) {
      if (m.userId !== undefined) expect(restoredIds.has(m.userId as string)).toBe(true);
    }
  });
});

describe("candidates are per user, with all their rows", () => {
  test("a gone user with a tenant-domain and a custom-domain row does not block the batch: both rows and the other orphans go, each row once in the backup", async () => {
    process.env.AUTH0_CUSTOM_DOMAIN = "login.example.com";
    const t = (tenant = await startTenant());
    process.env.AUTH0_CUSTOM_DOMAIN = "login.example.com";
    await t.seedInSync(5);
    const both = t.emulator.seedUser({ user_id: "auth0|gone-both" });
    await t.insertRow(both);
    await t.insertRow(both, { issuer: "login.example.com" });
    const other = t.emulator.seedUser({ user_id: "auth0|gone-other" });
    await t.insertRow(other);
    t.emulator.removeUser(both.user_id);
    t.emulator.removeUser(other.user_id);

    const run = await t.run("sync", ["--yes", "--delete-orphans", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { backup: string; applied: { removed: number } };
    expect(report.applied.removed).toBe(2);
    const ids = (await t.rows()).map((r) => r.auth0UserId);
    expect(ids).not.toContain(both.user_id);
    expect(ids).not.toContain(other.user_id);
    const users = readBackup(report.backup).filter((r) => r.table === "users");
    expect(users.map((r) => r.row.tokenIdentifier).sort()).toEqual(
      [
        tokenIdentifier(t.emulator.domain, both.user_id),
        tokenIdentifier("login.example.com", both.user_id),
        tokenIdentifier(t.emulator.domain, other.user_id),
      ].sort(),
    );
  });
});

describe("a backup that cannot be written stops before any deletion", () => {
  test("backups/ unusable: exit 2, nothing deleted, no partial file", async () => {
    const t = await withOrphans();
    writeFileSync(join(t.dir, "backups"), "not a directory");
    const before = await snapshot(t);
    const run = await t.run("sync", ["--yes", "--delete-orphans"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the backup could not be written: .*nothing was deleted/);
    expect((await snapshot(t)).users).toEqual(before.users);
    expect(await t.tombstones()).toEqual([]);
  });
});

/** Runs a script under `script(1)`, so it has a terminal, feeding `input`. */
async function onTerminal(
  t: Tenant,
  args: string[],
  input: string,
  env: Record<string, string | undefined> = {},
) {
  const [script, ...rest] = args;
  const quote = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
  const command = [TSX, CLI, script, ...rest].map(quote).join(" ");
  const run = await start("script", ["-qec", command, "/dev/null"], {
    env: t.env(env),
    cwd: t.dir,
    input,
  });
  return run.done;
}
