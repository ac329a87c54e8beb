/**
 * The reconcile commands on an emulated Free-plan tenant (no export jobs, 2 requests/s): the
 * listing falls back to the windowed user search and stays complete, or refuses to be used.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { searchUsers } from "../../local-auth0/emulator/userSearch";
import type { StoredUser } from "../../local-auth0/managementApiEmulator";
import {
  NO_USERS_CLIENT,
  rowFor,
  startTenant,
  type Tenant,
} from "../../bench/lib/reconcileHarness";

let tenant: Tenant;
beforeEach(async () => {
  tenant = await startTenant();
  tenant.emulator.setPlan("free");
});
afterEach(async () => {
  await tenant.close();
});

interface Report {
  counts: Record<string, number>;
  missing: { auth0UserId: string }[];
  orphans: { auth0UserId: string }[];
  drift: { auth0UserId: string; fields: string[] }[];
  createdAfterListing: { auth0UserId: string }[];
}
const ids = (list: { auth0UserId: string }[]) => list.map((x) => x.auth0UserId).sort();
const DAY = 86_400_000;

/** Users put in Auth0 only (no Convex row). */
function seedAuth0(users: Partial<StoredUser>[], prefix: string): StoredUser[] {
  return users.map((u, i) =>
    tenant.emulator.seedUser({ ...u, user_id: `auth0|${prefix}${String(i).padStart(5, "0")}` }),
  );
}

/** Convex rows for `users`, as logins would have stored them, in a few transactions. */
async function insertRows(users: StoredUser[]): Promise<void> {
  const rows = users.map((u) => rowFor(u, tenant.emulator.domain));
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await tenant.convex.t.run(async (ctx) => {
      for (const row of chunk) await ctx.db.insert("users", row);
    });
  }
}

const listingRequests = () =>
  tenant.emulator.requests.filter((r) => r.method === "GET" && r.path === "/api/v2/users");
const convexUnchanged = async (before: unknown[]) => expect(await tenant.rows()).toEqual(before);

