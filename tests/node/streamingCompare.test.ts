/**
 * The streaming comparison (a fixed-size index of the listing, rows compared as their pages
 * arrive) gives exactly the report the in-memory comparison gave before it
 * (tests/node/helpers/todaysComparison.ts): the same missing users, orphan candidates and their
 * rows, drift per field, unknown issuers and counts, in the same order; and it refuses a listing
 * that names a user twice just as that one did. Also for a deployment with field rules (fields
 * the app owns, fields mapped from Auth0 metadata, required or optional). First on generated
 * listings and tables (pure, ~4 s), then on a tenant through check-sync (~5 s); and the index
 * itself on 100,000 ids (~1 s).
 */
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { Auth0Index } from "../../scripts/lib/reconcile/auth0Index";
import type { UserRow } from "../../scripts/lib/reconcile/convexClient";
import { NO_FIELD_RULES, RowComparer } from "../../scripts/lib/reconcile/plan";
import { valueAtPath } from "../../server/users/auth0Profile";
import type { UserFieldRules } from "../../server/reconcile/sync";
import { normalizeIssuer } from "../../server/tokenIdentifier";
import { PROFILE_KEYS } from "../../server/users/profile";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { todaysComparison } from "./helpers/todaysComparison";

const NOW = Date.parse("2026-05-01T12:00:00Z");
const CANONICAL = "https://tenant.example.com/";
const CUSTOM = "https://login.example.com/";
const UNKNOWN = "https://old-tenant.eu.auth0.com/";
const ISSUERS = [CANONICAL, CUSTOM];
const IDS = ["auth0|a1", "auth0|b2", "google-oauth2|1234", "samlp|conn|u|x", "auth0|c3", "sms|+33"];

/** The streaming comparison over a listing and a table, as run.ts feeds it. */
function streaming(
  users: Record<string, unknown>[],
  rows: UserRow[],
  rules: UserFieldRules = NO_FIELD_RULES,
) {
  const index = new Auth0Index(rules);
  for (const user of users) index.add(user);
  const comparer = new RowComparer(index, ISSUERS, NOW);
  for (const row of rows) comparer.add(row);
  const plan = comparer.finish();
  return {
    plan,
    candidateRows: new Map(
      plan.orphanCandidates.map((c) => [c.auth0UserId, comparer.rowsOf(c.auth0UserId)]),
    ),
    trustedRows: comparer.trustedRows,
  };
}

/** What each side gives: the result, or the message it refused with. */
function outcome<T>(run: () => T): T | { refused: string } {
  try {
    return run();
  } catch (err) {
    return { refused: (err as Error).message };
  }
}

/** Both comparisons give the same plan, orphans' rows and trusted count, or the same refusal. */
function expectAgreement(
  users: Record<string, unknown>[],
  rows: UserRow[],
  rules: UserFieldRules = NO_FIELD_RULES,
) {
  const today = outcome(() => todaysComparison(users, rows, ISSUERS, NOW, rules));
  const now = outcome(() => streaming(users, rows, rules));
  if ("refused" in today) expect(now).toEqual(today);
  else {
    const { plan, candidateRows, trustedRows } = today;
    expect(now).toEqual({ plan, candidateRows, trustedRows });
  }
}

// Small pools, so that equal and different facts both come up often.
const text = (...values: string[]) =>
  fc.constantFrom<string | null | undefined>(...values, "", null, undefined);
const date = fc.constantFrom(
  "2026-04-01T00:00:00.000Z",
  "2026-04-02T00:00:00.000Z",
  "not a date",
  undefined,
);
const auth0User = fc.record(
  {
    user_id: fc.constantFrom(...IDS),
    email: text("a@example.com", "b@example.com"),
    email_verified: fc.constantFrom(true, false, null, undefined),
    name: text("Ann", "Änn Ω"),
    nickname: text("ann", "bob"),
    given_name: text("Ann"),
    family_name: text("Lee"),
    picture: text("https://cdn.example.com/a.png"),
    updated_at: date,
  },
  { requiredKeys: ["user_id"] },
);
/** A row: a user's facts as a login stored them, some changed, under some issuer. */
const rowPlan = fc.record({
  id: fc.constantFrom(...IDS, "auth0|gone"),
  issuer: fc.constantFrom(CANONICAL, CANONICAL, CUSTOM, UNKNOWN, "malformed"),
  changes: fc.dictionary(
    fc.constantFrom(...PROFILE_KEYS),
    fc.constantFrom<unknown>("a@example.com", "Bob", true, false, null, undefined, 7),
  ),
  auth0UpdatedAt: fc.constantFrom(
    undefined,
    Date.parse("2026-04-01T00:00:00Z"),
    Date.parse("2026-04-03T00:00:00Z"),
    NOW + 3_600_000, // from the future
  ),
  anonymized: fc.boolean(),
});

