/**
 * Orphan users are deleted only with --delete-orphans, and then always through the same plan,
 * backup, cap and confirmation (issue 24, item 2: `sync --orgs --yes` deleted an orphan user
 * because removing one membership wrote a backup). Every flag combination of sync and cron-sync
 * runs against the same tenant: an orphan user with a membership, a membership Auth0 no longer
 * lists, an organization gone from Auth0. Each asserts what was deleted, that the backup holds
 * exactly that (the orphan's own membership included, which deleteUser removes with it), and
 * what the summary said.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { readBackup, tableSnapshot } from "../../bench/lib/restoreBackup";
import type { StoredUser } from "../../local-auth0/managementApiEmulator";

let t: Tenant;
let users: StoredUser[];
const ORPHAN = "auth0|orphan";

beforeAll(async () => {
  t = await startTenant();
  t.emulator.jobs.setExportDelay(0);
  t.emulator.setRateLimit(1000);
  users = await t.seedInSync(3);
  const orphan = t.emulator.seedUser({ user_id: ORPHAN });
  t.emulator.removeUser(ORPHAN);
  t.emulator.orgs.seedOrganization({ id: "org_kept", name: "kept" });
  t.emulator.orgs.setMember("org_kept", users[0].user_id, ["admin"]);
  users.push(orphan);
});
afterAll(async () => {
  await t?.close();
});

/** Puts Convex back to the starting state: the three users and the orphan; org_kept with u0
 * (listed), u1 (removed from it in Auth0) and the orphan; org_gone (deleted in Auth0) with u2. */
async function reset() {
  const at = Date.now() - 3_600_000;
  await t.convex.t.run(async (ctx) => {
    for (const table of [
      "users",
      "auth0UserTombstones",
      "auth0Organizations",
      "auth0OrganizationTombstones",
      "auth0Memberships",
    ] as const) {
      for (const row of await ctx.db.query(table).collect()) await ctx.db.delete(row._id);
    }
  });
  for (const user of users) await t.insertRow(user);
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
    const member = (org: string, user: string, roles: string[]) =>
      ctx.db.insert("auth0Memberships", {
        auth0OrgId: org,
        auth0UserId: user,
        userId: ids[user],
        roles,
        roleTimes: roles.map((name) => ({ name, present: true, at })),
        auth0At: at,
        createdAt: at,
        updatedAt: at,
      });
    await member("org_kept", users[0].user_id, ["admin"]);
    await member("org_kept", users[1].user_id, []);
    await member("org_kept", ORPHAN, []);
    await member("org_gone", users[2].user_id, []);
  });
  rmSync(join(t.dir, "backups"), { recursive: true, force: true });
  rmSync(join(t.dir, "logs"), { recursive: true, force: true });
}

type Flag = "--orgs" | "--delete-orphans" | "--yes" | "--dry-run";
const subsets = <T>(xs: T[]): T[][] =>
  xs.reduce<T[][]>((all, x) => [...all, ...all.map((s) => [...s, x])], [[]]);
const combinations: [string, Flag[]][] = [
  ...subsets<Flag>(["--orgs", "--delete-orphans", "--yes", "--dry-run"]).map(
    (flags) => ["sync", flags] as [string, Flag[]],
  ),
  ...subsets<Flag>(["--orgs", "--delete-orphans"]).map(
    (flags) => ["cron-sync", flags] as [string, Flag[]],
  ),
];

const key = (row: { _id: unknown }) => String(row._id);

test.each(combinations)("%s %j", async (command, flags) => {
  await reset();
  const before = await tableSnapshot(t);
  const has = (f: Flag) => flags.includes(f);
  const run = await t.run(command as "sync" | "cron-sync", flags);

  // Whether the run writes at all: cron-sync always; sync only confirmed and not a dry run.
  const applies = command === "cron-sync" || (has("--yes") && !has("--dry-run"));
  const deletesOrphans = applies && has("--delete-orphans");
  const repairsOrgs = applies && has("--orgs");
  // sync with neither --orgs nor --delete-orphans has nothing to do: orphans are only reported.
  const nothingToDo = command === "sync" && !has("--orgs") && !has("--delete-orphans");
  const expectedCode =
    command === "cron-sync" || nothingToDo ? 0 : has("--dry-run") ? 1 : has("--yes") ? 0 : 2;
  expect(run.code, run.output).toBe(expectedCode);

  const after = await tableSnapshot(t);
  const ids = (rows: { auth0UserId?: string; auth0OrgId?: string }[]) =>
    rows.map((r) => `${r.auth0OrgId ?? ""} ${r.auth0UserId ?? ""}`.trim()).sort();
  // What is deleted: the orphan user only with --delete-orphans...
  expect(after.users.some((u) => u.auth0UserId === ORPHAN)).toBe(!deletesOrphans);
  expect(after.users).toHaveLength(deletesOrphans ? 3 : 4);
  expect(after.tombstones.map((x) => x.auth0UserId)).toEqual(deletesOrphans ? [ORPHAN] : []);
  // ...the gone organization only with --orgs --delete-orphans...
  expect(after.auth0Organizations.map((o) => o.auth0OrgId).sort()).toEqual(
    repairsOrgs && has("--delete-orphans") ? ["org_kept"] : ["org_gone", "org_kept"],
  );
  // ...memberships Auth0 no longer lists with --orgs; the orphan's with its user or with --orgs.
  const memberships = [
    `org_kept ${users[0].user_id}`,
    ...(repairsOrgs ? [] : [`org_kept ${users[1].user_id}`]),
    ...(deletesOrphans || repairsOrgs ? [] : [`org_kept ${ORPHAN}`]),
    ...(repairsOrgs && has("--delete-orphans") ? [] : [`org_gone ${users[2].user_id}`]),
  ].sort();
  expect(ids(after.auth0Memberships)).toEqual(memberships);

  // The backup holds exactly the rows removed, each once; no backup when nothing was removed.
  const removed = (table: "users" | "auth0Organizations" | "auth0Memberships") => {
    const still = new Set(after[table].map(key));
    return before[table]
      .filter((row) => !still.has(key(row)))
      .map(key)
      .sort();
  };
  const files = existsSync(join(t.dir, "backups")) ? readdirSync(join(t.dir, "backups")) : [];
  const removedAny = ["users", "auth0Organizations", "auth0Memberships"].some(
    (table) => removed(table as "users").length > 0,
  );
  expect(files).toHaveLength(removedAny ? 1 : 0);
  if (removedAny) {
    const records = readBackup(join(t.dir, "backups", files[0]));
    for (const table of ["users", "auth0Organizations", "auth0Memberships"] as const) {
      expect(
        records
          .filter((r) => r.table === table)
          .map((r) => key(r.row as { _id: unknown }))
          .sort(),
        table,
      ).toEqual(removed(table));
    }
  }

  // What the summary said matches what happened.
  const deleted = deletesOrphans ? 1 : 0;
  if (nothingToDo) expect(run.stdout).toContain("Nothing to do.");
  else if (applies) {
    expect(run.stdout).toContain(`Applied: created 0, updated 0, deleted ${deleted}`);
  } else if (has("--dry-run")) {
    const deleting = has("--delete-orphans") ? 1 : 0;
    expect(run.stdout).toMatch(
      new RegExp(`Dry run: would create 0, update 0, delete ${deleting}[;.]`),
    );
  } else expect(run.stderr).toContain("pass --yes to apply. Nothing was written.");
  if (command === "sync" && !has("--delete-orphans")) {
    expect(run.stdout).toContain("1 orphan(s) are kept: pass --delete-orphans");
  }
});
