/**
 * The test helper that makes convex-test count an index range for every patch, replace and
 * delete, as a deployment does (scripts/lib/productionLimits.ts, installed for every test file
 * by tests/setup/productionLimits.ts).
 */
import { convexTest } from "convex-test";
import { expect, test } from "vitest";
import schema from "../../convex/schema";
import { peakUsage, resetPeakUsage } from "../../scripts/lib/productionLimits";

const modules = import.meta.glob("../../convex/**/*.*s");

async function seed(t: ReturnType<typeof newT>, n: number) {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) {
      await ctx.db.insert("auth0UserTombstones", { auth0UserId: `auth0|u${i}`, deletedAt: 1 });
    }
  });
}
const newT = () => convexTest({ schema, modules, transactionLimits: true });

test("each patch, replace and delete costs one index range, and nothing more is read", async () => {
  const t = newT();
  await seed(t, 300);
  resetPeakUsage();
  await t.run(async (ctx) => {
    const rows = await ctx.db.query("auth0UserTombstones").take(300);
    for (const row of rows.slice(0, 100))
      await ctx.db.patch("auth0UserTombstones", row._id, { deletedAt: 2 });
    for (const row of rows.slice(100, 200)) {
      await ctx.db.replace("auth0UserTombstones", row._id, {
        auth0UserId: row.auth0UserId,
        deletedAt: 3,
      });
    }
    for (const row of rows.slice(200)) await ctx.db.delete("auth0UserTombstones", row._id);
  });
  const peak = peakUsage();
  expect(peak.databaseQueries).toBe(1 + 300);
  // The query read 300 documents and each write read its document once more, as convex-test
  // already counted: the helper adds ranges only.
  expect(peak.documentsRead).toBe(600);
});

test("a loop of 4,100 deletes fails as it would on a deployment", async () => {
  const t = newT();
  await seed(t, 4100);
  await expect(
    t.run(async (ctx) => {
      const rows = await ctx.db.query("auth0UserTombstones").take(4100);
      for (const row of rows) await ctx.db.delete("auth0UserTombstones", row._id);
    }),
  ).rejects.toThrow(/Too many index ranges/);
  // Nothing was deleted: the transaction rolled back.
  expect((await t.run(async (ctx) => ctx.db.query("auth0UserTombstones").collect())).length).toBe(
    4100,
  );
});
