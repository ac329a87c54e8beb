/**
 * `check-sync --orgs` and `sync --orgs` as child processes against the Management API emulator's
 * organizations (checkpoint paging) and the local Convex host.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";

let tenant: Tenant | undefined;
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
});

async function orgState(t: Tenant) {
  return t.convex.t.run(async (ctx) => ({
    organizations: await ctx.db.query("auth0Organizations").collect(),
    memberships: await ctx.db.query("auth0Memberships").collect(),
  }));
}

const membershipMap = (ms: { auth0OrgId: string; auth0UserId: string; roles: string[] }[]) =>
  Object.fromEntries(ms.map((m) => [`${m.auth0OrgId} ${m.auth0UserId}`, m.roles]));

describe("reconcile --orgs", () => {
  test("finds and repairs organizations, members and roles, past one page of organizations", async () => {
    const t = (tenant = await startTenant());
    // One member listing per organization: rate limiting is tested elsewhere.
    t.emulator.setRateLimit(1000);
    const [u1, u2] = await t.seedInSync(2);
    const orgs = t.emulator.orgs;
    const acme = orgs.seedOrganization({ id: "org_acme", name: "acme", display_name: "Acme" });
    const globex = orgs.seedOrganization({ id: "org_globex", name: "globex" });
    for (let i = 0; i < 103; i++) orgs.seedOrganization({ id: `org_x${i}`, name: `x${i}` });
    orgs.setMember(acme.id, u1.user_id, ["admin"]);
    orgs.setMember(acme.id, u2.user_id, []);
    orgs.setMember(globex.id, u1.user_id, ["viewer"]);

    const check = await t.run("check-sync", ["--orgs", "--json"]);
    expect(check.code, check.stderr).toBe(1);
    const report = JSON.parse(check.stdout).organizations;
    expect(report.missing).toHaveLength(105);
    expect(report.memberships.missing).toHaveLength(3);
    // The user half is in sync: only organizations differ.
    expect(JSON.parse(check.stdout).counts).toMatchObject({ missing: 0, drift: 0, orphans: 0 });

    const sync = await t.run("sync", ["--orgs", "--yes"]);
    expect(sync.code, sync.output).toBe(0);
    let state = await orgState(t);
    expect(state.organizations).toHaveLength(105);
    expect(membershipMap(state.memberships)).toEqual({
      [`org_acme ${u1.user_id}`]: ["admin"],
      [`org_acme ${u2.user_id}`]: [],
      [`org_globex ${u1.user_id}`]: ["viewer"],
    });
    expect(state.memberships.every((m) => m.userId !== undefined)).toBe(true);
    expect((await t.run("check-sync", ["--orgs"])).code).toBe(0);

    // Drift: a rename, a new role, a member removed, an organization deleted in Auth0.
    acme.display_name = "Acme Inc.";
    orgs.setMember(acme.id, u1.user_id, ["admin", "billing"]);
    orgs.removeMember(acme.id, u2.user_id);
    orgs.removeOrganization(globex.id);
    const drift = JSON.parse(
      (await t.run("check-sync", ["--orgs", "--json"])).stdout,
    ).organizations;
    expect(drift.drift).toEqual([{ auth0OrgId: "org_acme", fields: ["displayName"] }]);
    expect(drift.memberships.roleDrift).toEqual([
      {
        auth0OrgId: "org_acme",
        auth0UserId: u1.user_id,
        auth0Roles: ["admin", "billing"],
        convexRoles: ["admin"],
      },
    ]);
    expect(drift.memberships.extra).toEqual([{ auth0OrgId: "org_acme", auth0UserId: u2.user_id }]);
    expect(drift.orphans).toEqual([{ auth0OrgId: "org_globex" }]);

    // Without --delete-orphans the gone organization is kept; the membership removal is backed up.
    const repair = await t.run("sync", ["--orgs", "--yes", "--json"]);
    expect(repair.code, repair.output).toBe(0);
    const repaired = JSON.parse(repair.stdout);
    const backedUp = readFileSync(repaired.backup, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(backedUp).toMatchObject([
      { table: "auth0Memberships", row: { auth0OrgId: "org_acme", auth0UserId: u2.user_id } },
    ]);
    state = await orgState(t);
    expect(state.organizations.find((o) => o.auth0OrgId === "org_acme")?.displayName).toBe(
      "Acme Inc.",
    );
    expect(state.organizations.some((o) => o.auth0OrgId === "org_globex")).toBe(true);
    expect(membershipMap(state.memberships)).toEqual({
      [`org_acme ${u1.user_id}`]: ["admin", "billing"],
      [`org_globex ${u1.user_id}`]: ["viewer"],
    });

    const withDeletes = await t.run("sync", ["--orgs", "--yes", "--delete-orphans", "--json"]);
    expect(withDeletes.code, withDeletes.output).toBe(0);
    const removedRows = readFileSync(JSON.parse(withDeletes.stdout).backup, "utf8");
    expect(removedRows).toContain('"auth0OrgId":"org_globex"');
    state = await orgState(t);
    expect(state.organizations.some((o) => o.auth0OrgId === "org_globex")).toBe(false);
    expect(membershipMap(state.memberships)).toEqual({
      [`org_acme ${u1.user_id}`]: ["admin", "billing"],
    });
    expect((await t.run("check-sync", ["--orgs"])).code).toBe(0);
  }, 60_000);

  test("metadata keys Convex refuses as field names (région, $tier) are repaired, then in step", async () => {
    const t = (tenant = await startTenant());
    const [u1] = await t.seedInSync(1);
    const metadata = { région: "IDF", $tier: "gold", plain: "x" };
    t.emulator.orgs.seedOrganization({ id: "org_fr", name: "fr", metadata });
    t.emulator.orgs.setMember("org_fr", u1.user_id, ["admin"]);
    // A row written before metadata became entries, with the same content: not drift.
    t.emulator.orgs.seedOrganization({ id: "org_old", name: "old", metadata: { tier: "gold" } });
    const at = Date.now() - 3_600_000;
    await t.convex.t.run(async (ctx) => {
      await ctx.db.insert("auth0Organizations", {
        auth0OrgId: "org_old",
        name: "old",
        metadata: { tier: "gold" },
        auth0At: at,
        createdAt: at,
        updatedAt: at,
      });
    });
    const sync = await t.run("sync", ["--orgs", "--yes"]);
    expect(sync.code, sync.output).toBe(0);
    const fr = (await orgState(t)).organizations.find((o) => o.auth0OrgId === "org_fr");
    expect(fr?.metadata).toEqual([
      { key: "$tier", value: "gold" },
      { key: "plain", value: "x" },
      { key: "région", value: "IDF" },
    ]);
    const check = await t.run("check-sync", ["--orgs"]);
    expect(check.code, check.output).toBe(0);
  }, 60_000);

  test("metadata keys that are Object.prototype names (__proto__, constructor, toString) go through cron-sync --orgs and sync --orgs", async () => {
    const t = (tenant = await startTenant());
    const [u1] = await t.seedInSync(1);
    // Parsed JSON, as Auth0 answers it: `__proto__` is an own key, not the prototype.
    const metadata = JSON.parse(
      '{"__proto__":"p","constructor":"c","toString":"t","hasOwnProperty":"h","plain":"x"}',
    ) as Record<string, string>;
    t.emulator.orgs.seedOrganization({ id: "org_0", name: "o0", metadata });
    for (let i = 1; i < 6; i++) {
      t.emulator.orgs.seedOrganization({ id: `org_${i}`, name: `o${i}`, metadata: { a: "b" } });
    }
    t.emulator.orgs.setMember("org_0", u1.user_id, ["admin"]);
    const cron = await t.run("cron-sync", ["--orgs"]);
    expect(cron.code, cron.output).toBe(0);
    const stored = (await orgState(t)).organizations;
    expect(stored).toHaveLength(6);
    expect(stored.find((o) => o.auth0OrgId === "org_0")?.metadata).toEqual([
      { key: "__proto__", value: "p" },
      { key: "constructor", value: "c" },
      { key: "hasOwnProperty", value: "h" },
      { key: "plain", value: "x" },
      { key: "toString", value: "t" },
    ]);
    // A change of such a key is drift, and sync --orgs repairs it.
    t.emulator.orgs.organizations.get("org_0")!.metadata = JSON.parse(
      '{"__proto__":"p2","plain":"x"}',
    ) as Record<string, string>;
    const drift = JSON.parse((await t.run("check-sync", ["--orgs", "--json"])).stdout);
    expect(drift.organizations.drift).toEqual([{ auth0OrgId: "org_0", fields: ["metadata"] }]);
    const sync = await t.run("sync", ["--orgs", "--yes"]);
    expect(sync.code, sync.output).toBe(0);
    expect(
      (await orgState(t)).organizations.find((o) => o.auth0OrgId === "org_0")?.metadata,
    ).toEqual([
      { key: "__proto__", value: "p2" },
      { key: "plain", value: "x" },
    ]);
  }, 60_000);

  test("--dry-run writes nothing", async () => {
    const t = (tenant = await startTenant());
    const [u1] = await t.seedInSync(1);
    t.emulator.orgs.seedOrganization({ id: "org_acme", name: "acme" });
    t.emulator.orgs.setMember("org_acme", u1.user_id, ["admin"]);
    const run = await t.run("sync", ["--orgs", "--dry-run"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("organizations: 1 to write, 0 to delete; memberships: 1 to write");
    expect(await orgState(t)).toEqual({ organizations: [], memberships: [] });
  }, 30_000);

  test("cron-sync --orgs repairs organizations unattended and logs it", async () => {
    const t = (tenant = await startTenant());
    const [u1] = await t.seedInSync(1);
    t.emulator.orgs.seedOrganization({ id: "org_acme", name: "acme" });
    t.emulator.orgs.setMember("org_acme", u1.user_id, ["admin"]);
    const run = await t.run("cron-sync", ["--orgs"]);
    expect(run.code, run.output).toBe(0);
    expect(membershipMap((await orgState(t)).memberships)).toEqual({
      [`org_acme ${u1.user_id}`]: ["admin"],
    });
    const [logFile] = readdirSync(join(t.dir, "logs")).filter((f) => f.endsWith(".log"));
    const events = readFileSync(join(t.dir, "logs", logFile), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string } & Record<string, unknown>);
    expect(events.find((e) => e.event === "organizations_applied")).toMatchObject({ applied: 2 });
  }, 30_000);

  test("a member the eventually consistent member list omits is not removed", async () => {
    const t = (tenant = await startTenant());
    const [u1, u2] = await t.seedInSync(2);
    const acme = t.emulator.orgs.seedOrganization({ id: "org_acme", name: "acme" });
    t.emulator.orgs.setMember(acme.id, u1.user_id, ["admin"]);
    t.emulator.orgs.setMember(acme.id, u2.user_id, []);
    expect((await t.run("sync", ["--orgs", "--yes"])).code).toBe(0);
    // u2 is still a member, but the member list lags; u1 was really removed.
    acme.notListedYet.add(u2.user_id);
    t.emulator.orgs.removeMember(acme.id, u1.user_id);
    const check = JSON.parse((await t.run("check-sync", ["--orgs", "--json"])).stdout);
    expect(check.organizations.memberships.extra).toEqual([
      { auth0OrgId: "org_acme", auth0UserId: u1.user_id },
    ]);
    expect(check.organizations.memberships.notListedYet).toEqual([
      { auth0OrgId: "org_acme", auth0UserId: u2.user_id },
    ]);
    expect((await t.run("sync", ["--orgs", "--yes"])).code).toBe(0);
    expect(Object.keys(membershipMap((await orgState(t)).memberships))).toEqual([
      `org_acme ${u2.user_id}`,
    ]);
  }, 30_000);
});
