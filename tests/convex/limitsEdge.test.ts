/**
 * Work at the edge of Convex's per-transaction limits, with the limits on and index ranges
 * counted as a deployment counts them (patch/replace/delete included: scripts/lib/
 * productionLimits.ts). Each case shows the work completing, in as many transactions as it
 * takes, with every transaction under the planned share of each limit (server/limits.ts).
 * Rows are seeded directly, in chunks, to keep the run short.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { CONVEX_LIMITS, INLINE_PURGE, MAX_PAGE_BYTES, PLANNED_SHARE } from "../../server/limits";
import { SYNC_ORGS_APPLY_PATH } from "../../server/reconcile/orgSyncRoutes";
import schema from "../../convex/schema";
import type { DatabaseReader } from "../../convex/_generated/server";
import { audienceFor, signRequest } from "../../server/http/signedRequest";
import { RETENTION_MS } from "../../server/events/events";
import { SYNC_STATUS_PATH, SYNC_USERS_PATH } from "../../server/reconcile/syncRoutes";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { peakUsage, resetPeakUsage } from "../../scripts/lib/productionLimits";
import {
  cloudEvent,
  deliver,
  DOMAIN,
  setEventsEnv,
  userEvent,
  type T,
} from "./events/eventsFixtures";

const modules = import.meta.glob("../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const SYNC_SECRET = "2LDu8VW9NqLK9CLdijPPISJG8t8dKpIpQ955lNDng1E";

beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_SYNC_SECRET = SYNC_SECRET;
  process.env.AUTH0_ACTION_SECRET = "jHbl0zfDybnVr8JHxBUrgYDDH4LWUq0YDV2tnkplHaU";
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation(() => {});
  }
  resetPeakUsage();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const newT = (): T => convexTest({ schema, modules, transactionLimits: true });
const minutesAgo = (m: number) => Date.now() - m * 60_000;

/** Every transaction since the last reset stayed within the planned share of each limit. */
function expectWithinPlan() {
  const peak = peakUsage();
  expect(peak.databaseQueries).toBeLessThanOrEqual(CONVEX_LIMITS.indexRanges * PLANNED_SHARE);
  expect(peak.documentsRead).toBeLessThanOrEqual(CONVEX_LIMITS.documentsRead * PLANNED_SHARE);
  expect(peak.bytesRead).toBeLessThanOrEqual(CONVEX_LIMITS.bytesRead * PLANNED_SHARE);
  expect(peak.documentsWritten).toBeLessThanOrEqual(CONVEX_LIMITS.documentsWritten * PLANNED_SHARE);
  expect(peak.functionsScheduled).toBeLessThanOrEqual(
    CONVEX_LIMITS.functionsScheduled * PLANNED_SHARE,
  );
  return peak;
}

async function drainScheduler(t: T) {
  if (!vi.isFakeTimers()) vi.useFakeTimers();
  try {
    await t.finishAllScheduledFunctions(vi.runAllTimers, 1000);
  } finally {
    vi.useRealTimers();
  }
}

async function seedMembers(t: T, auth0OrgId: string, count: number, prefix = "auth0|m") {
  const at = minutesAgo(60);
  for (let start = 0; start < count; start += 5000) {
    await t.run(async (ctx) => {
      for (let i = start; i < Math.min(count, start + 5000); i++) {
        await ctx.db.insert("auth0Memberships", {
          auth0UserId: `${prefix}${i}`,
          auth0OrgId,
          roles: ["member"],
          roleTimes: [{ name: "member", present: true, at }],
          auth0At: at,
          createdAt: at,
          updatedAt: at,
        });
      }
    });
  }
}

async function seedOrg(t: T, auth0OrgId: string) {
  const at = minutesAgo(60);
  await t.run(async (ctx) => {
    await ctx.db.insert("auth0Organizations", {
      auth0OrgId,
      name: auth0OrgId,
      auth0At: at,
      createdAt: at,
      updatedAt: at,
    });
  });
}

/** Counts memberships page by page (one transaction per page, as a deployment would need). */
async function countMemberships(t: T, auth0OrgId?: string): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  for (;;) {
    const page = await t.run(async (raw) => {
      const ctx = raw as unknown as { db: DatabaseReader };
      const q = auth0OrgId
        ? ctx.db
            .query("auth0Memberships")
            .withIndex("by_org", (x) => x.eq("auth0OrgId", auth0OrgId))
        : ctx.db.query("auth0Memberships");
      const p = await q.paginate({ cursor, numItems: 10_000 });
      return { count: p.page.length, isDone: p.isDone, cursor: p.continueCursor };
    });
    n += page.count;
    if (page.isDone) return n;
    cursor = page.cursor;
  }
}

