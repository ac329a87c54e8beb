/**
 * The paths that read Auth0 from outside a request, for an app with its own say in its rows
 * (tests/convex/hostApp.ts: a REQUIRED `usertag` filled by `onUserCreated`, `plan` / `locale`
 * mapped from Auth0 metadata, `name` / `avatarUrl` owned by the app): `check-sync` and `sync` run
 * as child processes against the Management API emulator and a local Convex host serving the
 * app's schema, and the tenant-log sync runs in that host against the same emulator. The CLI
 * learns the app's field rules from the deployment (`/auth0/sync/status`), never from a copy.
 * Cost: one tenant per test, two CLI runs (~5 s each here) and three log-sync runs.
 */
import { randomBytes } from "node:crypto";
import { convexTest } from "convex-test";
import { Agent, fetch as undiciFetch } from "undici";
import { afterEach, beforeEach, expect, test } from "vitest";
import { internal } from "../../convex/_generated/api";
import { profileFromAuth0User } from "../../server/users/auth0Profile";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { convexModules, type ConvexTestInstance } from "../../scripts/lib/localConvex";
import { configureHostApp, hostSchema } from "../convex/hostApp";

const LOGS_CLIENT = {
  clientId: "host-log-sync-m2m",
  clientSecret: randomBytes(24).toString("base64url"),
  scopes: ["read:logs", "read:users"],
};

let tenant: Tenant;
let t: ReturnType<typeof newHost>;
const realFetch = globalThis.fetch;

const newHost = () =>
  convexTest({ schema: hostSchema, modules: convexModules(), transactionLimits: true });

beforeEach(async () => {
  t = newHost();
  tenant = await startTenant({ t: t as unknown as ConvexTestInstance });
  configureHostApp();
  // The log sync runs in this process: its fetch trusts the emulator's test CA.
  const agent = new Agent({ connect: { ca: tenant.caCert } });
  globalThis.fetch = ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher: agent })) as typeof fetch;
  tenant.emulator.addClient(LOGS_CLIENT);
  process.env.AUTH0_LOGS_CLIENT_ID = LOGS_CLIENT.clientId;
  process.env.AUTH0_LOGS_CLIENT_SECRET = LOGS_CLIENT.clientSecret;
});
afterEach(async () => {
  globalThis.fetch = realFetch;
  delete process.env.AUTH0_LOGS_CLIENT_ID;
  delete process.env.AUTH0_LOGS_CLIENT_SECRET;
  await tenant.close();
});

const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const rowOf = (id: string) =>
  t.run((ctx) =>
    ctx.db
      .query("users")
      .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", id))
      .first(),
  );
/** What the app's profile page does: edits the fields it owns. */
const editProfile = (id: string) =>
  t.run(async (ctx) => {
    const row = await ctx.db
      .query("users")
      .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", id))
      .first();
    await ctx.db.patch("users", row!._id, {
      name: "Chosen In The App",
      avatarUrl: "https://app.example.com/avatar.png",
    });
  });

test("check-sync never counts app-owned fields as drift but reports mapped metadata; sync creates through onUserCreated and repairs only what Auth0 owns", async () => {
  const at = hourAgo();
  const ada = tenant.emulator.seedUser({
    user_id: "auth0|ada",
    email: "ada@example.com",
    name: "Ada Lovelace",
    picture: "https://cdn.example.com/ada.png",
    app_metadata: { plan: "pro" },
    user_metadata: { locale: "fr" },
    updated_at: at,
  });
  const cy = tenant.emulator.seedUser({
    user_id: "auth0|cy",
    email: "cy@example.com",
    app_metadata: {},
    updated_at: at,
  });
  // Ada and Cy logged in (Cy without a plan in Auth0: the hook's default); Bob never did.
  for (const user of [ada, cy]) {
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: tokenIdentifier(tenant.emulator.domain, user.user_id),
      ...profileFromAuth0User(user, "all"),
    });
  }
  const bob = tenant.emulator.seedUser({ user_id: "auth0|bob", email: "bob@example.com" });

  // The app edits what it owns; Auth0 renames Ada and moves Cy to pro.
  await editProfile(ada.user_id);
  tenant.emulator.updateUser(ada.user_id, { name: "Renamed In Auth0", picture: "https://x/p.png" });
  tenant.emulator.updateUser(cy.user_id, { app_metadata: { plan: "pro" } });

  const check = await tenant.run("check-sync", ["--json"]);
  expect(check.code).toBe(1);
  const report = JSON.parse(check.stdout) as {
    counts: Record<string, number>;
    missing: { auth0UserId: string }[];
    drift: { auth0UserId: string; fields: string[] }[];
  };
  expect(report.missing.map((m) => m.auth0UserId)).toEqual([bob.user_id]);
  expect(report.drift).toEqual([{ auth0UserId: cy.user_id, fields: ["plan"] }]);
  expect(report.counts).toMatchObject({ inSync: 1 });

  expect((await tenant.run("sync", ["--yes"])).code).toBe(0);
  // Bob's row comes from the sync route, with the required fields the hook fills.
  expect(await rowOf(bob.user_id)).toMatchObject({ usertag: "bob", plan: "free" });
  expect((await rowOf(cy.user_id))?.plan).toBe("pro");
  expect(await rowOf(ada.user_id)).toMatchObject({
    name: "Chosen In The App",
    avatarUrl: "https://app.example.com/avatar.png",
    plan: "pro",
    usertag: "ada",
  });
}, 90_000);

test("the log sync creates through onUserCreated, applies mapped metadata and keeps app-owned fields", async () => {
  tenant.emulator.logs.append({ type: "s", user_id: "auth0|someone" });
  const run = () => t.action(internal.auth0.logSyncRun, {});
  expect((await run()).status).toBe("started");

  // A signup: the user's first row comes from the log sync.
  const cy = tenant.emulator.seedUser({
    user_id: "auth0|cy",
    email: "cy@example.com",
    name: "Cy",
    app_metadata: { plan: "pro", internalNote: "never copied" },
    user_metadata: { locale: "de" },
  });
  tenant.emulator.logs.append({ type: "ss", user_id: cy.user_id, description: "Success Signup" });
  expect(await run()).toMatchObject({ status: "caught_up", usersRefetched: 1 });
  const created = await rowOf(cy.user_id);
  expect(created).toMatchObject({ usertag: "cy", plan: "pro", locale: "de", name: "Cy" });
  expect(JSON.stringify(created)).not.toContain("never copied");

  await editProfile(cy.user_id);
  tenant.emulator.updateUser(cy.user_id, {
    name: "Cy In Auth0",
    email_verified: true,
    app_metadata: { plan: "enterprise" },
    user_metadata: { locale: "en" },
  });
  tenant.emulator.logs.append({ type: "sv", user_id: cy.user_id, description: "Verified" });
  expect(await run()).toMatchObject({ status: "caught_up", usersRefetched: 1 });
  // emailVerified is Auth0's and moves; the app's name stays; the refused plan keeps its value.
  expect(await rowOf(cy.user_id)).toMatchObject({
    emailVerified: true,
    name: "Chosen In The App",
    plan: "pro",
    locale: "en",
  });
});
