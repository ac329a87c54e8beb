/**
 * Adopting an app's existing `users` table (the Convex docs' shape `{ name, tokenIdentifier }`):
 * the adoption schema accepts the old rows, logins complete their own row meanwhile, and
 * `auth0:adoptExistingRows` completes the rest page by page without a second row per user.
 */
import { convexTest } from "convex-test";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import { ADOPTION_PAGE_SIZE } from "../../../server/users/adoption";
import schema from "../../../convex/schema";
import { adoptionUserFields } from "../../../server/tables";
import { CONVEX_LIMITS, PLANNED_SHARE } from "../../../server/limits";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { peakUsage, resetPeakUsage } from "../../../scripts/lib/productionLimits";

const modules = import.meta.glob("../../../convex/**/*.*s");
const DOMAIN = "tenant.us.auth0.com";
const CUSTOM = "login.example.com";
const FOREIGN = "other-tenant.eu.auth0.com";
const NOW = Date.parse("2026-11-22T12:00:00Z");

/** The app's schema during adoption: its own field, the module's fields in adoption form. */
const adoptionSchema = defineSchema({
  ...schema.tables,
  users: defineTable({ ...adoptionUserFields, plan: v.optional(v.string()) })
    .index("by_token", ["tokenIdentifier"])
    .index("by_auth0_user_id", ["auth0UserId"])
    .index("by_email", ["email"])
    .index("by_auth0_updated_at", ["auth0UpdatedAt"]),
  messages: defineTable({ author: v.id("users"), body: v.string() }),
});
const newT = () => convexTest({ schema: adoptionSchema, modules, transactionLimits: true });
type T = ReturnType<typeof newT>;

beforeEach(() => {
  process.env.AUTH0_DOMAIN = DOMAIN;
  process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM;
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  vi.spyOn(console, "log").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Inserts rows exactly as the app wrote them before the module: `{ name, tokenIdentifier }`. */
const insertOld = (t: T, rows: { tokenIdentifier: string; name: string; plan?: string }[]) =>
  t.run(async (ctx) => {
    const ids = [];
    for (const row of rows) ids.push(await ctx.db.insert("users", row));
    return ids;
  });
const allUsers = (t: T) => t.run((ctx) => ctx.db.query("users").collect());

async function adopt(t: T, dryRun?: boolean) {
  const first = await t.mutation(internal.auth0.adoptExistingRows, dryRun ? { dryRun } : {});
  await t.finishAllScheduledFunctions(vi.runAllTimers, 100);
  return first;
}
/** Every transaction since the last reset stayed within the planned share of each limit
 * (index ranges counted as a deployment does, patches included: tests/setup/productionLimits.ts). */
function expectWithinPlan() {
  const peak = peakUsage();
  expect(peak.databaseQueries).toBeLessThanOrEqual(CONVEX_LIMITS.indexRanges * PLANNED_SHARE);
  expect(peak.bytesRead).toBeLessThanOrEqual(CONVEX_LIMITS.bytesRead * PLANNED_SHARE);
  expect(peak.documentsWritten).toBeLessThanOrEqual(CONVEX_LIMITS.documentsWritten * PLANNED_SHARE);
  expect(peak.functionsScheduled).toBeLessThanOrEqual(
    CONVEX_LIMITS.functionsScheduled * PLANNED_SHARE,
  );
}

/** The totals the last step logs. */
const loggedTotals = () => {
  const lines = vi.mocked(console.log).mock.calls.map((c) => String(c[0]));
  const last = lines.filter((l) => l.startsWith("auth0:adoptExistingRows")).at(-1)!;
  return JSON.parse(last.slice(last.indexOf("{"))) as Record<string, number>;
};

describe("the adoption schema", () => {
  test("accepts the app's old rows, which the module's own schema refuses", async () => {
    const old = { tokenIdentifier: tokenIdentifier(DOMAIN, "auth0|a"), name: "Ada" };
    const strict = convexTest({ schema, modules, transactionLimits: true });
    await expect(strict.run((ctx) => ctx.db.insert("users", old as never))).rejects.toThrow(
      /auth0UserId/,
    );
    await insertOld(newT(), [old]);
  });
});

describe("logins before the migration", () => {
  test("a login completes the user's old row instead of adding a second one", async () => {
    const t = newT();
    const [id] = await insertOld(t, [
      { tokenIdentifier: tokenIdentifier(DOMAIN, "auth0|a"), name: "Old Name", plan: "pro" },
    ]);
    await t.run((ctx) => ctx.db.insert("messages", { author: id, body: "hi" }));
    const before = (await allUsers(t))[0];
    const signedIn = t.withIdentity({
      issuer: `https://${DOMAIN}/`,
      subject: "auth0|a",
      name: "Ada Lovelace",
      email: "ada@example.com",
    });
    // Not adopted yet: current() says "not stored yet" rather than failing its validator.
    expect(await signedIn.query(api.auth0.current, {})).toBeNull();
    expect(await signedIn.mutation(api.auth0.store, {})).toBe(id);
    const rows = await allUsers(t);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      _id: id,
      auth0UserId: "auth0|a",
      name: "Ada Lovelace",
      email: "ada@example.com",
      plan: "pro",
      createdAt: before._creationTime,
      updatedAt: NOW,
      lastActiveAt: NOW,
    });
  });

  test("a custom-domain login (or the Action) finds the old row keyed under the tenant domain", async () => {
    const t = newT();
    const [id] = await insertOld(t, [
      { tokenIdentifier: tokenIdentifier(DOMAIN, "google-oauth2|77"), name: "Grace" },
    ]);
    const viaCustom = await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: tokenIdentifier(CUSTOM, "google-oauth2|77"),
      name: "Grace Hopper",
      auth0UpdatedAt: NOW - 60_000,
      login: true,
    });
    expect(viaCustom).toEqual({ userId: id, created: false });
    expect(await allUsers(t)).toMatchObject([
      { _id: id, auth0UserId: "google-oauth2|77", name: "Grace Hopper" },
    ]);
  });
});

