/**
 * `npm run doctor` as a child process, against the Management API emulator and a local Convex
 * host over HTTPS: a healthy setup passes every check; then one fault at a time fails exactly the
 * check that names it, with its hint. Failed event deliveries are listed and redelivered.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startLocalConvex, type LocalConvex } from "../../scripts/lib/localConvex";
import { loadTenantSpec } from "../../scripts/lib/deploy/spec";
import { userEvent } from "../convex/events/eventsFixtures";
import { ROOT, runScript, type Run } from "../../scripts/lib/childProcess";
import {
  startManagementApiEmulator,
  type CloudEvent,
  type ManagementApiEmulator,
} from "../../local-auth0/managementApiEmulator";
import { withProcessEnv } from "./helpers/processEnv";
import { createTestCertificate, type TestCertificate } from "../../local-auth0/testCertificate";

const CLIENT_ID = "doctor-m2m";
const CLIENT_SECRET = randomBytes(24).toString("base64url");
const ACTION_SECRET = randomBytes(32).toString("base64url");
const EVENTS_TOKEN = randomBytes(32).toString("base64url");
const APP_CLIENT_ID = "app-client-id";
const SYNC_SECRET = randomBytes(32).toString("base64url");
const BUNDLE = resolve(ROOT, "auth0-actions/dist/post-login.js");

let dir: string;
let cert: TestCertificate;
let emulator: ManagementApiEmulator;
let convex: LocalConvex;
let actionName: string;
let streamName: string;

interface Report {
  ok: boolean;
  checks: {
    id: string;
    title: string;
    status: "pass" | "fail" | "skip" | "warn";
    detail: string;
    places?: string[];
  }[];
}

function env(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_EXTRA_CA_CERTS: cert.caPath,
    AUTH0_DOMAIN: emulator.domain,
    CONVEX_HTTP_URL: convex.url,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
    AUTH0_DEPLOY_CLIENT_ID: CLIENT_ID,
    AUTH0_DEPLOY_CLIENT_SECRET: CLIENT_SECRET,
    AUTH0_EVENTS_TOKEN: EVENTS_TOKEN,
    ...overrides,
  };
}

async function doctor(
  overrides: Record<string, string | undefined> = {},
  args: string[] = [],
): Promise<{ run: Run; report: Report; failed: string[] }> {
  const run = await runScript("doctor", ["--json", ...args], { env: env(overrides), cwd: dir });
  for (const secret of [ACTION_SECRET, CLIENT_SECRET, EVENTS_TOKEN, SYNC_SECRET]) {
    expect(run.output).not.toContain(secret);
  }
  const report = JSON.parse(run.stdout) as Report;
  const failed = report.checks.filter((c) => c.status === "fail").map((c) => c.id);
  return { run, report, failed };
}

const detail = (report: Report, id: string) => report.checks.find((c) => c.id === id)?.detail;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "doctor-test-"));
  cert = await createTestCertificate(dir);
  emulator = await startManagementApiEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    tls: cert,
    webhookCa: cert.caCert,
  });
  emulator.deliveries.setRetryDelays([10, 10, 10]);
  convex = await startLocalConvex({ tls: cert });
  Object.assign(process.env, {
    AUTH0_DOMAIN: emulator.domain,
    AUTH0_CLIENT_ID: APP_CLIENT_ID,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
    AUTH0_EVENTS_TOKEN: EVENTS_TOKEN,
  });
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  delete process.env.AUTH0_ACTION_SECRET_PREVIOUS;

  // The tenant as a deploy leaves it: the local build deployed, bound, and the stream enabled.
  const spec = await loadTenantSpec();
  actionName = spec.actionName;
  streamName = spec.eventStream!.name;
  emulator.seedDeployedAction(actionName, readFileSync(BUNDLE, "utf8"));
  emulator.seedDeployedAction("add-roles", "exports.onExecutePostLogin = async () => {};");
  emulator.seedBindings("post-login", [
    { actionName: "add-roles", displayName: "Add roles" },
    { actionName, displayName: "Sync user to Convex" },
  ]);
  emulator.seedEventStream({
    name: streamName,
    status: "enabled",
    subscriptions: spec.eventStream!.subscriptions.map((event_type) => ({ event_type })),
    destination: {
      type: "webhook",
      configuration: {
        webhook_endpoint: `${convex.url}${spec.eventStream!.endpointPath}`,
        webhook_authorization: { method: "bearer", token: EVENTS_TOKEN },
      },
    },
  });
  // One event delivered, as after a profile change in the Dashboard.
  const sent = await emulator.deliveries.publish(
    userEvent("user.updated", "auth0|doctor1", Date.now() - 60_000) as unknown as CloudEvent,
  );
  expect(sent.map((s) => s.status)).toEqual([200]);
}, 60_000);

/** An app folder's files, with the node_modules of this repository (convex) linked in. */
function appFiles(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  if (!existsSync(join(root, "node_modules"))) {
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"), "dir");
  }
}