async function signedPost(t: T, path: string, body: unknown) {
  const text = JSON.stringify(body);
  const token = await signRequest(SYNC_SECRET, text, audienceFor(SITE, path));
  const res = await t.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("deleting an organization of 50,000 members", () => {
  test("by event: the deletion applies at once, the purge completes through the scheduler", async () => {
    const t = newT();
    await seedOrg(t, "org_big");
    await seedMembers(t, "org_big", 50_000);
    resetPeakUsage();
    const res = await deliver(
      t,
      cloudEvent({
        type: "organization.deleted",
        time: minutesAgo(1),
        object: { id: "org_big", name: "org_big" },
      }),
    );
    expect(res.json).toMatchObject({ outcome: "applied", duplicate: false });
    expect(await countMemberships(t)).toBe(50_000 - INLINE_PURGE);
    await drainScheduler(t);
    expect(await countMemberships(t)).toBe(0);
    expectWithinPlan();
  }, 300_000);

  test("by the sync route: three organizations of 50,000 gone in one batch", async () => {
    const t = newT();
    for (const id of ["org_a", "org_b", "org_c"]) {
      await seedOrg(t, id);
      await seedMembers(t, id, 50_000, `auth0|${id}_`);
    }
    await seedMembers(t, "org_kept", 10);
    // Scheduled purges wait for the drain below instead of running between the two requests.
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    resetPeakUsage();
    const res = await signedPost(t, SYNC_ORGS_APPLY_PATH, {
      at: Date.now() - 1000,
      organizations: [],
      organizationDeletions: [
        { auth0OrgId: "org_a" },
        { auth0OrgId: "org_b" },
        { auth0OrgId: "org_c" },
      ],
      memberships: [],
      membershipRemovals: [],
    });
    expect(res.json, JSON.stringify(res.json).slice(0, 300)).toMatchObject({
      results: expect.any(Array),
    });
    expect((res.json.results as { outcome: string }[]).map((r) => r.outcome)).toEqual([
      "applied",
      "applied",
      "applied",
    ]);
    // The same batch again (a re-run) is cheap and changes nothing more.
    const again = await signedPost(t, SYNC_ORGS_APPLY_PATH, {
      at: Date.now() - 1000,
      organizations: [],
      organizationDeletions: [
        { auth0OrgId: "org_a" },
        { auth0OrgId: "org_b" },
        { auth0OrgId: "org_c" },
      ],
      memberships: [],
      membershipRemovals: [],
    });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    await drainScheduler(t);
    expect(await countMemberships(t)).toBe(10);
    expect(await countMemberships(t, "org_kept")).toBe(10);
    expectWithinPlan();
  }, 600_000);

  test("by a host purge (auth0:purgeOrganization), chunk after chunk", async () => {
    const t = newT();
    await seedMembers(t, "org_host", 50_000);
    resetPeakUsage();
    const first = await t.mutation(internal.auth0.purgeOrganization, { auth0OrgId: "org_host" });
    expect(first).toBe(1000);
    await drainScheduler(t);
    expect(await countMemberships(t)).toBe(0);
    expectWithinPlan();
  }, 300_000);
});

describe("reading and deleting at the edge", () => {
  test("5,000 user rows of ~3.7 KB through the sync users route: byte-bounded pages cover them all", async () => {
    const t = newT();
    const long = (c: string) => c.repeat(500);
    for (let start = 0; start < 5000; start += 1000) {
      await t.run(async (ctx) => {
        for (let i = start; i < start + 1000; i++) {
          const id = `auth0|big${String(i).padStart(5, "0")}`;
          await ctx.db.insert("users", {
            tokenIdentifier: tokenIdentifier(DOMAIN, id),
            auth0UserId: id,
            email: `${long("e")}@example.com`,
            name: long("n"),
            nickname: long("k"),
            givenName: long("g"),
            familyName: long("f"),
            avatarUrl: `https://example.com/${"p".repeat(1000)}`,
            createdAt: Date.now(),
            updatedAt: Date.now(),
          });
        }
      });
    }
    resetPeakUsage();
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const res = await signedPost(t, SYNC_USERS_PATH, { cursor, numItems: 5000 });
      expect(res.status).toBe(200);
      const page = res.json as {
        rows: { auth0UserId: string }[];
        isDone: boolean;
        continueCursor: string;
      };
      expect(JSON.stringify(page.rows).length).toBeLessThan(MAX_PAGE_BYTES + 64 * 1024);
      for (const row of page.rows) seen.add(row.auth0UserId);
      pages++;
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(seen.size).toBe(5000);
    expect(pages).toBeGreaterThan(1); // 5,000 x 3.7 KB is over one page's bytes
    expectWithinPlan();
  }, 120_000);

  test("a burst of 10,000 events: health answers in bounded reads, pruning completes", async () => {
    const t = newT();
    // 200 through the route, the rest seeded as the route records them.
    for (let i = 0; i < 200; i++) {
      await deliver(t, userEvent("user.updated", `auth0|burst${i}`, minutesAgo(5)));
    }
    const old = Date.now() - RETENTION_MS - 60_000;
    for (let start = 200; start < 10_000; start += 4000) {
      await t.run(async (ctx) => {
        for (let i = start; i < Math.min(10_000, start + 4000); i++) {
          await ctx.db.insert("auth0Events", {
            eventId: `evt_burst_${i}`,
            type: "user.updated",
            eventTime: old,
            receivedAt: old,
            auth0UserId: `auth0|${"u".repeat(500)}${i}`,
            outcome: i % 2 ? "applied" : "failed",
            detail: "d".repeat(500),
          });
          await ctx.db.insert("auth0UserTombstones", {
            auth0UserId: `auth0|gone${i}`,
            deletedAt: old,
          });
        }
      });
    }
    resetPeakUsage();
    const status = await signedPost(t, SYNC_STATUS_PATH, {});
    expect(status.status).toBe(200);
    const health = (status.json as { health: Record<string, unknown> }).health;
    expect(health.eventRecords).toEqual({ count: 1000, more: true });
    expect(health.tombstones).toEqual({ count: 1000, more: true });
    const healthPeak = expectWithinPlan();
    expect(healthPeak.documentsRead).toBeLessThan(3500);

    resetPeakUsage();
    await t.mutation(internal.auth0.pruneEvents, {});
    await drainScheduler(t);
    const left = await t.run(async (ctx) => ({
      events: (await ctx.db.query("auth0Events").collect()).length,
      tombstones: (await ctx.db.query("auth0UserTombstones").collect()).length,
    }));
    expect(left).toEqual({ events: 200, tombstones: 0 });
    expectWithinPlan();
  }, 300_000);

  test("a user with 500 memberships deleted by event: row gone at once, memberships purged", async () => {
    const t = newT();
    const user = "auth0|joiner";
    await deliver(t, userEvent("user.created", user, minutesAgo(90)));
    const at = minutesAgo(60);
    await t.run(async (ctx) => {
      for (let i = 0; i < 500; i++) {
        await ctx.db.insert("auth0Memberships", {
          auth0UserId: user,
          auth0OrgId: `org_${String(i).padStart(4, "0")}`,
          roles: [],
          roleTimes: [],
          auth0At: at,
          createdAt: at,
          updatedAt: at,
        });
      }
    });
    resetPeakUsage();
    const res = await deliver(t, userEvent("user.deleted", user, minutesAgo(1)));
    expect(res.json).toMatchObject({ outcome: "applied" });
    expect(await t.run(async (ctx) => (await ctx.db.query("users").collect()).length)).toBe(0);
    await drainScheduler(t);
    expect(await countMemberships(t)).toBe(0);
    expectWithinPlan();
  }, 120_000);

  test("auth0.myOrganizations for a member of 1,000 organizations", async () => {
    const t = newT();
    const user = "auth0|busy";
    await deliver(t, userEvent("user.created", user, minutesAgo(90)));
    const at = minutesAgo(60);
    await t.run(async (ctx) => {
      for (let i = 0; i < 1000; i++) {
        const auth0OrgId = `org_${String(i).padStart(4, "0")}`;
        await ctx.db.insert("auth0Organizations", {
          auth0OrgId,
          name: auth0OrgId,
          displayName: "D".repeat(255),
          metadata: Array.from({ length: 25 }, (_, k) => ({
            key: `k${k}`,
            value: "v".repeat(200),
          })),
          auth0At: at,
          createdAt: at,
          updatedAt: at,
        });
        await ctx.db.insert("auth0Memberships", {
          auth0UserId: user,
          auth0OrgId,
          roles: ["admin"],
          roleTimes: [{ name: "admin", present: true, at }],
          auth0At: at,
          createdAt: at,
          updatedAt: at,
        });
      }
    });
    resetPeakUsage();
    const mine = await t
      .withIdentity({ issuer: `https://${DOMAIN}/`, subject: user })
      .query(api.auth0.myOrganizations, {});
    expect(mine).toHaveLength(1000);
    expect(mine[999]).toMatchObject({ auth0OrgId: "org_0999", roles: ["admin"] });
    expectWithinPlan();
  }, 120_000);
});

describe("organization metadata keys Convex cannot use as field names", () => {
  // Parsed JSON, as Auth0's arrive: `__proto__` is an own key here, not the prototype.
  const metadata = JSON.parse(
    '{"région":"IDF","$tier":"gold","plain":"x","__proto__":"p","constructor":"c","toString":"t"}',
  ) as Record<string, string>;
  metadata["k".repeat(255)] = "long key";
  const entries = Object.entries(metadata)
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));

  test("stored as entries through an event, and read back by the sync page", async () => {
    const t = newT();
    const res = await deliver(
      t,
      cloudEvent({
        type: "organization.created",
        time: minutesAgo(1),
        object: { id: "org_fr", name: "fr", display_name: "France", metadata },
      }),
    );
    expect(res.json).toMatchObject({ outcome: "applied" });
    const page = await signedPost(t, "/auth0/sync/orgs/page", {
      table: "auth0Organizations",
      cursor: null,
      numItems: 10,
    });
    expect((page.json.rows as { metadata: unknown }[])[0].metadata).toEqual(entries);
  });

  test("stored as entries through the sync route; an old object row is migrated", async () => {
    const t = newT();
    const at = minutesAgo(30);
    await t.run(async (ctx) => {
      await ctx.db.insert("auth0Organizations", {
        auth0OrgId: "org_old",
        name: "old",
        metadata: { tier: "gold", area: "north" },
        auth0At: at,
        createdAt: at,
        updatedAt: at,
      });
    });
    const res = await signedPost(t, SYNC_ORGS_APPLY_PATH, {
      at: Date.now() - 1000,
      organizations: [{ auth0OrgId: "org_fr", name: "fr", displayName: null, metadata: entries }],
      organizationDeletions: [],
      memberships: [],
      membershipRemovals: [],
    });
    expect(res.json.results).toEqual([
      { kind: "organization", auth0OrgId: "org_fr", outcome: "applied" },
    ]);
    expect(await t.mutation(internal.auth0.migrateOrganizationMetadata, {})).toEqual({
      rewritten: 1,
      isDone: true,
    });
    const rows = await t.run(async (ctx) => ctx.db.query("auth0Organizations").collect());
    expect(rows.map((r) => [r.auth0OrgId, r.metadata])).toEqual([
      [
        "org_old",
        [
          { key: "area", value: "north" },
          { key: "tier", value: "gold" },
        ],
      ],
      ["org_fr", entries],
    ]);
    // Applying the same metadata again changes nothing.
    const again = await signedPost(t, SYNC_ORGS_APPLY_PATH, {
      at: Date.now() - 500,
      organizations: [{ auth0OrgId: "org_fr", name: "fr", displayName: null, metadata: entries }],
      organizationDeletions: [],
      memberships: [],
      membershipRemovals: [],
    });
    expect(again.json.results).toEqual([
      { kind: "organization", auth0OrgId: "org_fr", outcome: "unchanged" },
    ]);
  });
});