describe("auth0:adoptExistingRows", () => {
  const rowsOf = (n: number) => {
    const rows = [];
    for (let i = 0; i < n; i++) {
      const sub = i % 3 === 0 ? `google-oauth2|${i}` : `auth0|user${i}`;
      const issuer = i % 10 === 0 ? FOREIGN : i % 4 === 0 ? CUSTOM : DOMAIN;
      rows.push({ tokenIdentifier: tokenIdentifier(issuer, sub), name: `User ${i}` });
    }
    return rows;
  };

  test("completes every trusted row over several pages, leaves foreign ones, and is idempotent", async () => {
    const n = ADOPTION_PAGE_SIZE * 2 + 50;
    const t = newT();
    await insertOld(t, rowsOf(n));
    // One user logged in meanwhile: the migration must not count or touch it as new.
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: tokenIdentifier(DOMAIN, "auth0|user1"),
      name: "Logged In",
      login: true,
    });
    const foreign = rowsOf(n).filter((r) => r.tokenIdentifier.startsWith(`https://${FOREIGN}/`));

    const dry = await adopt(t, true);
    expect(dry.isDone).toBe(false); // more than one page
    const dryTotals = loggedTotals();
    expect(dryTotals).toEqual({
      scanned: n,
      adopted: n - foreign.length - 1,
      alreadyAdopted: 1,
      foreignIssuer: foreign.length,
      malformed: 0,
      deletedInAuth0: 0,
    });
    // The dry run wrote nothing.
    expect((await allUsers(t)).filter((r) => r.auth0UserId !== undefined)).toHaveLength(1);

    resetPeakUsage();
    await adopt(t);
    expectWithinPlan();
    expect(loggedTotals()).toEqual(dryTotals);
    const rows = await allUsers(t);
    expect(rows).toHaveLength(n);
    for (const row of rows) {
      const foreignRow = row.tokenIdentifier.startsWith(`https://${FOREIGN}/`);
      if (foreignRow) {
        expect(row).not.toHaveProperty("auth0UserId");
      } else {
        expect(row.auth0UserId).toBe(row.tokenIdentifier.split("/|")[1]);
        expect(row.createdAt).toBe(row._creationTime);
        expect(row.updatedAt).toBe(NOW);
      }
    }

    // Again: everything is already adopted, nothing is written.
    const snapshot = await allUsers(t);
    vi.setSystemTime(NOW + 60_000);
    await adopt(t);
    expect(loggedTotals()).toMatchObject({
      scanned: n,
      adopted: 0,
      alreadyAdopted: n - foreign.length,
      foreignIssuer: foreign.length,
    });
    expect(await allUsers(t)).toEqual(snapshot);

    // Logins after the migration find the adopted rows: still one row per user.
    for (const i of [2, 3, 4]) {
      const sub = i % 3 === 0 ? `google-oauth2|${i}` : `auth0|user${i}`;
      for (const issuer of [DOMAIN, CUSTOM]) {
        const r = await t.mutation(internal.auth0.upsertFromAuth0, {
          tokenIdentifier: tokenIdentifier(issuer, sub),
          login: true,
        });
        expect(r.created).toBe(false);
      }
    }
    expect(await allUsers(t)).toHaveLength(n);
  });

  test("a page whose memberships would pass the planned budget stops early and resumes exactly", async () => {
    const t = newT();
    const subs = ["auth0|m0", "auth0|m1", "auth0|m2", "auth0|m3", "auth0|m4"];
    await insertOld(
      t,
      subs.map((sub) => ({ tokenIdentifier: tokenIdentifier(DOMAIN, sub), name: sub })),
    );
    // Memberships recorded (by organization events) before the rows were adopted: no userId.
    // Each is as large as the caps allow (~100 KB), so linking 16 per user reads ~1.7 MB.
    const roles = Array.from({ length: 100 }, (_, i) => `${i}`.padStart(500, "r"));
    for (const sub of subs) {
      await t.run(async (ctx) => {
        for (let o = 0; o < 16; o++) {
          await ctx.db.insert("auth0Memberships", {
            auth0UserId: sub,
            auth0OrgId: `org_${o}`,
            roles,
            roleTimes: roles.map((name) => ({ name, present: true, at: NOW - 1 })),
            auth0At: NOW - 1,
            createdAt: NOW - 1,
            updatedAt: NOW - 1,
          });
        }
      });
    }
    resetPeakUsage();
    const first = await adopt(t);
    expectWithinPlan();
    expect(first.isDone).toBe(false); // one page of 5 rows, but not in one step
    expect(first.counts.adopted).toBeLessThan(subs.length);
    expect(loggedTotals()).toEqual({
      scanned: 5,
      adopted: 5,
      alreadyAdopted: 0,
      foreignIssuer: 0,
      malformed: 0,
      deletedInAuth0: 0,
    });
    const users = await allUsers(t);
    const memberships = await t.run((ctx) => ctx.db.query("auth0Memberships").collect());
    for (const m of memberships) {
      expect(m.userId).toBe(users.find((u) => u.auth0UserId === m.auth0UserId)?._id);
    }
  });

  test("a user deleted in Auth0 before its row was adopted is deleted once adopted", async () => {
    const t = newT();
    await insertOld(t, [
      { tokenIdentifier: tokenIdentifier(DOMAIN, "auth0|gone"), name: "Gone" },
      { tokenIdentifier: tokenIdentifier(DOMAIN, "auth0|kept"), name: "Kept" },
    ]);
    // The deletion arrives first: no adopted row to find, only the tombstone is written.
    await t.mutation(internal.auth0.deleteFromAuth0, {
      auth0UserId: "auth0|gone",
      deletedAt: NOW - 60_000,
    });
    expect(await allUsers(t)).toHaveLength(2);
    await adopt(t);
    expect(loggedTotals()).toMatchObject({ adopted: 1, deletedInAuth0: 1 });
    expect((await allUsers(t)).map((r) => r.auth0UserId)).toEqual(["auth0|kept"]);
  });
});