describe("check-sync and sync on a Free-plan tenant", () => {
  test("2,500 users (700 imported within one minute): the exact missing, drifted and orphaned users at 2 requests/s; sync converges", async () => {
    const now = Date.now();
    // 1,800 users signed up over a year, and 700 imported within one minute last week.
    const spread = seedAuth0(
      Array.from({ length: 1800 }, (_, i) => {
        const created = now - 365 * DAY + Math.floor((i * 360 * DAY) / 1800);
        return {
          created_at: new Date(created).toISOString(),
          updated_at: new Date(created + 5000).toISOString(),
        };
      }),
      "s",
    );
    const importedAt = now - 7 * DAY;
    const imported = seedAuth0(
      Array.from({ length: 700 }, (_, i) => {
        const at = new Date(importedAt + Math.floor((i * 60_000) / 700)).toISOString();
        return { created_at: at, updated_at: at };
      }),
      "imp",
    );
    const all = [...spread, ...imported];
    const missing = [...spread.slice(0, 12), ...imported.slice(0, 8)];
    await insertRows(all.filter((u) => !missing.includes(u)));
    const drifted = [...spread.slice(100, 109), ...imported.slice(300, 306)];
    for (const u of drifted) tenant.emulator.updateUser(u.user_id, { name: `${u.name} renamed` });
    const orphans = Array.from({ length: 10 }, (_, i) =>
      tenant.emulator.seedUser({ user_id: `auth0|gone${i}` }),
    );
    await insertRows(orphans);
    for (const o of orphans) tenant.emulator.removeUser(o.user_id);

    const check = await tenant.run("check-sync", ["--json"]);
    expect(check.code, check.stderr).toBe(1);
    const r = JSON.parse(check.stdout) as Report;
    expect(r.counts).toMatchObject({ auth0Users: 2500, convexRows: 2490, inSync: 2465 });
    expect(ids(r.missing)).toEqual(missing.map((u) => u.user_id).sort());
    expect(ids(r.drift)).toEqual(drifted.map((u) => u.user_id).sort());
    expect(r.drift.every((d) => d.fields.join() === "name")).toBe(true);
    expect(ids(r.orphans)).toEqual(orphans.map((u) => u.user_id).sort());

    // auto said which listing it used and why; progress counted windows and users, with an ETA.
    expect(check.stderr).toMatch(/Listing through the user search \(--listing auto\).*plan/);
    expect(check.stderr).toMatch(/Auth0 user search: [\d,]+\/2,500.*ETA.*windows done/);
    expect(check.stderr).toMatch(/Auth0 user search: 2,500 in/);
    // The export job was tried once, then only the v3 search, never past a query's 1,000 results.
    const posts = tenant.emulator.requests.filter((q) => q.path === "/api/v2/jobs/users-exports");
    expect(posts.map((q) => q.status)).toEqual([403]);
    const searches = listingRequests();
    expect(searches.every((q) => q.query.search_engine === "v3" && q.query.q)).toBe(true);
    expect(searches.filter((q) => q.status === 400)).toEqual([]);
    // The Free plan's budget was kept: never more than 2 answered requests in any second.
    const perSecond = new Map<number, number>();
    for (const q of tenant.emulator.requests.filter((x) => x.status !== 429)) {
      const s = Math.floor(q.at / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(2);

    // Repair, faster than 2/s only to keep the test short.
    tenant.emulator.setRateLimit(50);
    const sync = await tenant.run("sync", ["--yes", "--delete-orphans", "--json"]);
    expect(sync.code, sync.stderr).toBe(0);
    const again = await tenant.run("check-sync", ["--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).counts).toMatchObject({
      auth0Users: 2500,
      convexRows: 2500,
      inSync: 2500,
    });
  }, 240_000);

  test("1,100 users created in the same millisecond are listed by splitting on updated_at", async () => {
    tenant.emulator.setRateLimit(100);
    const created = new Date(Date.now() - DAY).toISOString();
    const users = seedAuth0(
      Array.from({ length: 1100 }, (_, i) => ({
        created_at: created,
        updated_at: new Date(Date.parse(created) + i * 7).toISOString(),
      })),
      "same",
    );
    await insertRows(users.slice(1));
    const run = await tenant.run("check-sync", ["--json", "--listing", "search"]);
    expect(run.code, run.stderr).toBe(1);
    const r = JSON.parse(run.stdout) as Report;
    expect(r.counts).toMatchObject({ auth0Users: 1100, inSync: 1099 });
    expect(ids(r.missing)).toEqual([users[0].user_id]);
    expect(listingRequests().some((q) => /updated_at:/.test(q.query.q ?? ""))).toBe(true);
    // --listing search never asks for an export job.
    expect(tenant.emulator.requests.some((q) => q.path === "/api/v2/jobs/users-exports")).toBe(
      false,
    );
  }, 120_000);

  test("an unsplittable window (1,000 users sharing created_at and updated_at): exit 2 naming it, nothing written or deleted", async () => {
    tenant.emulator.setRateLimit(100);
    const at = new Date(Date.now() - DAY).toISOString();
    const same = seedAuth0(
      Array.from({ length: 1000 }, () => ({ created_at: at, updated_at: at })),
      "twin",
    );
    const others = seedAuth0(
      Array.from({ length: 30 }, (_, i) => {
        const t = new Date(Date.now() - 2 * DAY + i * 1000).toISOString();
        return { created_at: t, updated_at: t };
      }),
      "other",
    );
    await insertRows([...same.slice(0, 900), ...others.slice(5)]);
    const gone = Array.from({ length: 3 }, (_, i) =>
      tenant.emulator.seedUser({ user_id: `auth0|x${i}` }),
    );
    await insertRows(gone);
    for (const g of gone) tenant.emulator.removeUser(g.user_id);
    const before = await tenant.rows();

    const check = await tenant.run("check-sync", ["--json"]);
    expect(check.code).toBe(2);
    expect(check.stdout).toBe("");
    expect(check.stderr).toContain("the listing is incomplete");
    expect(check.stderr).toContain(`created_at:[${at} TO ${at}] AND updated_at:[${at} TO ${at}]`);

    for (const script of ["sync", "cron-sync"] as const) {
      const run = await tenant.run(
        script,
        ["--yes", "--delete-orphans"].slice(script === "sync" ? 0 : 1),
      );
      expect(run.code, run.output).toBe(2);
      expect(run.stderr).toContain("the listing is incomplete");
    }
    // No orphan was even checked, nothing backed up, nothing written.
    expect(tenant.emulator.requests.filter((q) => q.path.startsWith("/api/v2/users/"))).toEqual([]);
    expect(existsSync(join(tenant.dir, "backups"))).toBe(false);
    await convexUnchanged(before);
    const log = readdirSync(join(tenant.dir, "logs")).find((f) => f.endsWith(".log"))!;
    expect(readFileSync(join(tenant.dir, "logs", log), "utf8")).toContain(
      "the listing is incomplete",
    );
  }, 120_000);

  test("a 403 for a missing scope is reported as the scope, not the plan, and nothing is searched", async () => {
    const run = await tenant.run("check-sync", [], {
      env: {
        AUTH0_M2M_CLIENT_ID: NO_USERS_CLIENT.clientId,
        AUTH0_M2M_CLIENT_SECRET: NO_USERS_CLIENT.clientSecret,
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("read:users");
    expect(run.stderr).not.toMatch(/plan|user search/);
    expect(listingRequests()).toEqual([]);
  });

  test("--listing export on a Free tenant says the plan has no export jobs; a bad --listing is refused", async () => {
    const run = await tenant.run("check-sync", ["--listing", "export"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/because of the tenant's plan.*--listing search/);
    expect(listingRequests()).toEqual([]);
    const bad = await tenant.run("check-sync", ["--listing", "fast"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--listing must be one of auto, export, search");
  });

  test("auto on a paid tenant uses the export job and says so", async () => {
    tenant.emulator.setPlan("paid");
    await tenant.seedInSync(3);
    const run = await tenant.run("check-sync");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("Listing through an export job (--listing auto)");
    expect(listingRequests()).toEqual([]);
  });
});

describe("a tenant changing during the listing", () => {
  test("a user deleted while a window is paged: the window is read again, no one else is skipped", async () => {
    tenant.emulator.setRateLimit(100);
    const users = seedAuth0(
      Array.from({ length: 1500 }, (_, i) => {
        const t = new Date(Date.now() - 30 * DAY + i * 60_000).toISOString();
        return { created_at: t, updated_at: t };
      }),
      "d",
    );
    await insertRows(users);
    let deleted: string | undefined;
    tenant.emulator.afterUsersList = (query) => {
      // Once, right after page 1 of a window is served: delete a user from that page, which
      // shifts every later page of the window one place to the left.
      if (deleted || query.page !== "1") return;
      const victim = searchUsers(tenant.emulator.users.values(), query)[150];
      deleted = victim.user_id;
      tenant.emulator.removeUser(deleted);
    };
    const run = await tenant.run("check-sync", ["--json", "--listing", "search"]);
    expect(run.code, run.stderr).toBe(1);
    const r = JSON.parse(run.stdout) as Report;
    expect(deleted).toBeDefined();
    // Everyone else was listed: the only difference is the deleted user, an orphan now.
    expect(r.counts).toMatchObject({ auth0Users: 1499, inSync: 1499, missing: 0, drift: 0 });
    expect(ids(r.orphans)).toEqual([deleted]);
    expect(r.createdAfterListing).toEqual([]);
    const pageZeros = listingRequests().filter((q) => q.query.page === "0");
    expect(new Set(pageZeros.map((q) => q.query.q)).size).toBeLessThan(pageZeros.length);
  }, 120_000);
});

/** Another client of the tenant spending its shared budget (2 GETs every `everyMs`) until stopped. */
async function noisyNeighbour(everyMs: number): Promise<() => void> {
  const env = tenant.env();
  const ca = readFileSync(env.NODE_EXTRA_CA_CERTS!, "utf8");
  const [host, port] = tenant.emulator.domain.split(":");
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<string>((ok, fail) => {
      const req = request({ host, port: Number(port), method, path, ca, headers }, (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => ok(text));
      });
      req.on("error", fail);
      req.end(body);
    });
  const token = JSON.parse(
    await send(
      "POST",
      "/oauth/token",
      { "content-type": "application/json" },
      JSON.stringify({
        grant_type: "client_credentials",
        client_id: env.AUTH0_M2M_CLIENT_ID,
        client_secret: env.AUTH0_M2M_CLIENT_SECRET,
        audience: `https://${tenant.emulator.domain}/api/v2/`,
      }),
    ),
  ).access_token as string;
  // At the start of every other second it spends that second's whole budget (2 requests).
  let timer: NodeJS.Timeout | undefined;
  const burst = () => {
    for (let i = 0; i < 2; i++) {
      void send("GET", "/api/v2/users/auth0%7Cneighbour", { authorization: `Bearer ${token}` });
    }
  };
  const aligned = setTimeout(
    () => {
      burst();
      timer = setInterval(burst, everyMs);
    },
    1000 - (Date.now() % 1000) + 5,
  );
  return () => {
    clearTimeout(aligned);
    clearInterval(timer);
  };
}

describe("rate limits on a Free-plan tenant", () => {
  test("another client spending the 2 requests/s: the listing gets 429s, waits for x-ratelimit-reset and completes", async () => {
    const users = seedAuth0(
      Array.from({ length: 1200 }, (_, i) => {
        const t = new Date(Date.now() - 60 * DAY + i * 600_000).toISOString();
        return { created_at: t, updated_at: t };
      }),
      "r",
    );
    await insertRows(users.slice(3));
    const stop = await noisyNeighbour(2000);
    let run;
    try {
      run = await tenant.run("check-sync", ["--json"]);
    } finally {
      stop();
    }
    expect(run.code, run.stderr).toBe(1);
    expect(ids(JSON.parse(run.stdout).missing)).toEqual(users.slice(0, 3).map((u) => u.user_id));
    const ours = tenant.emulator.requests.filter((q) => !q.path.endsWith("neighbour"));
    const refused = ours.filter((q) => q.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    // After a 429 the same request came back only once the announced window had reset.
    for (const q of refused) {
      const retry = ours.find(
        (x) =>
          x.at > q.at && x.path === q.path && JSON.stringify(x.query) === JSON.stringify(q.query),
      );
      expect(retry, `${q.path} was not retried`).toBeDefined();
      expect(Math.floor(retry!.at / 1000)).toBeGreaterThan(Math.floor(q.at / 1000));
    }
  }, 120_000);
});

describe("backup-users on a Free-plan tenant", () => {
  test("writes every user of a 1,050-user tenant from the user search", async () => {
    tenant.emulator.setRateLimit(100);
    const users = seedAuth0(
      Array.from({ length: 1050 }, (_, i) => {
        const t = new Date(Date.now() - 30 * DAY + i * 60_000).toISOString();
        return { created_at: t, updated_at: t, user_metadata: { n: i } };
      }),
      "b",
    );
    const run = await tenant.run("backup-users", ["--json"]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { auth0: { path: string; users: number } };
    expect(result.auth0.users).toBe(1050);
    const lines = readFileSync(result.auth0.path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((u) => u.user_id).sort()).toEqual(users.map((u) => u.user_id).sort());
    expect(lines.find((u) => u.user_id === users[7].user_id).user_metadata).toEqual({ n: 7 });
  }, 120_000);
});