/** A schema as init leaves it (the module imported from this repository's source). */
const COMPLETE_SCHEMA = `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { auth0Tables, auth0UsersTable } from ${JSON.stringify(join(ROOT, "server/index"))};

export default defineSchema({
  ...auth0Tables,
  users: auth0UsersTable({ bio: v.optional(v.string()) }),
  messages: defineTable({ author: v.id("users"), body: v.string() }),
});
`;

afterAll(async () => {
  await emulator?.close();
  await convex?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npm run doctor", () => {
  test("a healthy setup passes every check", async () => {
    const { run, report, failed } = await doctor();
    expect(failed, run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.ok).toBe(true);
    const passed = report.checks.filter((c) => c.status === "pass").map((c) => c.id);
    expect(passed).toEqual(
      expect.arrayContaining([
        "env.action",
        "env.management",
        "env.events",
        "secrets",
        "convexUrl",
        "reach",
        "secret",
        "origin",
        "clientId",
        "issuer",
        "key",
        "action.exists",
        "action.deployed",
        "action.build",
        "action.bound",
        "stream.stream",
        "stream.deliveries",
        "events.recent",
      ]),
    );
    // The reconcile's variables are optional: skipped, never passed.
    expect(report.checks.find((c) => c.id === "env.reconcile")?.status).toBe("skip");
  }, 30_000);

  test("prints one line per check for people, and exit 0", async () => {
    const run = await runScript("doctor", [], { env: env(), cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PASS {2}the Action is bound to post-login/m);
    expect(run.stdout).toMatch(/^SKIP {2}the reconcile's variables are set: /m);
    expect(run.stdout).toMatch(/\d+ passed, 0 failed, \d+ skipped/);
  }, 30_000);

  test("with the reconcile's variables: its secret and its application are checked too", async () => {
    const reconcile = {
      AUTH0_M2M_CLIENT_ID: CLIENT_ID,
      AUTH0_M2M_CLIENT_SECRET: CLIENT_SECRET,
      AUTH0_SYNC_SECRET: SYNC_SECRET,
    };
    const healthy = await withProcessEnv({ AUTH0_SYNC_SECRET: SYNC_SECRET }, () =>
      doctor(reconcile),
    );
    expect(healthy.failed).toEqual([]);
    const passed = healthy.report.checks.filter((c) => c.status === "pass").map((c) => c.id);
    expect(passed).toEqual(expect.arrayContaining(["env.reconcile", "sync.secret", "sync.auth0"]));
    // The tenant-log sync: off in this deployment, so skipped; on but never run, a failure.
    expect(healthy.report.checks.find((c) => c.id === "sync.logSync")?.status).toBe("skip");
    // No rows under the 0.1 table names here: nothing to migrate.
    expect(healthy.report.checks.find((c) => c.id === "sync.legacyTables")?.status).toBe("pass");
    const logSyncOn = await withProcessEnv(
      { AUTH0_SYNC_SECRET: SYNC_SECRET, AUTH0_LOGS_CLIENT_ID: "l", AUTH0_LOGS_CLIENT_SECRET: "s" },
      () => doctor(reconcile),
    );
    expect(logSyncOn.failed).toEqual(["sync.logSync"]);
    expect(detail(logSyncOn.report, "sync.logSync")).toContain("the cron has not run");
    const wrong = await withProcessEnv(
      { AUTH0_SYNC_SECRET: randomBytes(32).toString("base64url") },
      () => doctor(reconcile),
    );
    expect(wrong.failed).toEqual(["sync.secret"]);
    expect(detail(wrong.report, "sync.secret")).toContain("npx convex env set AUTH0_SYNC_SECRET");
    const halfSet = await doctor({ AUTH0_M2M_CLIENT_ID: CLIENT_ID });
    expect(halfSet.failed).toEqual(["env.reconcile"]);
  }, 60_000); // six doctor runs, each a child process; 21 s on an idle 2-core CI machine

  const reconcileVars = {
    AUTH0_M2M_CLIENT_ID: CLIENT_ID,
    AUTH0_M2M_CLIENT_SECRET: CLIENT_SECRET,
    AUTH0_SYNC_SECRET: SYNC_SECRET,
  };

  test("a sync secret Convex finds weak (equal to the Action's) fails the sync secret check, naming the rule", async () => {
    const weak = await withProcessEnv({ AUTH0_SYNC_SECRET: ACTION_SECRET }, () =>
      doctor({ ...reconcileVars, AUTH0_SYNC_SECRET: ACTION_SECRET }),
    );
    // Found here first, by the same rule Convex applies; then Convex refuses both routes.
    expect(weak.failed).toEqual(["secrets", "configured", "sync.secret"]);
    expect(detail(weak.report, "configured")).toMatch(
      /AUTH0_ACTION_SECRET equals AUTH0_SYNC_SECRET/,
    );
    expect(detail(weak.report, "secrets")).toMatch(/AUTH0_SYNC_SECRET equals AUTH0_ACTION_SECRET/);
    expect(detail(weak.report, "sync.secret")).toMatch(
      /AUTH0_SYNC_SECRET equals AUTH0_ACTION_SECRET/,
    );
  }, 30_000);

  test("a route secret that breaks the rule fails the secrets check, naming the variable, never the value", async () => {
    const short = await doctor({ AUTH0_EVENTS_TOKEN: "k" });
    expect(short.failed).toContain("secrets");
    expect(short.run.code).toBe(1);
    expect(detail(short.report, "secrets")).toMatch(
      /^AUTH0_EVENTS_TOKEN is shorter than 32 characters\. .*at least 32 characters/,
    );
    const shared = await doctor({ AUTH0_EVENTS_TOKEN: ACTION_SECRET });
    expect(shared.failed).toContain("secrets");
    expect(detail(shared.report, "secrets")).toContain(
      "AUTH0_ACTION_SECRET equals AUTH0_EVENTS_TOKEN: each route needs its own secret",
    );
    const repeated = await doctor({ AUTH0_ACTION_SECRET_PREVIOUS: "a".repeat(32) });
    expect(repeated.failed).toContain("secrets");
    expect(detail(repeated.report, "secrets")).toMatch(
      /AUTH0_ACTION_SECRET_PREVIOUS .*not a random value/,
    );
    expect(repeated.run.output).not.toContain("a".repeat(32));
  }, 60_000);

  test("the reconcile's token issued by another tenant: the tenant check fails naming both, exit 2", async () => {
    emulator.setTenantDomain("other-tenant.eu.auth0.com");
    try {
      const wrong = await withProcessEnv({ AUTH0_SYNC_SECRET: SYNC_SECRET }, () =>
        doctor(reconcileVars),
      );
      expect(wrong.failed).toContain("sync.tenant");
      expect(detail(wrong.report, "sync.tenant")).toMatch(
        new RegExp(
          `issued by other-tenant\\.eu\\.auth0\\.com.*trusts ${emulator.domain.replace(/\./g, "\\.")}`,
        ),
      );
      expect(wrong.run.code).toBe(2);
    } finally {
      emulator.setTenantDomain(undefined);
    }
  }, 30_000);

  test("a wrong secret fails only the secret check", async () => {
    const { run, report, failed } = await doctor({
      AUTH0_ACTION_SECRET: randomBytes(32).toString("base64url"),
    });
    expect(failed).toEqual(["secret"]);
    expect(run.code).toBe(1);
    expect(detail(report, "secret")).toContain("npx convex env set AUTH0_ACTION_SECRET");
  }, 30_000);

  test("a .convex.cloud URL fails the URL check and skips the ping", async () => {
    const { report, failed } = await doctor({
      CONVEX_HTTP_URL: "https://happy-otter-123.convex.cloud",
    });
    expect(failed).toEqual(["convexUrl"]);
    expect(detail(report, "convexUrl")).toContain("https://happy-otter-123.convex.site");
    expect(report.checks.find((c) => c.id === "reach")?.status).toBe("skip");
  }, 30_000);

  test("another origin fails only the origin check", async () => {
    // Same server, but not the origin the deployment knows itself by.
    const other = convex.url.replace("127.0.0.1", "localhost");
    const { report, failed } = await doctor({ CONVEX_HTTP_URL: other });
    // The stream still posts to the real origin, which the doctor now reports as a difference.
    expect(failed).toEqual(["origin", "stream.stream"]);
    expect(detail(report, "origin")).toContain("CONVEX_SITE_URL differs from CONVEX_HTTP_URL");
  }, 30_000);

  test("an unbound Action fails only the binding check", async () => {
    emulator.seedBindings("post-login", [{ actionName: "add-roles", displayName: "Add roles" }]);
    try {
      const { report, failed } = await doctor();
      expect(failed).toEqual(["action.bound"]);
      expect(detail(report, "action.bound")).toContain("logins never run it");
    } finally {
      emulator.seedBindings("post-login", [
        { actionName: "add-roles", displayName: "Add roles" },
        { actionName, displayName: "Sync user to Convex" },
      ]);
    }
  }, 30_000);

  test("an issuer Convex does not trust fails only the issuer check", async () => {
    const { report, failed } = await withProcessEnv(
      { AUTH0_DOMAIN: "other-tenant.eu.auth0.com" },
      () => doctor(),
    );
    expect(failed).toEqual(["issuer"]);
    expect(detail(report, "issuer")).toContain(`https://${emulator.domain}/`);
  }, 30_000);

  test("a missing AUTH0_CLIENT_ID in Convex fails only that check", async () => {
    const { failed } = await withProcessEnv({ AUTH0_CLIENT_ID: undefined }, () => doctor());
    expect(failed).toEqual(["clientId"]);
  }, 30_000);

  test("a disabled stream fails only the stream check", async () => {
    const stream = emulator.findEventStream(streamName)!;
    emulator.eventStreams.set(stream.id, { ...stream, status: "disabled" });
    try {
      const { report, failed } = await doctor();
      expect(failed).toEqual(["stream.stream"]);
      expect(detail(report, "stream.stream")).toContain("the status is disabled");
      expect(detail(report, "stream.stream")).toContain("npm run deploy:auth0 re-enables it");
    } finally {
      emulator.eventStreams.set(stream.id, stream);
    }
  }, 30_000);

  test("a missing variable fails the variables check and skips what needs it", async () => {
    const { report, failed } = await doctor({ AUTH0_ACTION_SECRET: undefined });
    expect(failed).toEqual(["env.action"]);
    expect(detail(report, "env.action")).toContain("missing AUTH0_ACTION_SECRET");
    expect(report.checks.find((c) => c.id === "reach")?.status).toBe("skip");
  }, 30_000);

  test("failed deliveries are listed, and --redeliver sends them again once the cause is fixed", async () => {
    // Convex refuses the stream's token for a while: Auth0 fails the event at once (a 4xx).
    await withProcessEnv({ AUTH0_EVENTS_TOKEN: randomBytes(32).toString("base64url") }, () =>
      emulator.deliveries.publish(
        userEvent("user.updated", "auth0|doctor2", Date.now() - 1000, {
          name: "Grace Hopper",
        }) as unknown as CloudEvent,
      ),
    );
    const listed = await doctor();
    expect(listed.failed).toEqual(["stream.deliveries"]);
    expect(detail(listed.report, "stream.deliveries")).toMatch(
      /1 failed \(user\.updated evt_\w+: HTTP 401/,
    );
    expect(detail(listed.report, "stream.deliveries")).toContain("npm run doctor -- --redeliver");

    const fixed = await doctor({}, ["--redeliver"]);
    expect(fixed.failed).toEqual([]);
    expect(detail(fixed.report, "stream.deliveries")).toBe("redelivered 1; none failed again");
    const rows = await convex.t.run((ctx) => ctx.db.query("users").collect());
    expect(rows.find((r) => r.auth0UserId === "auth0|doctor2")?.name).toBe("Grace Hopper");
  }, 30_000);

  test("a custom domain given as AUTH0_DOMAIN is named as such", async () => {
    const custom = emulator.domain.replace("127.0.0.1", "localhost");
    const { report } = await doctor({ AUTH0_DOMAIN: custom });
    expect(detail(report, "action.exists")).toContain(
      `AUTH0_DOMAIN (${custom}) is a custom domain`,
    );
  }, 30_000);

  test("the app's lookups by identity.tokenIdentifier: a warning naming each place (a failure with --strict)", async () => {
    const app = join(dir, "app", "convex");
    mkdirSync(app, { recursive: true });
    appFiles(join(dir, "app"), {
      "convex/schema.ts": COMPLETE_SCHEMA.replace('author: v.id("users"), ', ""),
    });
    writeFileSync(
      join(app, "messages.ts"),
      [
        'import { query } from "./_generated/server";',
        "export const mine = query({",
        "  args: {},",
        "  handler: async (ctx) => {",
        "    const identity = await ctx.auth.getUserIdentity();",
        "    if (!identity) return [];",
        "    const me = await ctx.db",
        '      .query("users")',
        '      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))',
        "      .unique();",
        '    return me ? await ctx.db.query("messages").collect() : [];',
        "  },",
        "});",
        "",
      ].join("\n"),
    );
    // Without a convex/ folder in the working directory, the check is skipped.
    const none = await doctor();
    expect(none.report.checks.find((c) => c.id === "app.lookups")?.status).toBe("skip");

    const warned = await doctor({}, ["--convex-dir", "app/convex"]);
    expect(warned.failed).toEqual([]);
    expect(warned.run.code).toBe(0);
    expect(warned.report.ok).toBe(true);
    const check = warned.report.checks.find((c) => c.id === "app.lookups")!;
    expect(check.status).toBe("warn");
    expect(check.places).toEqual([
      'app/convex/messages.ts:9:37  q.eq("tokenIdentifier", identity.tokenIdentifier)',
    ]);
    expect(check.detail).toContain("getCurrentUser(ctx)");

    const text = await runScript("doctor", ["--convex-dir", "app/convex"], {
      env: env(),
      cwd: dir,
    });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^WARN {2}the app's functions find users under every issuer$/m);
    expect(text.stdout).toContain("      app/convex/messages.ts:9:37  q.eq(");
    expect(text.stdout).toMatch(/^PASS {2}the app's schema holds the module's tables and indexes/m);
    expect(text.stdout).toMatch(/, 0 failed, \d+ skipped, 1 warned\n/);

    const strict = await doctor({}, ["--convex-dir", "app/convex", "--strict"]);
    expect(strict.run.code).toBe(1);
    expect(strict.report.ok).toBe(false);

    const missing = await runScript("doctor", ["--convex-dir", "no/such/dir"], {
      env: env(),
      cwd: dir,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--convex-dir no/such/dir is not a folder");
  }, 120_000);

  test("the app's schema, its references to users and its own user creation: each failure named", async () => {
    const root = join(dir, "half");
    const store = `import { mutation } from "./_generated/server";

export const store = mutation({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) throw new Error("Called storeUser without authentication present");
    const user = await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
    if (user !== null) return user._id;
    return await ctx.db.insert("users", { name: identity.name!, tokenIdentifier: identity.tokenIdentifier });
  },
});
`;
    // The schema left for a manual edit: the docs' users table, a table referencing it.
    appFiles(root, {
      "convex/schema.ts": `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  users: defineTable({ name: v.string(), tokenIdentifier: v.string() }).index("by_token", ["tokenIdentifier"]),
  posts: defineTable({ meta: v.object({ editors: v.array(v.union(v.id("users"), v.null())) }) }),
});
`,
      "convex/users.ts": store,
    });
    const half = await doctor({}, ["--convex-dir", "half/convex"]);
    expect(half.run.code).toBe(1);
    expect(half.failed).toEqual(["app.schema", "app.deletion", "app.inserts"]);
    const schema = half.report.checks.find((c) => c.id === "app.schema")!;
    expect(schema.places).toContain("users lacks index by_auth0_user_id (on auth0UserId)");
    expect(schema.places!.join("\n")).toMatch(/^no table auth0Events, /m);
    // The schema does not hold the module's tables: what a deletion does is still told.
    expect(half.report.checks.find((c) => c.id === "app.deletion")?.status).toBe("fail");
    expect(detail(half.report, "app.deletion")).toContain("posts.meta.editors[]");
    const inserts = half.report.checks.find((c) => c.id === "app.inserts")!;
    expect(inserts.places).toEqual([
      'half/convex/users.ts:13:18  users.store: ctx.db.insert("users", { name: identity.name!, tokenIdentifier: identity.toke…',
    ]);
    expect(inserts.detail).toContain("delete the function");
    expect(inserts.detail).toContain("api.auth0.store");
    // The lookup inside store goes with it: it is not named with getCurrentUser's fix.
    expect(half.report.checks.find((c) => c.id === "app.lookups")?.status).toBe("pass");

    // Complete, but a deletion removes the row and the hook does nothing: messages.author dangles.
    const done = join(dir, "done");
    appFiles(done, {
      "convex/schema.ts": COMPLETE_SCHEMA,
      "convex/auth0.ts": `import { configureAuth0Users } from "convex-auth0-users/server";
configureAuth0Users({
  onUserDeleted: async (_ctx, _user, _related) => {},
});
`,
    });
    const dangling = await doctor({}, ["--convex-dir", "done/convex"]);
    expect(dangling.failed).toEqual(["app.deletion"]);
    expect(detail(dangling.report, "app.deletion")).toMatch(
      /removed .* onUserDeleted does nothing, so messages\.author would point at nothing.*userDeletion: "anonymize"/,
    );
    // What init writes when it finds the reference: the doctor passes.
    writeFileSync(
      join(done, "convex/auth0.ts"),
      `import { configureAuth0Users } from "convex-auth0-users/server";
configureAuth0Users({ userDeletion: "anonymize" });
`,
    );
    const fixed = await doctor({}, ["--convex-dir", "done/convex"]);
    expect(fixed.failed).toEqual([]);
    expect(fixed.report.checks.find((c) => c.id === "app.deletion")?.status).toBe("pass");
  }, 120_000);
});
