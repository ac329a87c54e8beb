/**
 * The tenant-log sync (server/logSync/logSync.ts) end to end: the action runs in convex-test with
 * transaction limits on and calls the Management API emulator over real HTTPS (trusting the test
 * CA through an undici dispatcher, since Node reads NODE_EXTRA_CA_CERTS only at start-up). Changes
 * are made the way Auth0 makes them (admin API writes, which log `sapi`; users' own events) and
 * must reach Convex at the next run.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { Agent, fetch as undiciFetch } from "undici";
import { convexTest } from "convex-test";
import { decodeJwt, UnsecuredJWT } from "jose";
import schema from "../../../convex/schema";
import { internal } from "../../../convex/_generated/api";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { profileFromAuth0User } from "../../../server/users/auth0Profile";
import { convexModules } from "../../../scripts/lib/localConvex";
import {
  startManagementApiEmulator,
  type ManagementApiEmulator,
  type StoredUser,
} from "../../../local-auth0/managementApiEmulator";
import { createTestCertificate } from "../../../local-auth0/testCertificate";

const LOGS_CLIENT = {
  clientId: "log-sync-m2m",
  clientSecret: randomBytes(24).toString("base64url"),
  scopes: ["read:logs", "read:users", "read:organizations", "read:organization_member_roles"],
};
const ADMIN = { clientId: "admin-m2m", clientSecret: randomBytes(24).toString("base64url") };

let emulator: ManagementApiEmulator;
let adminToken: string;
const realFetch = globalThis.fetch;
/** When set, called before each HTTPS request the action makes; may throw (a network fault) or
 * answer in Auth0's place (a proxy's answer). */
let fault: ((url: string) => Response | void) | undefined;

function newConvex() {
  return convexTest({ schema, modules: convexModules(), transactionLimits: true });
}
type T = ReturnType<typeof newConvex>;

beforeAll(async () => {
  const tls = await createTestCertificate(await mkdtemp(join(tmpdir(), "log-sync-ca-")));
  emulator = await startManagementApiEmulator({ ...ADMIN, clients: [LOGS_CLIENT], tls });
  const agent = new Agent({ connect: { ca: tls.caCert } });
  globalThis.fetch = ((input: string | URL, init?: RequestInit) => {
    const answer = fault?.(String(input));
    if (answer) return Promise.resolve(answer);
    return undiciFetch(input, { ...(init as object), dispatcher: agent });
  }) as typeof fetch;
  process.env.AUTH0_DOMAIN = emulator.domain;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  const reply = await fetch(`https://${emulator.domain}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "client_credentials",
      client_id: ADMIN.clientId,
      client_secret: ADMIN.clientSecret,
      audience: `https://${emulator.domain}/api/v2/`,
    }),
  });
  adminToken = ((await reply.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  globalThis.fetch = realFetch;
  await emulator.close();
});

beforeEach(() => {
  process.env.AUTH0_LOGS_CLIENT_ID = LOGS_CLIENT.clientId;
  process.env.AUTH0_LOGS_CLIENT_SECRET = LOGS_CLIENT.clientSecret;
  emulator.logs.setPlan("professional");
  emulator.setRateLimit(50);
});
afterEach(() => {
  fault = undefined;
});

