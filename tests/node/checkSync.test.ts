/**
 * `npm run check-sync` as a user runs it: a child process against the Management API emulator
 * (HTTPS, a read:users-only app) and a local Convex host running the real routes.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { NO_USERS_CLIENT, startTenant, type Tenant } from "../../bench/lib/reconcileHarness";

let tenant: Tenant;
beforeEach(async () => {
  tenant = await startTenant();
});
afterEach(async () => {
  await tenant.close();
});

/** The one JSON document a --json run prints. */
function report(stdout: string) {
  return JSON.parse(stdout) as {
    inSync: boolean;
    counts: Record<string, number>;
    missing: { auth0UserId: string }[];
    orphans: { auth0UserId: string }[];
    drift: { auth0UserId: string; fields: string[] }[];
    unknownIssuer: { auth0UserId: string; issuer: string }[];
    createdAfterListing: { auth0UserId: string }[];
    events: { health: Record<string, unknown> };
    calls: { managementApi: number; convex: number };
  };
}

const ids = (list: { auth0UserId: string }[]) => list.map((x) => x.auth0UserId).sort();

describe("check-sync", () => {
  test("a 1,200-user tenant: finds every missing user past the list endpoint's 1,000 cap", async () => {
    const users = await tenant.seedInSync(1150);
    const extra = Array.from({ length: 50 }, (_, i) =>
      tenant.emulator.seedUser({ user_id: `google-oauth2|late${i}` }),
    );
    const run = await tenant.run("check-sync", ["--json"]);
    expect(run.code).toBe(1);
    const r = report(run.stdout);
    expect(r.counts).toMatchObject({ auth0Users: 1200, convexRows: 1150, inSync: 1150 });
    expect(ids(r.missing)).toEqual(extra.map((u) => u.user_id).sort());
    expect(r.orphans).toEqual([]);
    expect(r.drift).toEqual([]);
    expect(users).toHaveLength(1150);
    // The complete listing came from the export job, never from the capped list endpoint.
    const paths = tenant.emulator.requests.map((q) => `${q.method} ${q.path}`);
    expect(paths).toContain("POST /api/v2/jobs/users-exports");
    expect(paths).not.toContain("GET /api/v2/users");
    // It wrote nothing on either side.
    expect(
      tenant.emulator.requests.filter(
        (q) =>
          q.method !== "GET" && !q.path.endsWith("/users-exports") && q.path !== "/oauth/token",
      ),
    ).toEqual([]);
    expect(await tenant.rows()).toHaveLength(1150);
  });

  test("in sync: exit 0 and a readable summary on a terminal-less run", async () => {
    await tenant.seedInSync(5);
    const run = await tenant.run("check-sync");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Auth0 users: 5\s+Convex rows: 5\s+in sync: 5/);
    expect(run.stdout).toMatch(/no event received yet/);
  });

  test("drift is reported per field, with the users-table names", async () => {
    const [ada, bob, cy] = await tenant.seedInSync(3);
    const later = new Date().toISOString();
    tenant.emulator.updateUser(ada.user_id, { email: "ada.new@example.com", updated_at: later });
    tenant.emulator.updateUser(bob.user_id, {
      name: "Bob Renamed",
      email_verified: false,
      picture: "https://cdn.example.com/new.png",
      updated_at: later,
    });
    const run = await tenant.run("check-sync", ["--json"]);
    expect(run.code).toBe(1);
    const drift = Object.fromEntries(
      report(run.stdout).drift.map((d) => [d.auth0UserId, d.fields]),
    );
    expect(drift).toEqual({
      [ada.user_id]: ["email"],
      [bob.user_id]: ["emailVerified", "name", "avatarUrl"],
    });
    expect(drift[cy.user_id]).toBeUndefined();
  });

  test("--json: the whole report of a mixed tenant, field by field", async () => {
    const [ada, bob] = await tenant.seedInSync(3);
    tenant.emulator.updateUser(ada.user_id, {
      name: "Ada Renamed",
      email: "ada.new@example.com",
      updated_at: new Date().toISOString(),
    });
    tenant.emulator.updateUser(bob.user_id, {
      email_verified: false,
      updated_at: new Date().toISOString(),
    });
    tenant.emulator.seedUser({ user_id: "auth0|missing" });
    const gone = tenant.emulator.seedUser({ user_id: "auth0|gone" });
    await tenant.insertRow(gone);
    tenant.emulator.removeUser(gone.user_id);
    const foreign = tenant.emulator.seedUser({ user_id: "auth0|foreign" });
    await tenant.insertRow(foreign, { issuer: "old-tenant.eu.auth0.com" });
    tenant.emulator.removeUser(foreign.user_id);

    const run = await tenant.run("check-sync", ["--json"]);
    expect(run.code).toBe(1);
    const r = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(r).toMatchObject({
      inSync: false,
      counts: {
        auth0Users: 4,
        convexRows: 5,
        inSync: 1,
        missing: 1,
        drift: 2,
        orphans: 1,
        unknownIssuer: 1,
        createdAfterListing: 0,
        newerInConvex: 0,
        anonymized: 0,
      },
      missing: [{ auth0UserId: "auth0|missing" }],
      orphans: [{ auth0UserId: "auth0|gone" }],
      unknownIssuer: [{ auth0UserId: "auth0|foreign", issuer: "https://old-tenant.eu.auth0.com/" }],
      createdAfterListing: [],
      trustedIssuers: [`https://${tenant.emulator.domain}/`],
    });
    expect(
      Object.fromEntries(
        (r.drift as { auth0UserId: string; fields: string[] }[]).map((d) => [
          d.auth0UserId,
          d.fields,
        ]),
      ),
    ).toEqual({ [ada.user_id]: ["email", "name"], [bob.user_id]: ["emailVerified"] });
    // No profile value in the report: ids and field names only.
    expect(run.stdout).not.toContain("Ada Renamed");
    expect(run.stdout).not.toContain("ada.new@example.com");
  });

  test("a row newer than the listing (a login since) is not drift", async () => {
    const [ada] = await tenant.seedInSync(1);
    await tenant.convex.t.run(async (ctx) => {
      const row = (await ctx.db.query("users").first())!;
      await ctx.db.patch("users", row._id, { name: "Signed In Since", auth0UpdatedAt: Date.now() });
    });
    const r = report((await tenant.run("check-sync", ["--json"])).stdout);
    expect(r.drift).toEqual([]);
    expect(r.counts.newerInConvex).toBe(1);
    expect(ada.user_id).toBeDefined();
  });

  test("an orphan is confirmed by Auth0's 404; a user created after the listing is not one", async () => {
    await tenant.seedInSync(3);
    const gone = tenant.emulator.seedUser({ user_id: "auth0|gone" });
    await tenant.insertRow(gone);
    tenant.emulator.removeUser(gone.user_id);
    const late = tenant.emulator.seedUser({ user_id: "auth0|late" });
    tenant.emulator.removeUser(late.user_id);
    await tenant.insertRow(late);
    // The late user is created in Auth0 just after the export job captured the tenant.
    tenant.emulator.jobs.onExportCreated = () => void tenant.emulator.seedUser(late);

    const run = await tenant.run("check-sync", ["--json"]);
    expect(run.code).toBe(1);
    const r = report(run.stdout);
    expect(ids(r.orphans)).toEqual(["auth0|gone"]);
    expect(ids(r.createdAfterListing)).toEqual(["auth0|late"]);
    const checked = tenant.emulator.requests.filter((q) => q.path.startsWith("/api/v2/users/"));
    expect(checked.map((q) => decodeURIComponent(q.path.split("/").pop()!)).sort()).toEqual([
      "auth0|gone",
      "auth0|late",
    ]);
  });

  test("rows under an issuer this deployment does not trust are listed apart, never as orphans", async () => {
    await tenant.seedInSync(2);
    const other = tenant.emulator.seedUser({ user_id: "auth0|elsewhere" });
    tenant.emulator.removeUser(other.user_id);
    await tenant.insertRow(other, { issuer: "old-tenant.eu.auth0.com" });
    const r = report((await tenant.run("check-sync", ["--json"])).stdout);
    expect(r.unknownIssuer).toEqual([
      { auth0UserId: "auth0|elsewhere", issuer: "https://old-tenant.eu.auth0.com/" },
    ]);
    expect(r.orphans).toEqual([]);
    // Never asked about: it is not this tenant's user.
    expect(tenant.emulator.requests.some((q) => q.path.includes("elsewhere"))).toBe(false);
  });

  test("reports the event stream's health and rows dated in the future", async () => {
    const [ada] = await tenant.seedInSync(2);
    await tenant.convex.t.run(async (ctx) => {
      const row = (await ctx.db.query("users").first())!;
      await ctx.db.patch("users", row._id, { auth0UpdatedAt: Date.parse("9999-01-01T00:00:00Z") });
    });
    const run = await tenant.run("check-sync", ["--json"]);
    const r = report(run.stdout);
    expect(r.events.health).toMatchObject({
      lastEventReceivedAt: null,
      failuresLast24h: 0,
      futureDatedUsers: { count: 1, more: false, auth0UserIds: [ada.user_id] },
    });
    expect(r.drift).toEqual([{ auth0UserId: ada.user_id, fields: ["auth0UpdatedAt"] }]);
    const text = await tenant.run("check-sync");
    expect(text.stdout).toMatch(/1 rows dated in the future/);
  });

  test("--json prints exactly one JSON document on stdout; progress goes to stderr", async () => {
    await tenant.seedInSync(3);
    const run = await tenant.run("check-sync", ["--json"]);
    expect(() => JSON.parse(run.stdout)).not.toThrow();
    expect(run.stderr).toMatch(/Auth0 download: 3 in/);
    expect(run.stderr).toMatch(/Convex rows: 3 in/);
  });
});

