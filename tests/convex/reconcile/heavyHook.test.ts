/**
 * A host `onUserDeleted` hook whose cost this module cannot know: `auth0.applyBatch` checks the
 * transaction's metrics before each user and stops within its plan, returning the users it
 * applied; the caller sends the rest again. Limits on, ranges counted as a deployment does.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import type { Doc } from "../../../convex/_generated/dataModel";
import type { MutationCtx } from "../../../convex/_generated/server";
import { CONVEX_LIMITS } from "../../../server/limits";
import schema from "../../../convex/schema";
import { audienceFor, signRequest } from "../../../server/http/signedRequest";
import { SYNC_APPLY_PATH } from "../../../server/reconcile/syncRoutes";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { peakUsage, resetPeakUsage } from "../../../scripts/lib/productionLimits";
import { DOMAIN, setEventsEnv, type T } from "../events/eventsFixtures";

// Each call reads 100 documents one by one (100 index ranges): 100 users would need 10,000.
vi.mock("../../../server/users/hooks", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../../server/users/hooks")>()),
  onUserDeleted: async (ctx: MutationCtx, user: Doc<"users">) => {
    for (let i = 0; i < 100; i++) await ctx.db.get("users", user._id);
  },
}));

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const SYNC_SECRET = "1_0wiQTq2tssvlB9c2p7r5zAcK4WIMVrQJKWL0Vtnys";

beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_SYNC_SECRET = SYNC_SECRET;
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

async function apply(t: T, deletions: { auth0UserId: string; deletedAt: number }[]) {
  const text = JSON.stringify({ upserts: [], deletions });
  const token = await signRequest(SYNC_SECRET, text, audienceFor(SITE, SYNC_APPLY_PATH));
  const res = await t.fetch(SYNC_APPLY_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { auth0UserId: string; outcome: string }[] }).results;
}

test("a batch of 100 deletions with a heavy hook is applied in parts, each within the limits", async () => {
  const t = convexTest({ schema, modules, transactionLimits: true });
  const ids = Array.from({ length: 100 }, (_, i) => `auth0|gone${String(i).padStart(3, "0")}`);
  await t.run(async (ctx) => {
    for (const id of ids) {
      await ctx.db.insert("users", {
        tokenIdentifier: tokenIdentifier(DOMAIN, id),
        auth0UserId: id,
        createdAt: Date.now(),
        updatedAt: Date.now(),
      });
    }
  });
  resetPeakUsage();
  let rest = ids.map((auth0UserId) => ({ auth0UserId, deletedAt: Date.now() }));
  let calls = 0;
  const outcomes: string[] = [];
  while (rest.length > 0) {
    const results = await apply(t, rest);
    expect(results.length).toBeGreaterThan(0);
    calls++;
    outcomes.push(...results.map((r) => r.outcome));
    const done = new Set(results.map((r) => r.auth0UserId));
    rest = rest.filter((d) => !done.has(d.auth0UserId));
  }
  expect(calls).toBeGreaterThan(1);
  expect(outcomes).toEqual(ids.map(() => "removed"));
  expect(await t.run(async (ctx) => ctx.db.query("users").collect())).toEqual([]);
  expect(peakUsage().databaseQueries).toBeLessThan(CONVEX_LIMITS.indexRanges * 0.75);
});