/** A write by an admin through the Management API (what the Dashboard does too). */
async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  let reply: Response;
  for (;;) {
    reply = await fetch(`https://${emulator.domain}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (reply.status !== 429) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (reply.status >= 300)
    throw new Error(`${method} ${path}: ${reply.status} ${await reply.text()}`);
  return reply.status === 204 ? undefined : reply.json();
}

const userPath = (id: string) => `/api/v2/users/${encodeURIComponent(id)}`;

/** Seeds `user` in Auth0 and its row in Convex, in sync, dated an hour ago. */
async function seedInSync(t: T, id: string, extra: Partial<StoredUser> = {}): Promise<StoredUser> {
  const user = emulator.seedUser({
    user_id: id,
    updated_at: new Date(Date.now() - 3_600_000).toISOString(),
    ...extra,
  });
  const facts = Object.fromEntries(
    Object.entries(profileFromAuth0User(user)).filter(([, x]) => x !== null),
  );
  await t.run(async (ctx) => {
    await ctx.db.insert("users", {
      tokenIdentifier: tokenIdentifier(emulator.domain, id),
      auth0UserId: id,
      ...facts,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
  });
  return user;
}

const run = (t: T, budgetMs?: number) =>
  t.action(internal.auth0.logSyncRun, budgetMs !== undefined ? { budgetMs } : {});
const rowOf = (t: T, id: string) =>
  t.run((ctx) =>
    ctx.db
      .query("users")
      .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", id))
      .first(),
  );
const health = (t: T) => t.query(internal.auth0.logSyncHealth, {});

/** A Convex deployment whose log sync has made its first run (checkpoint = newest event). */
async function started(): Promise<T> {
  const t = newConvex();
  emulator.logs.append({ type: "s", user_id: "auth0|someone", description: "Success Login" });
  expect((await run(t)).status).toBe("started");
  return t;
}

describe("turning it on", () => {
  test("convex/crons.ts runs it every minute", async () => {
    const { default: crons } = await import("../../../convex/crons");
    expect(Object.values(crons.crons)).toContainEqual({
      name: "auth0:logSyncRun",
      args: [{}],
      schedule: { type: "interval", minutes: 1 },
    });
  });

  test("without its variables a run returns at once and calls nobody", async () => {
    delete process.env.AUTH0_LOGS_CLIENT_SECRET;
    const t = newConvex();
    const before = emulator.requests.length;
    expect(await run(t)).toMatchObject({ status: "off", managementCalls: 0 });
    expect(emulator.requests.length).toBe(before);
    expect(await t.run((ctx) => ctx.db.query("auth0LogSyncState").collect())).toEqual([]);
    expect((await health(t)).configured).toBe(false);
  });

  test("an application without read:logs: the run fails, says which scope, writes nothing", async () => {
    const noLogs = {
      clientId: "users-only-m2m",
      clientSecret: randomBytes(24).toString("base64url"),
    };
    emulator.addClient({ ...noLogs, scopes: ["read:users"] });
    process.env.AUTH0_LOGS_CLIENT_ID = noLogs.clientId;
    process.env.AUTH0_LOGS_CLIENT_SECRET = noLogs.clientSecret;
    const t = newConvex();
    emulator.logs.append({ type: "s", user_id: "auth0|someone" });
    expect((await run(t)).status).toBe("error");
    const h = await health(t);
    expect(h.lastError?.message).toMatch(/403.*read:logs.*lacks a scope/);
    expect(h.checkpoint).toBeNull();
    expect(JSON.stringify(h)).not.toContain(noLogs.clientSecret);
  });

  test("the first run starts from the newest event and asks for one full reconcile", async () => {
    const t = newConvex();
    await seedInSync(t, "auth0|before-start");
    await admin("PATCH", userPath("auth0|before-start"), { name: "Changed Before Start" });
    const newest = emulator.logs.entries.at(-1)!;
    expect((await run(t)).status).toBe("started");
    const h = await health(t);
    expect(h.checkpoint).toBe(newest.log_id);
    expect(h.fullReconcileNeeded?.reason).toMatch(/full reconcile/);
    // What happened before the start is the reconcile's: nothing applied from it.
    expect((await rowOf(t, "auth0|before-start"))?.name).not.toBe("Changed Before Start");
    expect((await run(t)).status).toBe("caught_up");
    expect((await rowOf(t, "auth0|before-start"))?.name).not.toBe("Changed Before Start");
    await t.mutation(internal.auth0.logSyncReconciled, {});
    expect((await health(t)).fullReconcileNeeded).toBeNull();
  });
});

describe("changes reach Convex at the next run", () => {
  test("an admin rename and an email change", async () => {
    const t = await started();
    await seedInSync(t, "auth0|rename");
    await seedInSync(t, "auth0|email");
    await admin("PATCH", userPath("auth0|rename"), { name: "Renamed By Admin" });
    // The user changes their own email: Auth0 logs `sce` with the user's id.
    emulator.updateUser("auth0|email", { email: "new@example.com", email_verified: false });
    emulator.logs.append({
      type: "sce",
      user_id: "auth0|email",
      description: "Success Change Email",
    });
    const before = emulator.requests.filter((r) => r.path === "/oauth/token").length;

    const result = await run(t);
    expect(result).toMatchObject({ status: "caught_up", usersRefetched: 2 });
    expect((await rowOf(t, "auth0|rename"))?.name).toBe("Renamed By Admin");
    expect(await rowOf(t, "auth0|email")).toMatchObject({
      email: "new@example.com",
      emailVerified: false,
    });
    const h = await health(t);
    expect(h).toMatchObject({ checkpoint: emulator.logs.entries.at(-1)!.log_id, lagMs: 0 });
    expect(h.lastRunUsersRefetched).toBe(2);
    // The token from the first run is reused.
    expect(emulator.requests.filter((r) => r.path === "/oauth/token").length).toBe(before);
    expect(JSON.stringify(h)).not.toContain(LOGS_CLIENT.clientSecret);
  });

  test("a user created by an admin (the id is in the logged response)", async () => {
    const t = await started();
    const created = (await admin("POST", "/api/v2/users", {
      connection: "Username-Password-Authentication",
      email: "created@example.com",
      password: "Str0ng!Passw0rd",
      name: "Created Person",
    })) as { user_id: string };
    await run(t);
    expect(await rowOf(t, created.user_id)).toMatchObject({
      email: "created@example.com",
      name: "Created Person",
      tokenIdentifier: tokenIdentifier(emulator.domain, created.user_id),
    });
  });

  test("a deletion, then a re-signup under the same user id", async () => {
    const t = await started();
    const id = "google-oauth2|1234567890";
    await seedInSync(t, id);
    await admin("DELETE", userPath(id));
    const beforeRun = Date.now();
    await run(t);
    expect(await rowOf(t, id)).toBeNull();
    const tombstone = await t.run((ctx) =>
      ctx.db
        .query("auth0UserTombstones")
        .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", id))
        .first(),
    );
    // The deletion is dated with the 404 that proved it.
    expect(tombstone?.deletedAt).toBeGreaterThanOrEqual(beforeRun);

    await new Promise((r) => setTimeout(r, 5));
    emulator.seedUser({ user_id: id, name: "Back Again" });
    emulator.logs.append({ type: "ss", user_id: id, description: "Success Signup" });
    await run(t);
    expect((await rowOf(t, id))?.name).toBe("Back Again");
  });

  test("only Auth0's own 404 for the right tenant deletes", async () => {
    const t = await started();
    await seedInSync(t, "auth0|proxied");
    await admin("PATCH", userPath("auth0|proxied"), { name: "Whatever" });
    // Something in front of the tenant answers a bare 404: not a proof the user is gone.
    fault = (url) =>
      url.includes("/api/v2/users/")
        ? Response.json(
            { statusCode: 404, error: "Not Found", message: "Not found" },
            { status: 404 },
          )
        : undefined;
    expect((await run(t)).status).toBe("error");
    expect(await rowOf(t, "auth0|proxied")).not.toBeNull();
    expect((await health(t)).lastError?.message).toMatch(/not a proof of deletion/);
    fault = undefined;
    await run(t);
    expect((await rowOf(t, "auth0|proxied"))?.name).toBe("Whatever");
  });

  test("a cached token of another tenant is never used", async () => {
    const t = await started();
    const foreign = new UnsecuredJWT({ scope: "read:logs read:users" })
      .setIssuer("https://another-tenant.eu.auth0.com/")
      .encode();
    await t.run(async (ctx) => {
      for (const row of await ctx.db.query("auth0LogSyncToken").collect()) {
        await ctx.db.patch("auth0LogSyncToken", row._id, { accessToken: foreign });
      }
    });
    const tokenCalls = () => emulator.requests.filter((r) => r.path === "/oauth/token").length;
    const before = tokenCalls();
    expect((await run(t)).status).toBe("caught_up");
    expect(tokenCalls()).toBe(before + 1);
    const stored = await t.run((ctx) => ctx.db.query("auth0LogSyncToken").collect());
    expect(stored).toHaveLength(1);
    expect(decodeJwt(stored[0].accessToken).iss).toBe(`https://${emulator.domain}/`);
  });

  test("an organization membership added, then removed", async () => {
    const t = await started();
    await seedInSync(t, "auth0|member");
    const org = emulator.orgs.seedOrganization({ name: "acme", display_name: "Acme Inc." });
    await admin("POST", `/api/v2/organizations/${org.id}/members`, { members: ["auth0|member"] });
    await run(t);
    const memberships = () =>
      t.run((ctx) =>
        ctx.db
          .query("auth0Memberships")
          .withIndex("by_auth0_user", (q) => q.eq("auth0UserId", "auth0|member"))
          .collect(),
      );
    expect(await memberships()).toMatchObject([{ auth0OrgId: org.id, roles: [] }]);
    expect(await t.run((ctx) => ctx.db.query("auth0Organizations").collect())).toMatchObject([
      { auth0OrgId: org.id, name: "acme", displayName: "Acme Inc." },
    ]);

    await new Promise((r) => setTimeout(r, 5));
    await admin("DELETE", `/api/v2/organizations/${org.id}/members`, { members: ["auth0|member"] });
    await run(t);
    expect(await memberships()).toEqual([]);
  });
});