type RowPlan = typeof rowPlan extends fc.Arbitrary<infer T> ? T : never;

function materialize(
  users: Record<string, unknown>[],
  plans: RowPlan[],
  metadata: (user: Record<string, unknown>, i: number) => Record<string, unknown> = () => ({}),
): UserRow[] {
  return plans.map((p, i) => {
    const user = users.find((u) => u.user_id === p.id) ?? {};
    const facts: Record<string, unknown> = {
      email: user.email,
      emailVerified: user.email_verified,
      name: user.name ?? user.nickname,
      nickname: user.nickname,
      givenName: user.given_name,
      familyName: user.family_name,
      avatarUrl: user.picture,
    };
    for (const [key, value] of Object.entries({ ...facts, ...p.changes })) {
      if (value === undefined || value === "") delete facts[key];
      else facts[key] = value;
    }
    return {
      _id: `row${i}`,
      _creationTime: i,
      tokenIdentifier: p.issuer === "malformed" ? `nope-${p.id}` : `${p.issuer}|${p.id}`,
      auth0UserId: p.id,
      ...facts,
      ...metadata(user, i),
      ...(p.auth0UpdatedAt !== undefined ? { auth0UpdatedAt: p.auth0UpdatedAt } : {}),
      ...(p.anonymized ? { deletedAt: NOW - 1000 } : {}),
      createdAt: 1,
      updatedAt: 1,
    } as unknown as UserRow;
  });
}

