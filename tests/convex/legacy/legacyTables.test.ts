/**
 * Upgrading from 0.1, whose tables were `organizations`, `memberships`, `userTombstones`, ...:
 * with `auth0LegacyTables` in the schema and AUTH0_LEGACY_TABLES=migrate the module reads rows
 * under both names, a write moves the row it touches, and `auth0:migrateLegacyTables` moves the
 * rest in steps within the limits (interrupted and resumed here, with logins and events between
 * the steps), until the doctor says the old tables are empty and can be removed.
 */
import { convexTest } from "convex-test";
import { defineSchema } from "convex/server";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { auth0LegacyTables, auth0Tables } from "../../../server/tables";
import { MIGRATION_STEP_ROWS } from "../../../server/legacy/migration";
import { judgeLegacyTables } from "../../../scripts/lib/legacyTablesHealth";
import { deliverUserUpdated, logIn, setAuth0TestEnv, signInAs } from "../../../testing";

const modules = import.meta.glob("../../../convex/**/*.*s");
/** An app upgraded from 0.1: the module's tables under both names. */
const schema = defineSchema({ ...auth0Tables, ...auth0LegacyTables });
const newT = () => convexTest({ schema, modules, transactionLimits: true });
type T = ReturnType<typeof newT>;

let restoreEnv: () => void;
beforeEach(() => {
  restoreEnv = setAuth0TestEnv({
    AUTH0_ACTION_SECRET: "q8ZrV1xKp3TnW6yBd0LhJ5uMc2GsF9aE7oRi4vNk",
    AUTH0_EVENTS_TOKEN: "Xb3Lw9QeT1mZr6HyU0cK8pNa5VdJ2sGf7iOt4jYq",
  });
  process.env.AUTH0_LEGACY_TABLES = "migrate";
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation(() => {});
  }
});
afterEach(() => {
  delete process.env.AUTH0_LEGACY_TABLES;
  restoreEnv();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const ADA = { user_id: "auth0|ada", email: "ada@example.com", name: "Ada" };
const GONE = "auth0|gone";
const hourAgo = Date.now() - 3_600_000;
/** Members of org_big besides Ada: with the other rows, more than two steps move. */
const FILLER = 2 * MIGRATION_STEP_ROWS;

/** What a 0.1 deployment stored, under the 0.1 names (as its code wrote it); Ada's memberships
 * linked to her row, as 0.1 linked them. */
async function seed0_1(t: T, adaId: Id<"users">) {
  await t.run(async (ctx) => {
    const at = hourAgo;
    for (const [auth0OrgId, name] of [
      ["org_a", "acme"],
      ["org_b", "bravo"],
      ["org_c", "charlie"],
      ["org_big", "big"],
    ]) {
      await ctx.db.insert("organizations", {
        auth0OrgId,
        name,
        auth0At: at,
        createdAt: at,
        updatedAt: at,
      });
    }
    const member = (auth0OrgId: string, auth0UserId: string, roles: string[] = []) =>
      ctx.db.insert("memberships", {
        auth0OrgId,
        auth0UserId,
        ...(auth0UserId === ADA.user_id ? { userId: adaId } : {}),
        roles,
        roleTimes: roles.map((name) => ({ name, present: true, at })),
        auth0At: at,
        createdAt: at,
        updatedAt: at,
      });
    // Ada's first membership moves in the first step, her others in a later one.
    await member("org_a", ADA.user_id, ["viewer"]);
    for (let i = 0; i < FILLER; i++) await member("org_big", `auth0|u${i}`);
    await member("org_b", ADA.user_id, ["viewer"]);
    await member("org_c", ADA.user_id);
    await ctx.db.insert("userTombstones", { auth0UserId: GONE, deletedAt: hourAgo });
    await ctx.db.insert("organizationTombstones", { auth0OrgId: "org_dead", deletedAt: at });
    await ctx.db.insert("logSyncState", { key: "tenant", checkpoint: "9001", lastRunAt: at });
  });
}

const ORG_ROWS = 4;
const MEMBERSHIP_ROWS = FILLER + 3;
const SEEDED = ORG_ROWS + MEMBERSHIP_ROWS + 3;

async function counts(t: T) {
  return t.run(async (ctx) => {
    const n = async (table: Parameters<typeof ctx.db.query>[0]) =>
      (await ctx.db.query(table).collect()).length;
    return {
      old: {
        organizations: await n("organizations"),
        memberships: await n("memberships"),
        userTombstones: await n("userTombstones"),
        organizationTombstones: await n("organizationTombstones"),
        logSyncState: await n("logSyncState"),
      },
      new: {
        organizations: await n("auth0Organizations"),
        memberships: await n("auth0Memberships"),
        userTombstones: await n("auth0UserTombstones"),
        organizationTombstones: await n("auth0OrganizationTombstones"),
        logSyncState: await n("auth0LogSyncState"),
      },
    };
  });
}

const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const adaOrgs = async (t: T) =>
  (await signInAs(t, ADA).query(api.auth0.myOrganizations, {})).map(
    (m) => `${m.auth0OrgId} ${m.name} ${m.roles.join(",")}`,
  );
const doctor = async (t: T) =>
  judgeLegacyTables(await t.query(internal.auth0.legacyTablesStatus, {}));
const goneRows = (t: T) =>
  t.run(async (ctx) =>
    (await ctx.db.query("users").collect()).filter((u) => u.auth0UserId === GONE),
  );

test("rows of 0.1 are read under both names while a migration interrupted and resumed moves them, with logins and events between its steps", async () => {
  const t = newT();
  // Without the variable, the module reads the new names only, and the doctor fails naming them.
  delete process.env.AUTH0_LEGACY_TABLES;
  await seed0_1(t, (await logIn(t, ADA)).userId);
  expect(await adaOrgs(t)).toEqual([]);
  const unset = await doctor(t);
  expect(unset.status).toBe("fail");
  expect(unset.detail).toContain("organizations (at least 1 row), memberships");
  expect(unset.detail).toContain("AUTH0_LEGACY_TABLES");
  process.env.AUTH0_LEGACY_TABLES = "migrate";

  // With it, before any step: the rows are all read where 0.1 left them.
  expect(await adaOrgs(t)).toEqual(["org_a acme viewer", "org_b bravo viewer", "org_c charlie "]);
  expect((await t.query(internal.auth0.logSyncHealth, {})).checkpoint).toBe("9001");
  expect((await doctor(t)).detail).toContain("not started");
  // The deleted user's tombstone under its old name still refuses an older profile.
  await deliverUserUpdated(t, {
    user_id: GONE,
    updated_at: new Date(hourAgo - 60_000).toISOString(),
  });
  expect(await goneRows(t)).toEqual([]);

  // One step, then the chain is cut (no next step scheduled): an interruption.
  const first = await t.mutation(internal.auth0.migrateLegacyTables, { background: false });
  expect(first).toMatchObject({ state: "running", moved: MIGRATION_STEP_ROWS, merged: 0 });
  let c = await counts(t);
  expect(c.new.organizations).toBe(ORG_ROWS);
  expect(total(c.old) + total(c.new)).toBe(SEEDED);
  expect(c.old.memberships).toBeGreaterThan(0);
  // Meanwhile Ada's memberships are split over both names and still read as one list.
  expect(await adaOrgs(t)).toEqual(["org_a acme viewer", "org_b bravo viewer", "org_c charlie "]);
  expect((await doctor(t)).status).toBe("warn");

  // A login through org_b (its membership still under the old name) moves and updates it.
  await logIn(t, ADA, { organization: { id: "org_b", name: "bravo", roles: ["admin"] } });
  const orgB = await t.run(async (ctx) => ({
    old: await ctx.db
      .query("memberships")
      .withIndex("by_org", (q) => q.eq("auth0OrgId", "org_b").eq("auth0UserId", ADA.user_id))
      .collect(),
    new: await ctx.db
      .query("auth0Memberships")
      .withIndex("by_org", (q) => q.eq("auth0OrgId", "org_b").eq("auth0UserId", ADA.user_id))
      .collect(),
  }));
  expect(orgB.old).toEqual([]);
  expect(orgB.new.map((m) => m.roles)).toEqual([["admin"]]);
  expect(await adaOrgs(t)).toEqual(["org_a acme viewer", "org_b bravo admin", "org_c charlie "]);

  // Resumed (as the hourly cron does): each step schedules the next until nothing is left.
  vi.useFakeTimers();
  const resumed = await t.mutation(internal.auth0.migrateLegacyTables, {});
  expect(resumed).toMatchObject({ state: "running", moved: MIGRATION_STEP_ROWS });
  await t.finishAllScheduledFunctions(vi.runAllTimers);

  c = await counts(t);
  expect(total(c.old)).toBe(0);
  expect(c.new).toEqual({
    organizations: ORG_ROWS,
    memberships: MEMBERSHIP_ROWS,
    userTombstones: 1,
    organizationTombstones: 1,
    logSyncState: 1,
  });
  // Every row once, nothing lost: the same answers as before the first step.
  expect(await adaOrgs(t)).toEqual(["org_a acme viewer", "org_b bravo admin", "org_c charlie "]);
  expect((await t.query(internal.auth0.logSyncHealth, {})).checkpoint).toBe("9001");
  await deliverUserUpdated(t, {
    user_id: GONE,
    updated_at: new Date(hourAgo - 30_000).toISOString(),
  });
  expect(await goneRows(t)).toEqual([]);

  // Done, and idempotent: another run moves nothing; the doctor says to remove the old tables.
  const again = await t.mutation(internal.auth0.migrateLegacyTables, {});
  // Two rows were moved by the writes that touched them: Ada's org_b membership (the login) and
  // the tombstone (the refused profile); the migration moved every other row, once.
  expect(again).toMatchObject({ state: "done", moved: 0, merged: 0, totalMoved: SEEDED - 2 });
  const done = await doctor(t);
  expect(done.status).toBe("warn");
  expect(done.detail).toContain("the 0.1 tables are empty");
  expect(done.detail).toContain("remove `...auth0LegacyTables` from convex/schema.ts");
  // ~1,000 rows moved by real 500-row steps under the limits: seconds, not the default 5 s.
}, 60_000);

test("a row a newer write already put under the new name is merged, never doubled: the later Auth0 state wins", async () => {
  const t = newT();
  await t.run(async (ctx) => {
    const row = (name: string, auth0At: number) => ({
      auth0OrgId: "org_x",
      name,
      auth0At,
      createdAt: auth0At,
      updatedAt: auth0At,
    });
    await ctx.db.insert("organizations", row("from 0.1", hourAgo));
    await ctx.db.insert("auth0Organizations", row("newer", hourAgo + 1000));
    await ctx.db.insert("organizations", {
      ...row("older elsewhere", hourAgo),
      auth0OrgId: "org_y",
    });
    await ctx.db.insert("auth0Organizations", {
      ...row("was older", hourAgo - 1000),
      auth0OrgId: "org_y",
    });
  });
  const step = await t.mutation(internal.auth0.migrateLegacyTables, {});
  expect(step).toMatchObject({ state: "done", moved: 0, merged: 2 });
  const rows = await t.run(async (ctx) => ({
    old: await ctx.db.query("organizations").collect(),
    new: (await ctx.db.query("auth0Organizations").collect()).map(
      (r) => `${r.auth0OrgId} ${r.name}`,
    ),
  }));
  expect(rows.old).toEqual([]);
  expect(rows.new.sort()).toEqual(["org_x newer", "org_y older elsewhere"]);
});

test("the variable set without the old tables in the schema: the doctor fails, saying what to add", async () => {
  const t = convexTest({
    schema: defineSchema({ ...auth0Tables }),
    modules,
    transactionLimits: true,
  });
  const status = await t.query(internal.auth0.legacyTablesStatus, {});
  expect(status.schemaDeclared).toBe(false);
  const verdict = judgeLegacyTables(status);
  expect(verdict.status).toBe("fail");
  expect(verdict.detail).toContain("add `...auth0LegacyTables`");
  delete process.env.AUTH0_LEGACY_TABLES;
  expect(judgeLegacyTables(await t.query(internal.auth0.legacyTablesStatus, {}))).toEqual({
    status: "pass",
    detail: "no rows under the 0.1 table names",
  });
});