describe("check-sync: errors exit 2 and name the cause", () => {
  test("every missing variable is named at once, and nothing is called", async () => {
    const run = await tenant.run("check-sync", [], {
      env: {
        AUTH0_M2M_CLIENT_SECRET: undefined,
        AUTH0_SYNC_SECRET: undefined,
        CONVEX_SITE_URL: undefined,
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /missing AUTH0_M2M_CLIENT_SECRET, AUTH0_SYNC_SECRET, CONVEX_SITE_URL/,
    );
    expect(tenant.emulator.requests).toEqual([]);
  });

  test("CONVEX_SITE_URL is derived from CONVEX_URL; a .convex.cloud CONVEX_SITE_URL is refused", async () => {
    const cloud = await tenant.run("check-sync", [], {
      env: { CONVEX_SITE_URL: "https://happy-otter-123.convex.cloud" },
    });
    expect(cloud.code).toBe(2);
    expect(cloud.stderr).toMatch(
      /points at happy-otter-123\.convex\.cloud.*https:\/\/happy-otter-123\.convex\.site/,
    );
    // Only CONVEX_URL: the .convex.site origin is derived (and, with no network here, unreachable).
    const derived = await tenant.run("check-sync", [], {
      env: { CONVEX_SITE_URL: undefined, CONVEX_URL: "https://happy-otter-123.convex.cloud" },
    });
    expect(derived.code).toBe(2);
    expect(derived.stderr).toMatch(
      /cannot reach https:\/\/happy-otter-123\.convex\.site\/auth0\/sync\/status/,
    );
  });

  test("a wrong AUTH0_SYNC_SECRET: exit 2 before any export job is started", async () => {
    const run = await tenant.run("check-sync", [], {
      env: { AUTH0_SYNC_SECRET: "x".repeat(40) },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/401 bad_signature.*AUTH0_SYNC_SECRET/);
    expect(tenant.emulator.requests).toEqual([]);
  });

  test("an app whose grant lacks read:users: exit 2 naming the scope", async () => {
    const run = await tenant.run("check-sync", [], {
      env: {
        AUTH0_M2M_CLIENT_ID: NO_USERS_CLIENT.clientId,
        AUTH0_M2M_CLIENT_SECRET: NO_USERS_CLIENT.clientSecret,
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/403.*read:users/);
    expect(run.output).not.toContain(NO_USERS_CLIENT.clientSecret);
  });

  test("refused credentials: exit 2, the secret never printed", async () => {
    const run = await tenant.run("check-sync", [], {
      env: { AUTH0_M2M_CLIENT_SECRET: "not-the-secret-0123456789" },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/401.*AUTH0_M2M_CLIENT_ID/);
    expect(run.output).not.toContain("not-the-secret-0123456789");
  });

  test("a failed export job: exit 2, nothing compared", async () => {
    await tenant.seedInSync(2);
    tenant.emulator.jobs.failNextExport();
    const run = await tenant.run("check-sync", ["--json"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/export job .* failed/);
  });

  test("an expired download link is fetched again from the job", async () => {
    await tenant.seedInSync(2);
    tenant.emulator.jobs.expireNextDownloads(1);
    const run = await tenant.run("check-sync");
    expect(run.code).toBe(0);
    expect(tenant.emulator.jobs.downloads()).toBe(1);
  });

  test("rides out Management API rate limiting (429 with x-ratelimit-reset)", async () => {
    await tenant.seedInSync(3);
    const gone = tenant.emulator.seedUser({ user_id: "auth0|gone" });
    await tenant.insertRow(gone);
    tenant.emulator.removeUser(gone.user_id);
    tenant.emulator.setRateLimit(2);
    const run = await tenant.run("check-sync", ["--json"]);
    expect(run.code).toBe(1);
    expect(ids(report(run.stdout).orphans)).toEqual(["auth0|gone"]);
    // It keeps to the announced budget (or rides out a 429): never 3 answers in one second.
    const perSecond = new Map<number, number>();
    const limited = (path: string) => path.startsWith("/api/v2/") || path === "/oauth/token";
    for (const q of tenant.emulator.requests.filter((x) => x.status !== 429 && limited(x.path))) {
      const s = Math.floor(q.at / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(2);
  });
});
