/**
 * The reconcile's organization routes: signed with the sync secret only, bounded, and writing
 * only through server/organizations/writes.ts with the listing's time.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { SYNC_ORGS_APPLY_PATH, SYNC_ORGS_PAGE_PATH } from "../../../server/reconcile/orgSyncRoutes";
import schema from "../../../convex/schema";
import { audienceFor, signRequest } from "../../../server/http/signedRequest";
import { MAX_BATCH_ITEMS } from "../../../server/reconcile/sync";
import { cloudEvent, deliver, setEventsEnv, type T } from "../events/eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const SYNC_SECRET = "IqbjveLRUQK2yGPXDlw7MgRx-jRpOigrUtxC0z9VuQU";
const ACTION_SECRET = "8MmKriy5nEitvPzqVKoB9UyXzlpjtOpQwZSb-LETX_A";

beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_SYNC_SECRET = SYNC_SECRET;
  process.env.AUTH0_ACTION_SECRET = ACTION_SECRET;
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation(() => {});
  }
});
afterEach(() => vi.restoreAllMocks());

const newT = (): T => convexTest({ schema, modules, transactionLimits: true });

async function call(t: T, path: string, body: unknown, secret = SYNC_SECRET) {
  const text = JSON.stringify(body);
  const token = await signRequest(secret, text, audienceFor(SITE, path));
  const res = await t.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const batch = (over: Record<string, unknown> = {}) => ({
  at: Date.now() - 1000,
  organizations: [],
  organizationDeletions: [],
  memberships: [],
  membershipRemovals: [],
  ...over,
});
const orgRows = (t: T) =>
  t.run(async (ctx) => ({
    organizations: await ctx.db.query("auth0Organizations").collect(),
    memberships: await ctx.db.query("auth0Memberships").collect(),
  }));

describe("organization sync routes", () => {
  test("the Action's secret cannot call them", async () => {
    const t = newT();
    for (const [path, body] of [
      [SYNC_ORGS_PAGE_PATH, { table: "auth0Organizations", cursor: null, numItems: 10 }],
      [SYNC_ORGS_APPLY_PATH, batch()],
    ] as const) {
      const res = await call(t, path, body, ACTION_SECRET);
      expect([res.status, res.json.error], path).toEqual([401, "bad_signature"]);
    }
  });

  test("apply writes through orgWrites, and a newer event keeps its state", async () => {
    const t = newT();
    // An event from after the listing started: the listing's older view must not undo it.
    await deliver(
      t,
      cloudEvent({
        type: "organization.member.role.assigned",
        time: Date.now() - 100,
        object: {
          organization: { id: "org_1" },
          user: { user_id: "auth0|a" },
          role: { id: "rol_billing", name: "billing" },
        },
      }),
    );
    const res = await call(
      t,
      SYNC_ORGS_APPLY_PATH,
      batch({
        organizations: [{ auth0OrgId: "org_1", name: "acme", displayName: "Acme", metadata: null }],
        memberships: [{ auth0OrgId: "org_1", auth0UserId: "auth0|a", roles: ["admin"] }],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.json.results).toEqual([
      { kind: "organization", auth0OrgId: "org_1", outcome: "applied" },
      { kind: "membership", auth0OrgId: "org_1", auth0UserId: "auth0|a", outcome: "applied" },
    ]);
    const { organizations, memberships } = await orgRows(t);
    expect(organizations).toMatchObject([{ name: "acme", displayName: "Acme" }]);
    expect(memberships[0].roles).toEqual(["admin", "billing"]);

    const page = await call(t, SYNC_ORGS_PAGE_PATH, {
      table: "auth0Memberships",
      cursor: null,
      numItems: 10,
    });
    expect(page.json).toMatchObject({ isDone: true, rows: [{ auth0OrgId: "org_1" }] });
  });

  test("bad input is refused and writes nothing", async () => {
    const t = newT();
    const tooMany = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({
      auth0OrgId: `org_${i}`,
    }));
    const big = await call(t, SYNC_ORGS_APPLY_PATH, batch({ organizationDeletions: tooMany }));
    expect([big.status, big.json.error]).toEqual([400, "batch_too_large"]);
    const empty = await call(
      t,
      SYNC_ORGS_APPLY_PATH,
      batch({ memberships: [{ auth0OrgId: "", auth0UserId: "auth0|a", roles: [] }] }),
    );
    expect([empty.status, empty.json.error]).toEqual([400, "invalid_body"]);
    const wrongType = await call(t, SYNC_ORGS_APPLY_PATH, { ...batch(), at: "yesterday" });
    expect(wrongType.status).toBe(400);
    const future = await call(
      t,
      SYNC_ORGS_APPLY_PATH,
      batch({
        at: Date.now() + 3_600_000,
        organizations: [{ auth0OrgId: "org_1", name: "acme", displayName: null, metadata: null }],
      }),
    );
    expect(future.json.results).toEqual([
      { kind: "organization", auth0OrgId: "org_1", outcome: "refused" },
    ]);
    const page = await call(t, SYNC_ORGS_PAGE_PATH, {
      table: "users",
      cursor: null,
      numItems: 10,
    });
    expect(page.status).toBe(400);
    const size = await call(t, SYNC_ORGS_PAGE_PATH, {
      table: "auth0Organizations",
      cursor: null,
      numItems: 0,
    });
    expect([size.status, size.json.error]).toEqual([400, "invalid_body"]);
    expect(await orgRows(t)).toEqual({ organizations: [], memberships: [] });
  });
});

describe("metadata entries", () => {
  test("a key given twice is refused (400), nothing written; as data, `__proto__` is a key like any other", async () => {
    const t = newT();
    const org = (metadata: { key: string; value: string }[]) =>
      batch({
        at: Date.now() - 1000,
        organizations: [{ auth0OrgId: "org_1", name: "acme", displayName: null, metadata }],
      });
    const twice = await call(
      t,
      SYNC_ORGS_APPLY_PATH,
      org([
        { key: "tier", value: "gold" },
        { key: "tier", value: "free" },
      ]),
    );
    expect([twice.status, twice.json.error]).toEqual([400, "invalid_body"]);
    expect(await orgRows(t)).toEqual({ organizations: [], memberships: [] });
    const proto = await call(
      t,
      SYNC_ORGS_APPLY_PATH,
      org([
        { key: "toString", value: "t" },
        { key: "__proto__", value: "p" },
      ]),
    );
    expect(proto.json.results).toEqual([
      { kind: "organization", auth0OrgId: "org_1", outcome: "applied" },
    ]);
    const [row] = (await orgRows(t)).organizations as { metadata: unknown }[];
    expect(row.metadata).toEqual([
      { key: "__proto__", value: "p" },
      { key: "toString", value: "t" },
    ]);
  });
});

describe("keys named after Object.prototype members inside items", () => {
  const bodies = [
    `{"at":1,"organizations":[],"organizationDeletions":[],"memberships":[{"auth0OrgId":"org_1","auth0UserId":"auth0|1","roles":[],"KEY":1}],"membershipRemovals":[]}`,
    `{"at":1,"organizations":[{"auth0OrgId":"org_1","name":"acme","displayName":null,"metadata":null,"KEY":1}],"organizationDeletions":[],"memberships":[],"membershipRemovals":[]}`,
    `{"at":1,"organizations":[],"organizationDeletions":[{"auth0OrgId":"org_1","KEY":1}],"memberships":[],"membershipRemovals":[]}`,
  ];
  for (const key of ["__proto__", "constructor", "toString"]) {
    test(`"${key}" in a membership, an organization or a deletion: 400, nothing written`, async () => {
      const t = newT();
      for (const text of bodies) {
        const res = await call(t, SYNC_ORGS_APPLY_PATH, JSON.parse(text.replace("KEY", key)));
        expect(res.status, text).toBe(400);
        expect(res.json.error).toBe("invalid_body");
      }
      expect(await orgRows(t)).toEqual({ organizations: [], memberships: [] });
    });
  }
});