describe("the checkpoint", () => {
  test("past the plan's retention: says so, writes nothing, until restarted", async () => {
    const t = await started();
    await seedInSync(t, "auth0|lost");
    await admin("PATCH", userPath("auth0|lost"), { name: "Changed While Away" });
    // Two days pass on a Free tenant (1 day of logs): the checkpoint's event is gone.
    emulator.logs.setPlan("free");
    emulator.logs.age(2 * 86_400_000);
    await admin("PATCH", userPath("auth0|lost"), { nickname: "still-changing" });
    const snapshot = () =>
      t.run(async (ctx) => ({
        users: await ctx.db.query("users").collect(),
        tombstones: await ctx.db.query("auth0UserTombstones").collect(),
        memberships: await ctx.db.query("auth0Memberships").collect(),
      }));
    const before = await snapshot();
    const checkpoint = (await health(t)).checkpoint;

    expect((await run(t)).status).toBe("stopped");
    const h = await health(t);
    expect(h.stopped?.reason).toMatch(/retention/);
    expect(h.fullReconcileNeeded).not.toBeNull();
    expect(h.checkpoint).toBe(checkpoint);
    expect(await snapshot()).toEqual(before);
    // It stays stopped: no later run reads past the gap.
    expect((await run(t)).status).toBe("stopped");
    expect(await snapshot()).toEqual(before);
    await expect(t.mutation(internal.auth0.logSyncReconciled, {})).rejects.toThrow(
      /logSyncRestart/,
    );

    await t.mutation(internal.auth0.logSyncRestart, {});
    expect((await run(t)).status).toBe("started");
    expect((await health(t)).stopped).toBeNull();
  });

  test("a checkpoint Auth0 refuses stops the sync and writes nothing", async () => {
    const t = await started();
    await seedInSync(t, "auth0|refused");
    await admin("PATCH", userPath("auth0|refused"), { name: "Not Applied" });
    await t.run(async (ctx) => {
      const row = (await ctx.db.query("auth0LogSyncState").first())!;
      await ctx.db.patch("auth0LogSyncState", row._id, { checkpoint: "not-a-log-id" });
    });
    expect((await run(t)).status).toBe("stopped");
    expect((await health(t)).stopped?.reason).toMatch(/refused|retention/);
    expect((await rowOf(t, "auth0|refused"))?.name).not.toBe("Not Applied");
  });

  test("a crash mid-run loses nothing: the next run repeats from the checkpoint", async () => {
    const t = await started();
    const ids = Array.from({ length: 45 }, (_, i) => `auth0|crash${String(i).padStart(2, "0")}`);
    for (const id of ids) await seedInSync(t, id);
    const start = (await health(t)).checkpoint!;
    for (const id of ids) await admin("PATCH", userPath(id), { name: `New ${id}` });
    const patches = emulator.logs.entries.filter((e) => e.log_id > start);
    expect(patches.length).toBe(45);

    // The action dies while refetching the 30th user (past the first step of 20).
    let userReads = 0;
    fault = (url) => {
      if (url.includes("/api/v2/users/") && ++userReads === 30) {
        throw new Error("the action was killed");
      }
    };
    const crashed = await run(t);
    expect(crashed.status).toBe("error");
    const mid = await health(t);
    expect(mid.lastError?.message).toMatch(/killed/);
    // The first step (20 users) was applied and the checkpoint moved past its events only.
    expect(mid.checkpoint).toBe(patches[19].log_id);
    const renamed = async () =>
      (await Promise.all(ids.map((id) => rowOf(t, id)))).filter((r) => r?.name?.startsWith("New "))
        .length;
    expect(await renamed()).toBe(20);

    fault = undefined;
    expect((await run(t)).status).toBe("caught_up");
    expect(await renamed()).toBe(45);
    expect((await health(t)).checkpoint).toBe(patches[44].log_id);
    expect((await health(t)).consecutiveErrors).toBe(0);
  });

  test("a network failure mid-run applies what was refetched and resumes after it", async () => {
    const t = await started();
    const ids = Array.from({ length: 8 }, (_, i) => `auth0|net${i}`);
    for (const id of ids) await seedInSync(t, id);
    const start = (await health(t)).checkpoint!;
    for (const id of ids) await admin("PATCH", userPath(id), { name: `Net ${id}` });
    const patches = emulator.logs.entries.filter((e) => e.log_id > start);
    let userReads = 0;
    fault = (url) => {
      if (url.includes("/api/v2/users/") && ++userReads === 6) {
        throw new TypeError("fetch failed: connection reset");
      }
    };
    expect((await run(t)).status).toBe("error");
    expect((await health(t)).checkpoint).toBe(patches[4].log_id);
    fault = undefined;
    expect((await run(t)).status).toBe("caught_up");
    for (const id of ids) expect((await rowOf(t, id))?.name).toBe(`Net ${id}`);
  });

  test("log entries of unknown shape change nothing wrong", async () => {
    const t = await started();
    await seedInSync(t, "auth0|steady");
    const before = await t.run((ctx) => ctx.db.query("users").collect());
    for (const odd of [
      { type: "sapi", details: "not an object" },
      { type: "sapi", details: { request: { method: "patch", path: "/api/v2/users/" } } },
      { type: "sapi", details: { request: { method: "post", path: "/api/v2/clients" } } },
      { type: "sapi", details: { request: { path: "/api/v2/users/auth0%7Csteady" } } },
      { type: "ss" },
      { type: "sv", user_id: { nested: true } },
      { type: "a_new_code", user_id: "auth0|steady", details: { anything: 1 } },
      { type: "sce", user_id: "auth0|steady" }, // names a real user: refetched, unchanged
    ]) {
      emulator.logs.append(odd as { type: string });
    }
    expect(await run(t)).toMatchObject({ status: "caught_up", usersRefetched: 1 });
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual(before);
    expect((await health(t)).checkpoint).toBe(emulator.logs.entries.at(-1)!.log_id);
  });

  test("a bulk import, which names no user, asks for a full reconcile", async () => {
    const t = await started();
    await t.mutation(internal.auth0.logSyncReconciled, {});
    emulator.logs.append({ type: "sui", description: "Success bulk import" });
    await run(t);
    expect((await health(t)).fullReconcileNeeded?.reason).toMatch(/bulk user import/);
  });

  test("on a tenant's rate limit, 429s wait for the reset and an unfinished run resumes", async () => {
    const t = await started();
    const ids = Array.from({ length: 12 }, (_, i) => `auth0|slow${i}`);
    for (const id of ids) await seedInSync(t, id);
    for (const id of ids) await admin("PATCH", userPath(id), { name: `Slow ${id}` });
    emulator.setRateLimit(4);
    const first = await run(t, 1_500);
    const statuses = [first.status];
    while (statuses.at(-1) !== "caught_up" && statuses.length < 10) {
      statuses.push((await run(t, 1_500)).status);
    }
    expect(statuses[0]).toBe("partial");
    expect(statuses.at(-1)).toBe("caught_up");
    for (const id of ids) expect((await rowOf(t, id))?.name).toBe(`Slow ${id}`);
    expect(emulator.requests.some((r) => r.status === 429)).toBe(true);
  });
});
