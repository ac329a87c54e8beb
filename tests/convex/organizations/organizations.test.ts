/**
 * Organizations and memberships: the login path (a signed upsert carrying the organization),
 * organization events in and out of order, deletions that stick, the user deletion cascade, and
 * the host app's helpers.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import { requireOrgRole } from "../../../server/organizations/organizations";
import { INLINE_PURGE, PURGE_CHUNK } from "../../../server/limits";
import schema from "../../../convex/schema";
import { audienceFor, signRequest, UPSERT_USER_PATH } from "../../../server/http/signedRequest";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { cloudEvent, deliver, DOMAIN, setEventsEnv, type T } from "../events/eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const SECRET = "wWzeXwnZ7Q3cnTsA6CFEA5smwB9LVoVEy2loyD7Vdl0";
const ADA = "auth0|ada";
const ADA_KEY = tokenIdentifier(DOMAIN, ADA);

beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_ACTION_SECRET = SECRET;
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation(() => {});
  }
});
afterEach(() => vi.restoreAllMocks());

const newT = (): T => convexTest({ schema, modules, transactionLimits: true });
const minutesAgo = (m: number) => Date.now() - m * 60_000;

async function orgTables(t: T) {
  return t.run(async (ctx) => ({
    organizations: await ctx.db.query("auth0Organizations").collect(),
    memberships: await ctx.db.query("auth0Memberships").collect(),
    tombstones: await ctx.db.query("auth0OrganizationTombstones").collect(),
  }));
}

/** The Action's signed upsert for a login, with `organization` when it went through one. */
async function login(
  t: T,
  organization?: Record<string, unknown>,
  auth0UserId = ADA,
  signedAtS?: number,
) {
  const body = JSON.stringify({
    tokenIdentifier: tokenIdentifier(DOMAIN, auth0UserId),
    email: `${auth0UserId.split("|")[1]}@example.com`,
    auth0UpdatedAt: minutesAgo(60),
    ...(organization ? { organization } : {}),
  });
  const token = await signRequest(SECRET, body, audienceFor(SITE), 30, signedAtS);
  const res = await t.fetch(UPSERT_USER_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const orgEvent = (type: string, time: number, object: Record<string, unknown>, id?: string) =>
  cloudEvent({ type, time, object, id });
const member = (org: string, user: string, role?: string) => ({
  organization: { id: org, name: org },
  user: { user_id: user },
  ...(role ? { role: { id: `rol_${role}`, name: role } } : {}),
});

describe("a login through an organization", () => {
  test("makes the organization and the membership current with the user, in one request", async () => {
    const t = newT();
    const res = await login(t, {
      id: "org_acme",
      name: "acme",
      displayName: "Acme Inc.",
      roles: ["admin", "billing"],
    });
    expect(res.status).toBe(200);
    const { organizations, memberships } = await orgTables(t);
    expect(organizations).toMatchObject([
      { auth0OrgId: "org_acme", name: "acme", displayName: "Acme Inc." },
    ]);
    expect(memberships).toMatchObject([
      {
        auth0OrgId: "org_acme",
        auth0UserId: ADA,
        roles: ["admin", "billing"],
        userId: res.json.userId,
      },
    ]);
    // A later login with fewer roles: the login's list is the whole list.
    await login(t, { id: "org_acme", name: "acme", displayName: "Acme Inc.", roles: ["billing"] });
    expect((await orgTables(t)).memberships[0].roles).toEqual(["billing"]);
  });

  test("is dated when it was signed: an event from after the login wins over a slow request", async () => {
    const t = newT();
    const assigned = orgEvent(
      "organization.member.role.assigned",
      Date.now() - 30_000,
      member("org_acme", ADA, "admin"),
    );
    expect((await deliver(t, assigned)).json.outcome).toBe("applied");
    // The admin role is removed in Auth0 10 s ago; a login signed 20 s ago arrives only now.
    const removed = orgEvent(
      "organization.member.role.deleted",
      Date.now() - 10_000,
      member("org_acme", ADA, "admin"),
    );
    expect((await deliver(t, removed)).json.outcome).toBe("applied");
    const slow = await login(
      t,
      { id: "org_acme", name: "acme", roles: ["admin"] },
      ADA,
      Math.floor(Date.now() / 1000) - 20,
    );
    expect(slow.status).toBe(200);
    expect((await orgTables(t)).memberships[0].roles).toEqual([]);
  });

  test("refuses an oversized organization without writing anything", async () => {
    const t = newT();
    const res = await login(t, {
      id: "org_acme",
      name: "acme",
      roles: Array.from({ length: 101 }, (_, i) => `r${i}`),
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("invalid_body");
    const all = await orgTables(t);
    expect(all.organizations).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual([]);
  });
});

describe("organization events", () => {
  test("created, updated and deleted, ordered by time; a deletion sticks", async () => {
    const t = newT();
    const created = orgEvent("organization.created", minutesAgo(30), {
      id: "org_1",
      name: "acme",
      display_name: "Acme",
      metadata: { tier: "gold" },
    });
    const renamed = orgEvent("organization.updated", minutesAgo(20), {
      id: "org_1",
      name: "acme",
      display_name: "Acme Inc.",
    });
    // Delivered out of order: the rename first, then the older creation.
    expect((await deliver(t, renamed)).json.outcome).toBe("applied");
    expect((await deliver(t, created)).json.outcome).toBe("superseded");
    expect((await orgTables(t)).organizations).toMatchObject([
      { name: "acme", displayName: "Acme Inc." },
    ]);
    await deliver(t, orgEvent("organization.member.added", minutesAgo(15), member("org_1", ADA)));
    const deleted = orgEvent("organization.deleted", minutesAgo(10), { id: "org_1", name: "acme" });
    expect((await deliver(t, deleted)).json.outcome).toBe("applied");
    const after = await orgTables(t);
    expect(after.organizations).toEqual([]);
    expect(after.memberships).toEqual([]);
    // Late deliveries from before the deletion bring nothing back.
    const late = orgEvent("organization.updated", minutesAgo(12), { id: "org_1", name: "acme" });
    expect((await deliver(t, late)).json.outcome).toBe("superseded");
    const lateMember = orgEvent("organization.member.added", minutesAgo(11), member("org_1", ADA));
    expect((await deliver(t, lateMember)).json.outcome).toBe("superseded");
    expect(await orgTables(t)).toMatchObject({ organizations: [], memberships: [] });
    // A redelivery is acknowledged once more and changes nothing.
    expect((await deliver(t, deleted)).json).toMatchObject({ duplicate: true });
  });

  test("deleting a large organization removes its memberships in batches", async () => {
    const t = newT();
    const now = Date.now();
    await t.run(async (ctx) => {
      for (let i = 0; i < PURGE_CHUNK + 5; i++) {
        await ctx.db.insert("auth0Memberships", {
          auth0UserId: `auth0|m${i}`,
          auth0OrgId: "org_big",
          roles: [],
          roleTimes: [],
          auth0At: now - 60_000,
          createdAt: now,
          updatedAt: now,
        });
      }
    });
    const deleted = orgEvent("organization.deleted", minutesAgo(0.5), {
      id: "org_big",
      name: "big",
    });
    expect((await deliver(t, deleted)).json.outcome).toBe("applied");
    const count = () =>
      t.run(async (ctx) => (await ctx.db.query("auth0Memberships").collect()).length);
    // A first chunk goes with the deletion; scheduled pages remove the rest.
    expect(await count()).toBe(PURGE_CHUNK + 5 - INLINE_PURGE);
    vi.useFakeTimers();
    try {
      await t.finishAllScheduledFunctions(vi.runAllTimers);
    } finally {
      vi.useRealTimers();
    }
    expect(await count()).toBe(0);
  }, 60_000);

  test("members and roles: a late member.added or role.assigned never undoes a newer removal", async () => {
    const t = newT();
    const added = orgEvent("organization.member.added", minutesAgo(30), member("org_1", ADA));
    const assigned = orgEvent(
      "organization.member.role.assigned",
      minutesAgo(25),
      member("org_1", ADA, "admin"),
    );
    const unassigned = orgEvent(
      "organization.member.role.deleted",
      minutesAgo(20),
      member("org_1", ADA, "admin"),
    );
    const removed = orgEvent("organization.member.deleted", minutesAgo(10), member("org_1", ADA));
    // Newest first, each twice.
    for (const e of [removed, unassigned, assigned, added, removed, assigned]) await deliver(t, e);
    expect((await orgTables(t)).memberships).toEqual([]);

    // Re-added later: a membership again, without the role removed in between.
    await deliver(t, orgEvent("organization.member.added", minutesAgo(5), member("org_1", ADA)));
    expect((await orgTables(t)).memberships).toMatchObject([{ auth0UserId: ADA, roles: [] }]);
    await deliver(t, assigned); // already seen: a duplicate
    const lateAssign = orgEvent(
      "organization.member.role.assigned",
      minutesAgo(22),
      member("org_1", ADA, "admin"),
    );
    expect((await deliver(t, lateAssign)).json.outcome).toBe("superseded");
    expect((await orgTables(t)).memberships[0].roles).toEqual([]);
  });

  test("a membership recorded before the user has a row is linked when the row is created", async () => {
    const t = newT();
    await deliver(
      t,
      orgEvent("organization.member.role.assigned", minutesAgo(5), member("org_1", ADA, "viewer")),
    );
    expect((await orgTables(t)).memberships[0]).not.toHaveProperty("userId");
    const { userId } = await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: ADA_KEY,
      auth0UpdatedAt: minutesAgo(60),
    });
    expect((await orgTables(t)).memberships[0]).toMatchObject({ userId, roles: ["viewer"] });
  });

  test("bad or future-dated organization events are recorded as failed and change nothing", async () => {
    const t = newT();
    const noName = orgEvent("organization.created", minutesAgo(1), { id: "org_1" });
    expect((await deliver(t, noName)).json.outcome).toBe("failed");
    const noRole = orgEvent(
      "organization.member.role.assigned",
      minutesAgo(1),
      member("org_1", ADA),
    );
    expect((await deliver(t, noRole)).json.outcome).toBe("failed");
    const future = orgEvent(
      "organization.member.added",
      Date.now() + 3_600_000,
      member("org_1", ADA),
    );
    expect((await deliver(t, future)).json.outcome).toBe("failed");
    const ancient = orgEvent("organization.created", minutesAgo(60 * 24 * 40), {
      id: "org_1",
      name: "acme",
    });
    expect((await deliver(t, ancient)).json.outcome).toBe("failed");
    expect(await orgTables(t)).toEqual({ organizations: [], memberships: [], tombstones: [] });
  });

  test("deleting a user removes their memberships; a late member.added does not bring them back", async () => {
    const t = newT();
    await login(t, { id: "org_1", name: "acme", roles: ["admin"] });
    await login(t, { id: "org_2", name: "globex", roles: [] });
    expect((await orgTables(t)).memberships).toHaveLength(2);
    await t.mutation(internal.auth0.deleteFromAuth0, { auth0UserId: ADA, deletedAt: Date.now() });
    expect((await orgTables(t)).memberships).toEqual([]);
    const late = orgEvent("organization.member.added", minutesAgo(1), member("org_1", ADA));
    expect((await deliver(t, late)).json.outcome).toBe("superseded");
    expect((await orgTables(t)).memberships).toEqual([]);
  });
});

describe("helpers for the host app", () => {
  const identity = (claims: Record<string, unknown> = {}) => ({
    issuer: `https://${DOMAIN}/`,
    subject: ADA,
    tokenIdentifier: ADA_KEY,
    ...claims,
  });

  test("mine, current and requireOrgRole read the cache", async () => {
    const t = newT();
    await login(t, { id: "org_1", name: "acme", displayName: "Acme Inc.", roles: ["admin"] });
    await login(t, { id: "org_2", name: "globex", roles: ["viewer"] });
    const asAda = t.withIdentity(identity({ org_id: "org_1" }));
    expect(await asAda.query(api.auth0.myOrganizations, {})).toEqual(
      expect.arrayContaining([
        { auth0OrgId: "org_1", name: "acme", displayName: "Acme Inc.", roles: ["admin"] },
        { auth0OrgId: "org_2", name: "globex", roles: ["viewer"] },
      ]),
    );
    expect(await asAda.query(api.auth0.currentOrganization, {})).toEqual({
      auth0OrgId: "org_1",
      name: "acme",
      displayName: "Acme Inc.",
      roles: ["admin"],
    });
    // The namespaced claim set by the Action works as well.
    const namespaced = t.withIdentity(identity({ "https://myapp.example.com/org_id": "org_2" }));
    expect(await namespaced.query(api.auth0.currentOrganization, {})).toMatchObject({
      roles: ["viewer"],
    });

    const granted = await asAda.run((ctx) => requireOrgRole(ctx, "admin"));
    expect(granted.roles).toEqual(["admin"]);
    const codeOf = async (claims: Record<string, unknown>, role: string) => {
      try {
        await t.withIdentity(identity(claims)).run((ctx) => requireOrgRole(ctx, role));
        return "granted";
      } catch (err) {
        return (err as { data?: { code?: string } }).data?.code;
      }
    };
    expect(await codeOf({ org_id: "org_2" }, "admin")).toBe("missing_role");
    expect(await codeOf({ org_id: "org_9" }, "admin")).toBe("not_a_member");
    expect(await codeOf({}, "admin")).toBe("no_organization");
    expect(
      await t.run(async (ctx) => {
        try {
          await requireOrgRole(ctx, "admin");
          return "granted";
        } catch (err) {
          return (err as { data?: { code?: string } }).data?.code;
        }
      }),
    ).toBe("not_signed_in");
  });
});