describe("the streaming comparison agrees with today's", () => {
  test("on generated listings and tables: duplicates, both issuers, unknown issuers, anonymized, future and newer dates, null and odd values", () => {
    fc.assert(
      fc.property(
        fc.array(auth0User, { maxLength: 8 }),
        fc.array(rowPlan, { maxLength: 12 }),
        (users, plans) => {
          const rows = materialize(users, plans);
          expectAgreement(users, rows);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** Mappings an app may configure: required and optional, flat and nested, either source. */
const MAPPINGS = [
  { field: "plan", from: "app_metadata.plan", optional: false },
  { field: "locale", from: "user_metadata.locale", optional: true },
  { field: "theme", from: "user_metadata.prefs.theme", optional: true },
  { field: "roles", from: "app_metadata.roles", optional: false },
];
const rules = fc.record({
  appOwned: fc.subarray(["name", "avatarUrl", "email", "nickname", "emailVerified"]),
  metadata: fc.subarray(MAPPINGS),
});
// Values that are equal as canonical JSON in another key order, or differ by type only.
const metaValue = fc.constantFrom<unknown>(
  "pro",
  "free",
  "",
  0,
  false,
  null,
  ["admin", "dev"],
  ["dev", "admin"],
  { a: 1, b: [2] },
  { b: [2], a: 1 },
  undefined,
);
const metadataObject = fc.oneof(
  fc.record(
    {
      plan: metaValue,
      roles: metaValue,
      locale: metaValue,
      prefs: fc.oneof(fc.record({ theme: metaValue }, { requiredKeys: [] }), metaValue),
    },
    { requiredKeys: [] },
  ),
  fc.constantFrom<unknown>(undefined, null, "not an object", ["an", "array"]),
);
const userWithMetadata = fc
  .tuple(auth0User, metadataObject, metadataObject)
  .map(([user, app, mine]) => ({
    ...user,
    ...(app !== undefined ? { app_metadata: app } : {}),
    ...(mine !== undefined ? { user_metadata: mine } : {}),
  }));
/** Per row, which mapped values the login stored differ from Auth0's (as the app's field). */
const rowMetadataChanges = fc.array(
  fc.dictionary(fc.constantFrom("plan", "locale", "theme", "roles"), metaValue),
  { minLength: 12, maxLength: 12 },
);

describe("with field rules, the streaming comparison agrees with today's", () => {
  test("app-owned fields never drift; mapped metadata (required or optional, nested, absent, reordered) does as today's says", () => {
    fc.assert(
      fc.property(
        rules,
        fc.array(userWithMetadata, { maxLength: 8 }),
        fc.array(rowPlan, { maxLength: 12 }),
        rowMetadataChanges,
        (fieldRules, users, plans, changes) => {
          const rows = materialize(users, plans, (user, i) => {
            // What a login stored: each mapped value as Auth0 held it, some since changed.
            const stored: Record<string, unknown> = {};
            for (const { field, from } of MAPPINGS) {
              const [source, ...keys] = from.split(".");
              const value = valueAtPath(user[source], keys);
              if (value !== undefined) stored[field] = value;
            }
            for (const [field, value] of Object.entries(changes[i])) {
              if (value === undefined) delete stored[field];
              else stored[field] = value;
            }
            return stored;
          });
          expectAgreement(users, rows, fieldRules);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("by hand: an app-owned change is in sync, a moved mapped value is drift, a required key Auth0 lacks is not", () => {
    const owned = { appOwned: ["name"], metadata: MAPPINGS } satisfies UserFieldRules;
    const users = [
      { user_id: "auth0|a1", name: "Ann", app_metadata: { plan: "pro" }, user_metadata: {} },
      {
        user_id: "auth0|b2",
        name: "Bo",
        app_metadata: { roles: ["a", "b"] },
        user_metadata: { locale: "fr", prefs: { theme: "dark" } },
      },
    ];
    const row = (id: string, extra: Record<string, unknown>) =>
      ({
        _id: id,
        _creationTime: 1,
        tokenIdentifier: `${CANONICAL}|${id}`,
        auth0UserId: id,
        createdAt: 1,
        updatedAt: 1,
        ...extra,
      }) as unknown as UserRow;
    const rows = [
      // The app renamed Ann (it owns name); Auth0 has no roles for her (required: kept).
      row("auth0|a1", { name: "Chosen", plan: "pro", roles: ["x"] }),
      // Bo's plan is gone in Auth0 (required: kept); his locale and theme moved.
      row("auth0|b2", { name: "Bo", plan: "free", roles: ["a", "b"], locale: "de", theme: "x" }),
    ];
    const got = streaming(users, rows, owned).plan;
    expect(got).toEqual(todaysComparison(users, rows, ISSUERS, NOW, owned).plan);
    expect(got.inSync).toBe(1);
    expect(got.drift).toEqual([{ auth0UserId: "auth0|b2", fields: ["locale", "theme"] }]);
    // Without the rules, the app's name is drift and the mapped fields are not compared.
    expect(streaming(users, rows).plan.drift).toEqual([
      { auth0UserId: "auth0|a1", fields: ["name"] },
    ]);
  });
});

describe("the index of the listing", () => {
  test("finds each of 100,000 ids (non-ASCII and long ones too) and no other, in listing order", () => {
    const ids = Array.from({ length: 100_000 }, (_, i) =>
      i % 7 === 0
        ? `samlp|Zoë-${i}|ünïcödé`
        : i % 11 === 0
          ? `oauth2|${"x".repeat(300)}${i}`
          : `auth0|${i}`,
    );
    const index = new Auth0Index();
    for (const user_id of ids) index.add({ user_id });
    expect(index.size).toBe(ids.length);
    for (let i = 0; i < ids.length; i += 1) expect(index.slotOf(ids[i])).toBe(i);
    for (const other of ["auth0|100000", "auth0|-1", "samlp|Zoë-1|ünïcödé", "", "auth0|1 "]) {
      expect(index.slotOf(other)).toBeUndefined();
    }
    for (let i = 0; i < ids.length; i += 2) index.markSeen(i);
    expect([...index.unseen()]).toEqual(ids.filter((_, i) => i % 2 === 1));
    expect(() => index.add({ user_id: ids[4242] })).toThrow(`lists ${ids[4242]} twice`);
  });
});

describe("check-sync on a tenant reports what today's comparison reports", () => {
  let tenant: Tenant | undefined;
  afterEach(async () => {
    await tenant?.close();
    tenant = undefined;
    delete process.env.AUTH0_CUSTOM_DOMAIN;
  });

  /**
   * Users in sync, missing, drifted on several fields, with rows under the tenant's domain and
   * its custom domain (drifted on one, in sync on the other), orphans with one and two rows, a
   * row under an old tenant, an anonymized row, a row dated in the future, a newer row.
   */
  async function mixedTenant() {
    const t = (tenant = await startTenant());
    process.env.AUTH0_CUSTOM_DOMAIN = "login.example.com";
    const users = await t.seedInSync(12);
    const later = new Date().toISOString();
    t.emulator.seedUser({ user_id: "auth0|missing-1" });
    t.emulator.seedUser({ user_id: "google-oauth2|missing-2", name: "" });
    t.emulator.updateUser(users[1].user_id, { name: "Renamed", updated_at: later });
    t.emulator.updateUser(users[2].user_id, {
      email: "new@example.com",
      email_verified: false,
      picture: undefined,
      updated_at: later,
    });
    // Rows of both issuers: one in sync, one drifted.
    await t.insertRow(users[3], { issuer: "login.example.com" });
    await t.insertRow(users[4], { issuer: "login.example.com", overrides: { nickname: "old" } });
    for (const [id, both] of [
      ["auth0|gone-1", false],
      ["auth0|gone-both", true],
    ] as const) {
      const gone = t.emulator.seedUser({ user_id: id });
      await t.insertRow(gone);
      if (both) await t.insertRow(gone, { issuer: "login.example.com" });
      t.emulator.removeUser(id);
    }
    const foreign = t.emulator.seedUser({ user_id: "auth0|foreign" });
    await t.insertRow(foreign, { issuer: "old-tenant.eu.auth0.com" });
    t.emulator.removeUser(foreign.user_id);
    await t.convex.t.run(async (ctx) => {
      const rows = await ctx.db.query("users").collect();
      const byId = (id: string) => rows.find((r) => r.auth0UserId === id)!;
      await ctx.db.patch("users", byId(users[5].user_id)._id, { auth0UpdatedAt: NOW * 2 });
      await ctx.db.patch("users", byId(users[6].user_id)._id, {
        name: "Signed In Since",
        auth0UpdatedAt: Date.now(),
      });
      await ctx.db.patch("users", byId(users[7].user_id)._id, { deletedAt: Date.now() - 1000 });
    });
    // An organization Convex has not cached yet, with a member in sync and one missing.
    const acme = t.emulator.orgs.seedOrganization({ id: "org_acme", name: "acme" });
    t.emulator.orgs.setMember(acme.id, users[0].user_id, ["admin"]);
    t.emulator.orgs.setMember(acme.id, "auth0|missing-1", []);
    return t;
  }

  /** Today's report for the tenant as it stands: the listing is the emulator's users. */
  async function todaysReport(t: Tenant) {
    const rows = await t.rows();
    const issuers = [normalizeIssuer(t.emulator.domain), normalizeIssuer("login.example.com")];
    const today = todaysComparison(t.emulator.users.values(), rows, issuers, Date.now());
    const orphans = today.plan.orphanCandidates.filter((c) => !t.emulator.users.has(c.auth0UserId));
    return {
      missing: today.plan.missing,
      drift: today.plan.drift,
      orphans,
      unknownIssuer: today.plan.unknownIssuer,
      counts: {
        auth0Users: today.profiles.size,
        convexRows: rows.length,
        inSync: today.plan.inSync,
        missing: today.plan.missing.length,
        drift: today.plan.drift.length,
        orphans: orphans.length,
        unknownIssuer: today.plan.unknownIssuer.length,
        createdAfterListing: 0,
        uncheckedCandidates: 0,
        newerInConvex: today.plan.newerInConvex,
        anonymized: today.plan.anonymized,
      },
    };
  }

  test("missing, drift per field on rows of both issuers, orphans, unknown issuers and counts, beside the organizations", async () => {
    const t = await mixedTenant();
    const want = await todaysReport(t);
    const run = await t.run("check-sync", ["--json", "--orgs"]);
    expect(run.code, run.stderr).toBe(1);
    const got = JSON.parse(run.stdout) as Record<string, unknown>;
    expect({
      missing: got.missing,
      drift: got.drift,
      orphans: got.orphans,
      unknownIssuer: got.unknownIssuer,
      counts: got.counts,
    }).toEqual(want);
    // The organizations are compared in the same run, their report beside the users'.
    const orgs = got.organizations as {
      memberships: { missing: { auth0OrgId: string; auth0UserId: string }[] };
    };
    expect(orgs).toMatchObject({
      missing: [{ auth0OrgId: "org_acme" }],
      drift: [],
      orphans: [],
      memberships: { roleDrift: [], extra: [] },
    });
    expect(orgs.memberships.missing.map((m) => `${m.auth0OrgId} ${m.auth0UserId}`).sort()).toEqual([
      "org_acme auth0|missing-1",
      "org_acme auth0|u00000",
    ]);
    // The fixture holds every kind it claims to.
    // Missing: two users without rows, and the one whose only row is anonymized.
    expect(want.counts).toMatchObject({ missing: 3, orphans: 2, unknownIssuer: 1, anonymized: 1 });
    expect(want.counts.newerInConvex).toBe(1);
    expect(want.drift.map((d) => d.fields)).toEqual(
      expect.arrayContaining([
        ["name"],
        ["email", "emailVerified", "avatarUrl"],
        ["nickname"],
        ["auth0UpdatedAt"],
      ]),
    );
  });

  test("a user listed twice in the export: refused as today's listing refused it, nothing compared", async () => {
    const t = await mixedTenant();
    t.emulator.jobs.listTwiceInNextExport(["auth0|u00003"]);
    const rows = await t.rows();
    const listing = [...t.emulator.users.values(), t.emulator.users.get("auth0|u00003")!];
    expect(() => todaysComparison(listing, rows, [], Date.now())).toThrow(
      "the users listing lists auth0|u00003 twice",
    );
    const run = await t.run("check-sync", ["--json"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("the users listing lists auth0|u00003 twice");
  });
});
