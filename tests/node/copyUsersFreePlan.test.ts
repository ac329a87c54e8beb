/**
 * `npm run copy-users` from a Free-plan dev tenant (no export jobs) of more than 1,000 users: the
 * source is listed through the user search, completely, and every user is copied.
 */
import { beforeEach, expect, test } from "vitest";
import { runScript } from "../../scripts/lib/childProcess";
import { copyTenantsEachTest, SOURCE_APP, TARGET_APP } from "./helpers/copyTenants";

const bed = copyTenantsEachTest({
  prodScopes: ["read:users", "create:users", "create:user_tickets"],
  plan: "free",
});
beforeEach(() => {
  // prod stays a Free tenant (no export jobs) but answers faster than 2/s: 2,100 writes at the
  // real rate would take 17 minutes. dev lists at the Free plan's 2 requests/s.
  bed.prod.setRateLimit(200);
});

test("copies all 1,050 users of a Free-plan tenant, listed through the user search", async () => {
  const start = Date.now() - 90 * 86_400_000;
  for (let i = 0; i < 1050; i++) {
    const at = new Date(start + i * 3_600_000).toISOString();
    bed.dev.seedUser({
      user_id: `auth0|dev${String(i).padStart(4, "0")}`,
      email: `user${i}@example.com`,
      created_at: at,
      updated_at: at,
      user_metadata: { n: i },
    });
  }
  const run = await runScript("copy-users", ["--from", "dev", "--to", "prod", "--yes", "--json"], {
    env: bed.env(),
    cwd: bed.dir,
  });
  for (const secret of [SOURCE_APP.clientSecret, TARGET_APP.clientSecret]) {
    expect(run.output).not.toContain(secret);
  }
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toMatch(/Listing through the user search \(--listing auto\)/);
  const report = JSON.parse(run.stdout) as { results: { outcome: string }[] };
  expect(report.results.filter((r) => r.outcome === "created")).toHaveLength(1050);
  const copied = [...bed.prod.users.values()];
  expect(copied.map((u) => u.email).sort()).toEqual(
    Array.from({ length: 1050 }, (_, i) => `user${i}@example.com`).sort(),
  );
  expect(copied.find((u) => u.email === "user7@example.com")?.user_metadata).toEqual({ n: 7 });
  expect(bed.prod.tickets).toHaveLength(1050);
  // dev was read only through the search, each query within Auth0's 1,000-result cap.
  const reads = bed.dev.requests.filter((r) => r.path === "/api/v2/users");
  expect(reads.length).toBeGreaterThan(10);
  expect(reads.every((r) => r.status === 200 && r.query.search_engine === "v3")).toBe(true);
}, 180_000);