describe("ids and strings from outside are capped before storage", () => {
  test("a user event with a 250 KB user_id is recorded as failed, without the id", async () => {
    const t = newT();
    const huge = `auth0|${"x".repeat(250_000)}`;
    const event = userEvent("user.created", "auth0|placeholder", minutesAgo(1));
    (event.data as { object: { user_id: string } }).object.user_id = huge;
    const res = await deliver(t, event);
    expect(res.json).toMatchObject({ outcome: "failed" });
    const rows = await t.run(async (ctx) => ({
      users: await ctx.db.query("users").collect(),
      events: await ctx.db.query("auth0Events").collect(),
    }));
    expect(rows.users).toEqual([]);
    expect(rows.events[0].auth0UserId).toBeUndefined();
  });

  test("a profile value over its cap: the sync batch refuses that item and writes nothing", async () => {
    const t = newT();
    const res = await signedPost(t, "/auth0/sync/apply", {
      upserts: [
        {
          auth0UserId: "auth0|longname",
          profile: { name: "n".repeat(100_000), auth0UpdatedAt: minutesAgo(1) },
        },
      ],
      deletions: [],
    });
    expect(res.json.results).toEqual([
      { auth0UserId: "auth0|longname", kind: "upsert", outcome: "refused" },
    ]);
    expect(await t.run(async (ctx) => ctx.db.query("users").collect())).toEqual([]);
  });

  test("auth0.store refuses an identity with an over-long claim", async () => {
    const t = newT();
    await expect(
      t
        .withIdentity({
          issuer: `https://${DOMAIN}/`,
          subject: "auth0|store",
          name: "n".repeat(10_000),
        })
        .mutation(api.auth0.store, {}),
    ).rejects.toThrow(/at most 512/);
  });
});
