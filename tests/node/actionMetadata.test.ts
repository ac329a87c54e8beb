/**
 * The BUILT Post-Login Action against an app with its own say in its rows
 * (tests/convex/hostApp.ts: a required `usertag` from `onUserCreated`, `plan` / `locale` mapped
 * from Auth0 metadata, `name` / `avatarUrl` owned by the app), over real HTTP to the real route:
 * the Action carries the user's metadata, a refused value is logged and never fails the login,
 * metadata too large to send stays home, and the app's edits survive the next login.
 * Cost: one esbuild build into a temporary folder, a few logins.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";
import { convexTest } from "convex-test";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from "vitest";
import { buildAction } from "../../scripts/build-action";
import {
  convexModules,
  startLocalConvex,
  type ConvexTestInstance,
  type LocalConvex,
} from "../../scripts/lib/localConvex";
import { makeApi, makeEvent, TENANT_DOMAIN } from "../../local-auth0/auth0Event";
import { MAX_ACTION_METADATA_LENGTH } from "../../auth0-actions/post-login";
import { configureHostApp, hostSchema } from "../convex/hostApp";

type PostLoginHandler = (event: Event, api: PostLoginAPI) => Promise<void>;
const SECRET = randomBytes(32).toString("base64url");
const ENV_KEYS = ["AUTH0_DOMAIN", "AUTH0_CUSTOM_DOMAIN", "AUTH0_ACTION_SECRET", "CONVEX_SITE_URL"];

let dir: string;
let onExecutePostLogin: PostLoginHandler;
let convex: LocalConvex;
let envBefore: Record<string, string | undefined>;
let logLines: string[];

beforeAll(async () => {
  // Its own copy of the bundle: the Action's main test file builds the shared one.
  dir = mkdtempSync(join(tmpdir(), "action-metadata-"));
  const built = await buildAction({ outPath: join(dir, "post-login.js") });
  onExecutePostLogin = (
    createRequire(import.meta.url)(built.path) as {
      onExecutePostLogin: PostLoginHandler;
    }
  ).onExecutePostLogin;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  envBefore = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  process.env.AUTH0_DOMAIN = TENANT_DOMAIN;
  process.env.AUTH0_ACTION_SECRET = SECRET;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  const t = convexTest({ schema: hostSchema, modules: convexModules(), transactionLimits: true });
  convex = await startLocalConvex({ t: t as unknown as ConvexTestInstance });
  configureHostApp();
  logLines = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logLines.push(args.map(String).join(" "));
    });
  }
});
afterEach(async () => {
  vi.restoreAllMocks();
  await convex.close();
  for (const [k, v] of Object.entries(envBefore)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A login as Auth0 runs it; returns the Action's one log line. The login always goes on. */
async function login(user: Partial<Event["user"]>): Promise<string> {
  const event = makeEvent({
    user,
    secrets: { CONVEX_HTTP_URL: convex.url, AUTH0_ACTION_SECRET: SECRET },
  });
  const { api, state } = makeApi();
  const from = logLines.length;
  await expect(onExecutePostLogin(event, api)).resolves.toBeUndefined();
  expect(state.denied).toEqual([]);
  const lines = logLines.slice(from).filter((l) => l.startsWith("convex-auth0-users: upserted"));
  expect(lines).toHaveLength(1);
  return lines[0];
}
const row = async () => {
  const rows = await convex.t.run((ctx) => ctx.db.query("users").collect());
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
};

test("the first login fills the app's required fields and mapped metadata; the next keeps the app's edits and logs a refused value", async () => {
  const first = await login({
    app_metadata: { plan: "pro", stripeCustomerId: "cus_1" },
    user_metadata: { locale: "fr" },
  });
  expect(first).toMatch(/\(created\)$/);
  expect(await row()).toMatchObject({
    usertag: "ada",
    plan: "pro",
    locale: "fr",
    name: "Ada Lovelace",
  });
  expect(JSON.stringify(await row())).not.toContain("cus_1");

  // The app's profile page changes what it owns.
  await convex.t.run(async (ctx) => {
    const user = (await ctx.db.query("users").first())!;
    await ctx.db.patch("users", user._id, {
      name: "Countess Ada",
      avatarUrl: "https://app.example.com/a.png",
    });
  });
  const next = await login({
    name: "Ada King",
    picture: "https://cdn.example.com/king.png",
    email: "ada@king.example.com",
    updated_at: "2026-11-02T09:00:00.000Z",
    app_metadata: { plan: "enterprise" },
    user_metadata: { locale: "en" },
  });
  expect(next).toMatch(/\(existing\) \[metadata refused by Convex: plan \(expected .*\)\]$/);
  expect(next).not.toContain("enterprise"); // the value is never echoed
  expect(await row()).toMatchObject({
    name: "Countess Ada",
    avatarUrl: "https://app.example.com/a.png",
    email: "ada@king.example.com",
    plan: "pro",
    locale: "en",
  });
});

test("metadata over the Action's limit stays home: the login and the profile go through", async () => {
  await login({ app_metadata: { plan: "pro" }, user_metadata: { locale: "fr" } });
  const line = await login({
    email: "new@example.com",
    updated_at: "2026-11-02T09:00:00.000Z",
    app_metadata: { plan: "free" },
    user_metadata: { locale: "de", notes: "x".repeat(MAX_ACTION_METADATA_LENGTH) },
  });
  expect(line).toContain(`[metadata not sent: over ${MAX_ACTION_METADATA_LENGTH} characters]`);
  // The profile moved; the mapped fields wait for another path that carries the metadata.
  expect(await row()).toMatchObject({ email: "new@example.com", plan: "pro", locale: "fr" });
});
