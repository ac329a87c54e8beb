/**
 * The Auth0 deploy, end to end: scripts/deploy-auth0.ts runs as a child process (as in CI) and
 * drives the real auth0-deploy-cli (`a0deploy import`) against a local HTTPS emulator of the
 * Management API, trusted through NODE_EXTRA_CA_CERTS. The tests run in order on one tenant.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startManagementApiEmulator,
  type ManagementApiEmulator,
  type StoredAction,
  type StoredEventStream,
} from "../../local-auth0/managementApiEmulator";
import { createTestCertificate, type TestCertificate } from "../../local-auth0/testCertificate";
import { startLocalConvex, type LocalConvex } from "../../scripts/lib/localConvex";
import { setProcessEnv } from "./helpers/processEnv";
import { CLI, ROOT, start, TSX } from "../../scripts/lib/childProcess";

const BUNDLE = resolve(ROOT, "auth0-actions/dist/post-login.js");
const OURS = "convex-auth0-users-post-login";
const CLIENT_ID = "deploy-ci-client";
const CLIENT_SECRET = randomBytes(24).toString("base64url");
const ACTION_SECRET = randomBytes(32).toString("base64url");
// Quotes, a backslash and keyword-shaped text: what a YAML keyword substitution could not carry,
// and the module API carries verbatim.
const ROTATED_SECRET = `${randomBytes(32).toString("base64url")}"\\##AUTH0_DOMAIN##@@X@@`;
/** The local Convex host over HTTPS (set in beforeAll): the deploy's final ping reaches it. */
let SITE = "";
const IMPORT_TIMEOUT = 120_000;
const EVENTS_TOKEN = randomBytes(32).toString("base64url");
const ROTATED_EVENTS_TOKEN = randomBytes(32).toString("base64url");
const FOREIGN_TOKEN = randomBytes(32).toString("base64url");
const STREAM = "convex-auth0-users";
let ENDPOINT = "";
const FOREIGN_STREAM = "audit-log-export";

/** Runs a command to its end (see scripts/lib/childProcess.ts). */
function runProcess(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd: string,
) {
  return start(command, args, { env, cwd }).done;
}

let dir: string;
let cert: TestCertificate;
let convex: LocalConvex;
const APP_CLIENT_ID = "app-client-id-for-id-tokens";
let emulator: ManagementApiEmulator;
let localBundle: string;
/** The events token the default environment carries (rotated by a test below). */
let eventsToken = EVENTS_TOKEN;
/** The hand-made stream as it was seeded, to prove the deploy never touches it. */
let foreignBefore: StoredEventStream;

function env(overrides: Record<string, string | undefined> = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_EXTRA_CA_CERTS: cert.caPath,
    AUTH0_DOMAIN: emulator.domain,
    AUTH0_DEPLOY_CLIENT_ID: CLIENT_ID,
    AUTH0_DEPLOY_CLIENT_SECRET: CLIENT_SECRET,
    CONVEX_HTTP_URL: SITE,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
    CLAIMS_NAMESPACE: "https://app.example.com",
    // CONVEX_TIMEOUT_MS deliberately unset: an optional secret left out.
    AUTH0_ACTION_BINDING_POSITION: "after:block-risky-logins",
    GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
    AUTH0_EVENTS_TOKEN: eventsToken,
    ...overrides,
  };
}

/** Runs scripts/deploy-auth0.ts, by default from a directory without .env.local. */
function deploy(
  args: string[] = [],
  overrides: Record<string, string | undefined> = {},
  cwd = dir,
) {
  return runProcess(TSX, [CLI, "deploy-auth0", ...args], env(overrides), cwd);
}

function ours(): StoredAction {
  const action = emulator.findAction(OURS);
  if (!action) throw new Error("our Action is not in the tenant");
  return action;
}

function secretValues(action: StoredAction): Record<string, string> {
  const version = emulator.deployedVersion(action);
  return Object.fromEntries((version?.secrets ?? []).map((s) => [s.name, s.value]));
}

function expectNoSecretsIn(output: string) {
  expect(output).not.toContain(CLIENT_SECRET);
  expect(output).not.toContain(ACTION_SECRET);
  expect(output).not.toContain(ROTATED_SECRET);
  expect(output).not.toContain(EVENTS_TOKEN);
  expect(output).not.toContain(ROTATED_EVENTS_TOKEN);
  expect(output).not.toContain(FOREIGN_TOKEN);
}

function ourStream(): StoredEventStream {
  const stream = emulator.findEventStream(STREAM);
  if (!stream) throw new Error("our event stream is not in the tenant");
  return stream;
}

/** The hand-made stream is exactly as seeded, and no request ever wrote to it. */
function expectForeignStreamUntouched() {
  expect(emulator.findEventStream(FOREIGN_STREAM)).toEqual(foreignBefore);
  expect(emulator.writes().filter((r) => r.path.includes(foreignBefore.id))).toEqual([]);
}

const streamRequests = () =>
  emulator.requests.filter((r) => r.path.startsWith("/api/v2/event-streams"));

beforeAll(async () => {
  if (!existsSync(BUNDLE)) {
    const built = await runProcess("npm", ["run", "build"], process.env, ROOT);
    if (built.code !== 0) throw new Error(`npm run build failed:\n${built.output}`);
  }
  localBundle = readFileSync(BUNDLE, "utf8");
  dir = await mkdtemp(join(tmpdir(), "deploy-test-"));
  cert = await createTestCertificate(dir);
  emulator = await startManagementApiEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    tls: cert,
    buildDelayMs: 1_500,
  });
  // The Convex deployment the Action will call, configured as the README says; it accepts the
  // rotated secret as the previous one, as during a rotation.
  convex = await startLocalConvex({ tls: cert });
  Object.assign(process.env, {
    AUTH0_DOMAIN: emulator.domain,
    AUTH0_CLIENT_ID: APP_CLIENT_ID,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
    AUTH0_ACTION_SECRET_PREVIOUS: ROTATED_SECRET,
  });
  SITE = convex.url;
  ENDPOINT = `${SITE}/auth0/events`;
  // A tenant with more Actions than one page of the list holds (a0deploy must page to find ours)...
  for (let i = 0; i < 105; i++) {
    emulator.seedDeployedAction(`legacy-${i}`, "exports.onExecutePostLogin = async () => {};");
  }
  // ...and two hand-made Actions bound to post-login.
  emulator.seedDeployedAction("block-risky-logins", "exports.onExecutePostLogin = async () => {};");
  emulator.seedDeployedAction("add-roles", "exports.onExecutePostLogin = async () => {};");
  emulator.seedBindings("post-login", [
    { actionName: "block-risky-logins", displayName: "Block risky logins" },
    { actionName: "add-roles", displayName: "Add roles" },
  ]);
  // More streams than one page holds (50), so ours lands on a later page and every tool must page.
  for (let i = 0; i < 55; i++) {
    emulator.seedEventStream({
      name: `legacy-stream-${i}`,
      subscriptions: [{ event_type: "user.created" }],
      destination: {
        type: "webhook",
        configuration: {
          webhook_endpoint: `https://legacy-${i}.example.com/hook`,
          webhook_authorization: { method: "basic", username: "u", password: FOREIGN_TOKEN },
        },
      },
    });
  }
  // An event stream someone made by hand, which the deploy must leave exactly as it is.
  foreignBefore = structuredClone(
    emulator.seedEventStream({
      name: FOREIGN_STREAM,
      status: "enabled",
      subscriptions: [{ event_type: "user.deleted" }],
      destination: {
        type: "webhook",
        configuration: {
          webhook_endpoint: "https://audit.example.com/hooks/auth0",
          webhook_authorization: { method: "bearer", token: FOREIGN_TOKEN },
        },
      },
    }),
  );
}, 120_000);

afterAll(async () => {
  await emulator?.close();
  await convex?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("deploy-auth0 against the Management API emulator", () => {
  it("fails before any call when variables are missing, naming all of them", async () => {
    const run = await deploy([], { AUTH0_ACTION_SECRET: undefined, CONVEX_HTTP_URL: undefined });
    expect(run.code).toBe(2);
    expect(run.output).toContain(
      "missing environment variable(s): CONVEX_HTTP_URL, AUTH0_ACTION_SECRET",
    );
    expect(run.output).toContain("Nothing was deployed.");
    expect(emulator.requests).toEqual([]);
    expectNoSecretsIn(run.output);
  });

  it("dry run prints the plan, masks secrets and writes nothing", async () => {
    const run = await deploy(["--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.output).toContain(`Action "${OURS}": create`);
    expect(run.output).toContain("post-login bindings: block-risky-logins -> add-roles");
    expect(run.output).toContain(`becomes block-risky-logins -> ${OURS} -> add-roles`);
    expect(run.output).toContain("AUTH0_ACTION_SECRET=****");
    expect(run.output).toContain("CONVEX_TIMEOUT_MS (unset, left out)");
    expect(run.output).toContain(`Event stream "${STREAM}": create (the stream does not exist)`);
    expect(run.output).toContain(`endpoint: ${ENDPOINT}`);
    expect(run.output).toContain("subscriptions: user.created, user.updated, user.deleted");
    expect(run.output).toContain("authorization: bearer AUTH0_EVENTS_TOKEN=****");
    expectNoSecretsIn(run.output);
    expect(emulator.writes()).toEqual([]);
    expect(emulator.findAction(OURS)).toBeUndefined();
    expect(emulator.findEventStream(STREAM)).toBeUndefined();
  });

  it(
    "imports the built Action with real secret values, deploys it once built, binds it in the configured place, and creates the event stream with the real token",
    async () => {
      const run = await deploy();
      expect(run.code, run.output).toBe(0);
      expect(emulator.unknownRoutes).toEqual([]);

      const action = ours();
      const version = emulator.deployedVersion(action);
      expect(version, "a version is deployed").toBeDefined();
      expect(action.versions).toHaveLength(1);
      // The deployed code is the local bundle, byte for byte, plus the deploy's trailer line.
      expect(version!.code.startsWith(localBundle)).toBe(true);
      expect(version!.code.slice(localBundle.length)).toMatch(
        /^\n?\/\/ convex-auth0-users deploy commit=0123456789abcdef0123456789abcdef01234567 fingerprint=[0-9a-f]{64}\n$/,
      );
      expect(version!.code.split("\n", 1)[0]).toBe(localBundle.split("\n", 1)[0]);
      expect(version!.runtime).toBe("node22");
      expect(version!.supported_triggers).toEqual([{ id: "post-login", version: "v3" }]);
      expect(secretValues(action)).toEqual({
        CONVEX_HTTP_URL: SITE,
        AUTH0_ACTION_SECRET: ACTION_SECRET,
        AUTH0_DOMAIN: emulator.domain,
        CLAIMS_NAMESPACE: "https://app.example.com",
      });
      for (const value of Object.values(secretValues(action))) expect(value).not.toMatch(/##|@@/);
      // a0deploy had to wait for the build: deploy calls were refused while it was pending.
      const deploys = emulator.requests.filter((r) => r.path.endsWith(`/${action.id}/deploy`));
      expect(deploys[0].status).toBe(400);
      expect(deploys[deploys.length - 1].status).toBe(200);

      expect(emulator.boundActions("post-login")).toEqual([
        { name: "block-risky-logins", displayName: "Block risky logins" },
        { name: OURS, displayName: "Sync user to Convex" },
        { name: "add-roles", displayName: "Add roles" },
      ]);
      // The other Actions were neither deleted nor changed.
      expect(emulator.writes().some((r) => r.method === "DELETE")).toBe(false);
      for (const name of ["block-risky-logins", "add-roles"]) {
        expect(emulator.findAction(name)!.versions).toHaveLength(1);
      }
      expect(run.output).toContain(`Verified: Action "${OURS}"`);
      expect(run.output).toContain(
        `code header matches the local bundle: ${localBundle.split("\n", 1)[0]}`,
      );

      // The stream: created once, with the real token, and verified.
      expect(run.output).toContain(`Event stream "${STREAM}": create (the stream does not exist)`);
      expect(
        streamRequests()
          .filter((r) => r.method !== "GET")
          .map((w) => `${w.method} ${w.path}`),
      ).toEqual(["POST /api/v2/event-streams"]);
      const stream = ourStream();
      expect(stream).toMatchObject({
        name: STREAM,
        status: "enabled",
        subscriptions: [
          { event_type: "user.created" },
          { event_type: "user.updated" },
          { event_type: "user.deleted" },
        ],
        destination: {
          type: "webhook",
          configuration: {
            webhook_endpoint: ENDPOINT,
            webhook_authorization: { method: "bearer", token: EVENTS_TOKEN },
          },
        },
      });
      expect(JSON.stringify(stream)).not.toMatch(/##|@@/);
      expect(run.output).toContain(
        `event stream "${STREAM}" (${stream.id}): enabled, user.created, user.updated, user.deleted -> ${ENDPOINT}, bearer token`,
      );
      expectForeignStreamUntouched();
      expectNoSecretsIn(run.output);
    },
    IMPORT_TIMEOUT,
  );

  it("without AUTH0_EVENTS_TOKEN, a second deploy neither reads nor writes the stream, and still verifies (--json report)", async () => {
    const writesBefore = emulator.writes().length;
    const streamRequestsBefore = streamRequests().length;
    const streamBefore = structuredClone(ourStream());
    const run = await deploy(["--json"], { AUTH0_EVENTS_TOKEN: undefined });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("The tenant already matches: nothing to import.");
    expect(emulator.writes()).toHaveLength(writesBefore);
    expect(ours().versions).toHaveLength(1);
    // With --json, stdout is one JSON document and the progress lines went to stderr.
    const report = JSON.parse(run.stdout);
    expect(report.outcome).toBe("no-op");
    expect(report.exitCode).toBe(0);
    expect(report.plan.action.change).toBe("none");
    expect(report.plan.bindings.change).toBe(false);
    expect(report.verification.ok).toBe(true);
    expect(report.verification.version).toBe(1);
    expect(report.verification.commit).toBe("0123456789abcdef0123456789abcdef01234567");
    // Without the token the stream is left out entirely: not read, not written, and the run
    // says how to turn real-time events on.
    expect(report.plan.eventStream.change).toBe("off");
    expect(report.verification.eventStream).toBeNull();
    expect(run.output).toContain(
      `Event stream "${STREAM}": not deployed: AUTH0_EVENTS_TOKEN is unset`,
    );
    expect(run.output).toContain("To enable them, set AUTH0_EVENTS_TOKEN");
    expect(streamRequests()).toHaveLength(streamRequestsBefore);
    expect(ourStream()).toEqual(streamBefore);
    expectNoSecretsIn(run.stdout);
    expectNoSecretsIn(run.output);
  });

  it("a second run leaves the stream alone and still verifies it", async () => {
    const writesBefore = emulator.writes().length;
    const run = await deploy(["--json"]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("The tenant already matches: nothing to import.");
    expect(run.output).toContain(`Event stream "${STREAM}": unchanged`);
    expect(emulator.writes()).toHaveLength(writesBefore);
    const report = JSON.parse(run.stdout);
    expect(report.outcome).toBe("no-op");
    expect(report.plan.eventStream.change).toBe("none");
    // Ours is past the first page of the list: the plan and the verification paged to find it.
    expect([...emulator.eventStreams.keys()].indexOf(ourStream().id)).toBeGreaterThanOrEqual(50);
    expect(streamRequests().some((r) => r.method === "GET" && r.query.from)).toBe(true);
    expect(report.verification.eventStream).toMatchObject({
      id: ourStream().id,
      status: "enabled",
      endpoint: ENDPOINT,
      authorizationMethod: "bearer",
    });
    // What the API returned (and the report repeats) never holds a webhook credential.
    expectNoSecretsIn(run.stdout);
    expectNoSecretsIn(run.output);
  });

  it("a rotated events token alone is invisible to the plan; --force-event-stream sends it (dry run)", async () => {
    const writesBefore = emulator.writes().length;
    const plain = await deploy(["--dry-run"], { AUTH0_EVENTS_TOKEN: ROTATED_EVENTS_TOKEN });
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).toContain(
      `Event stream "${STREAM}": unchanged (Auth0 never returns the bearer token: after changing AUTH0_EVENTS_TOKEN, deploy with --force-event-stream)`,
    );
    const forced = await deploy(["--dry-run", "--force-event-stream"], {
      AUTH0_EVENTS_TOKEN: ROTATED_EVENTS_TOKEN,
    });
    expect(forced.code, forced.output).toBe(0);
    expect(forced.output).toContain(`Event stream "${STREAM}": update (--force-event-stream)`);
    expect(forced.output).toContain(`Action "${OURS}": unchanged`);
    expect(forced.output).toContain("authorization: bearer AUTH0_EVENTS_TOKEN=****");
    expect(emulator.writes()).toHaveLength(writesBefore);
    expect(ourStream().destination.configuration.webhook_authorization).toEqual({
      method: "bearer",
      token: EVENTS_TOKEN,
    });
    expectNoSecretsIn(plain.output + forced.output);
  });

  it(
    "puts a moved binding back and re-enables a stream Auth0 disabled, in place with the current token, without touching the Action",
    async () => {
      // By hand: ours moved to the front, and a new Action bound at the end.
      emulator.seedDeployedAction("geo-block", "exports.onExecutePostLogin = async () => {};");
      emulator.seedBindings("post-login", [
        { actionName: OURS, displayName: "Sync user to Convex" },
        { actionName: "block-risky-logins", displayName: "Block risky logins" },
        { actionName: "add-roles", displayName: "Add roles" },
        { actionName: "geo-block", displayName: "Geo block" },
      ]);
      // Auth0 disables a stream after too many failed deliveries.
      const before = ourStream();
      emulator.eventStreams.set(before.id, { ...before, status: "disabled" });
      eventsToken = ROTATED_EVENTS_TOKEN;
      const writesBefore = emulator.writes().length;
      const run = await deploy();
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain(`Event stream "${STREAM}": update (the status is disabled)`);
      expect(emulator.boundActions("post-login")).toEqual([
        { name: "block-risky-logins", displayName: "Block risky logins" },
        { name: OURS, displayName: "Sync user to Convex" },
        { name: "add-roles", displayName: "Add roles" },
        { name: "geo-block", displayName: "Geo block" },
      ]);
      // The Action was current: the import held only the binding list and the stream.
      const writes = emulator.writes().slice(writesBefore);
      expect(writes.map((w) => `${w.method} ${w.path}`).sort()).toEqual([
        "PATCH /api/v2/actions/triggers/post-login/bindings",
        `PATCH /api/v2/event-streams/${before.id}`,
      ]);
      expect(ours().versions).toHaveLength(1);
      const after = ourStream();
      expect(after.id).toBe(before.id);
      expect(after.status).toBe("enabled");
      expect(after.destination.configuration).toEqual({
        webhook_endpoint: ENDPOINT,
        webhook_authorization: { method: "bearer", token: ROTATED_EVENTS_TOKEN },
      });
      expect(emulator.eventStreams.size).toBe(57);
      expect([...emulator.eventStreams.values()].filter((s) => s.name === STREAM)).toHaveLength(1);
      expectForeignStreamUntouched();
      expectNoSecretsIn(run.output);
    },
    IMPORT_TIMEOUT,
  );

  it("reads missing variables from .env.local in the working directory, real ones winning", async () => {
    const cwd = await mkdtemp(join(dir, "with-env-file-"));
    await writeFile(
      join(cwd, ".env.local"),
      `AUTH0_ACTION_SECRET=${ACTION_SECRET}\nCONVEX_HTTP_URL=https://from-the-file.convex.site\n`,
    );
    const run = await deploy(["--dry-run"], { AUTH0_ACTION_SECRET: undefined }, cwd);
    expect(run.code, run.output).toBe(0);
    // The secret came from the file; CONVEX_HTTP_URL from the real environment, so nothing changed.
    expect(run.output).toContain(`Action "${OURS}": unchanged`);
    expectNoSecretsIn(run.output);
  });

  it("dry run with a rotated secret reports the update and writes nothing", async () => {
    const writesBefore = emulator.writes().length;
    const run = await deploy(["--dry-run"], { AUTH0_ACTION_SECRET: ROTATED_SECRET });
    expect(run.code).toBe(0);
    expect(run.output).toContain(`Action "${OURS}": update`);
    expect(run.output).toContain("secret values or settings differ");
    expect(run.output).toContain("(version 1, commit 0123456789abcdef0123456789abcdef01234567)");
    expect(run.output).toContain("bindings: unchanged");
    expectNoSecretsIn(run.output);
    expect(emulator.writes()).toHaveLength(writesBefore);
    expect(secretValues(ours()).AUTH0_ACTION_SECRET).toBe(ACTION_SECRET);
  });

  it(
    "rotating the Action secret deploys a new version and leaves the bindings alone",
    async () => {
      const writesBefore = emulator.writes().length;
      const run = await deploy([], { AUTH0_ACTION_SECRET: ROTATED_SECRET });
      expect(run.code, run.output).toBe(0);
      const action = ours();
      expect(action.versions).toHaveLength(2);
      expect(secretValues(action).AUTH0_ACTION_SECRET).toBe(ROTATED_SECRET);
      const writes = emulator.writes().slice(writesBefore);
      // The binding list and the stream (token set, stream current) were not part of the import.
      expect(writes.some((w) => w.path.includes("/triggers/"))).toBe(false);
      expect(writes.some((w) => w.path.startsWith("/api/v2/event-streams"))).toBe(false);
      expect(writes.some((w) => w.method === "PATCH" && w.path.endsWith(action.id))).toBe(true);
      expect(emulator.boundActions("post-login").map((b) => b.name)).toEqual([
        "block-risky-logins",
        OURS,
        "add-roles",
        "geo-block",
      ]);
      expectNoSecretsIn(run.output);
      expect(emulator.unknownRoutes).toEqual([]);
    },
    IMPORT_TIMEOUT,
  );

  it("rides out Management API rate limiting (429 with x-ratelimit-reset)", async () => {
    emulator.setRateLimit(2);
    try {
      const before = emulator.requests.length;
      const run = await deploy([], { AUTH0_ACTION_SECRET: ROTATED_SECRET });
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain("nothing to import");
      // It keeps to the announced budget (or rides out a 429): never 3 answers in one second.
      const perSecond = new Map<number, number>();
      for (const r of emulator.requests.slice(before)) {
        if (r.status === 429 || !(r.path.startsWith("/api/v2/") || r.path === "/oauth/token")) {
          continue;
        }
        const s = Math.floor(r.at / 1000);
        perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
      }
      expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(2);
    } finally {
      emulator.setRateLimit(50);
    }
  });

  it("refuses a position relative to an unbound Action before writing", async () => {
    const writesBefore = emulator.writes().length;
    const run = await deploy([], {
      AUTH0_ACTION_SECRET: ROTATED_SECRET,
      AUTH0_ACTION_BINDING_POSITION: "before:no-such-action",
    });
    expect(run.code).toBe(2);
    expect(run.output).toContain("binding position before:no-such-action");
    expect(run.output).toContain('"block-risky-logins"');
    expect(emulator.writes()).toHaveLength(writesBefore);
  });

  it("fails clearly on refused credentials, printing no secret", async () => {
    const wrong = randomBytes(24).toString("base64url");
    const writesBefore = emulator.writes().length;
    const run = await deploy([], { AUTH0_DEPLOY_CLIENT_SECRET: wrong });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/AUTH0_DEPLOY_CLIENT_ID \/ AUTH0_DEPLOY_CLIENT_SECRET/);
    expect(run.output).not.toContain(wrong);
    expect(emulator.writes()).toHaveLength(writesBefore);
  });
});

describe("deploy (both halves)", () => {
  it("names the missing variables of both halves and runs nothing", async () => {
    const run = await runProcess(
      TSX,
      [CLI, "deploy"],
      { PATH: process.env.PATH, HOME: process.env.HOME, AUTH0_DOMAIN: "tenant.us.auth0.com" },
      dir,
    );
    expect(run.code).toBe(2);
    expect(run.output).toContain("CONVEX_DEPLOY_KEY");
    expect(run.output).toContain(
      "AUTH0_DEPLOY_CLIENT_ID, AUTH0_DEPLOY_CLIENT_SECRET, CONVEX_HTTP_URL, AUTH0_ACTION_SECRET",
    );
    expect(run.output).not.toContain("== Convex");
  });

  /** A directory with stand-ins for npx/bunx that record their arguments and exit with `code`. */
  async function fakeRunners(code: number): Promise<{ path: string; log: string }> {
    const bin = await mkdtemp(join(dir, "bin-"));
    const log = join(bin, "calls.log");
    for (const name of ["npx", "bunx"]) {
      const script = join(bin, name);
      await writeFile(script, `#!/bin/sh\necho "${name} $*" >> "${log}"\nexit ${code}\n`);
      await chmod(script, 0o755);
    }
    return { path: `${bin}:${process.env.PATH}`, log };
  }

  function deployBoth(args: string[], path: string) {
    return runProcess(
      TSX,
      [CLI, "deploy", ...args],
      env({
        PATH: path,
        CONVEX_DEPLOY_KEY: "prod:happy-otter-123|test-key",
        AUTH0_ACTION_SECRET: ROTATED_SECRET,
      }),
      dir,
    );
  }

  it(
    "builds, deploys Convex first, then the Auth0 half (verified)",
    async () => {
      const runners = await fakeRunners(0);
      const run = await deployBoth([], runners.path);
      expect(run.code, run.output).toBe(0);
      expect(readFileSync(runners.log, "utf8")).toBe("npx convex deploy --cmd npm run build\n");
      expect(run.output.indexOf("== Convex")).toBeLessThan(run.output.indexOf("== Auth0"));
      expect(run.output).toContain("Verified:");
      expectNoSecretsIn(run.output);
    },
    IMPORT_TIMEOUT,
  );

  it("--bun --dry-run runs bunx convex deploy --dry-run and writes nothing to Auth0", async () => {
    const runners = await fakeRunners(0);
    const writesBefore = emulator.writes().length;
    const run = await deployBoth(["--bun", "--dry-run"], runners.path);
    expect(run.code, run.output).toBe(0);
    expect(readFileSync(runners.log, "utf8")).toBe(
      "bunx convex deploy --cmd npm run build --dry-run\n",
    );
    expect(run.output).toContain("Auth0 deploy plan (dry run: nothing will be written)");
    expect(emulator.writes()).toHaveLength(writesBefore);
  });

  it("stops before the Auth0 half when convex deploy fails", async () => {
    const runners = await fakeRunners(1);
    const requestsBefore = emulator.requests.length;
    const run = await deployBoth([], runners.path);
    expect(run.code).toBe(1);
    expect(run.output).toContain("convex deploy failed; the Auth0 half was not started.");
    expect(emulator.requests).toHaveLength(requestsBefore);
  });
});

describe("verification", () => {
  it("a deploy is verified only when Convex accepts a request signed as the Action will sign it", async () => {
    const cases = [
      {
        fault: {
          AUTH0_ACTION_SECRET: randomBytes(32).toString("base64url"),
          AUTH0_ACTION_SECRET_PREVIOUS: undefined,
        },
        check: "AUTH0_ACTION_SECRET is the same in the Action and in Convex",
        hint: "npx convex env set AUTH0_ACTION_SECRET",
      },
      {
        fault: { CONVEX_SITE_URL: "https://other-deer-456.convex.site" },
        check: "CONVEX_HTTP_URL is this deployment's own origin",
        hint: "CONVEX_SITE_URL differs from CONVEX_HTTP_URL",
      },
      {
        fault: { AUTH0_CLIENT_ID: undefined },
        check: "Convex has AUTH0_CLIENT_ID",
        hint: "npx convex env set AUTH0_CLIENT_ID",
      },
      {
        fault: { AUTH0_DOMAIN: "other-tenant.eu.auth0.com" },
        check: "Convex trusts the issuer the Action uses",
        hint: `the Action signs users in under https://${emulator.domain}/`,
      },
    ];
    for (const { fault, check, hint } of cases) {
      const undo = setProcessEnv(fault);
      const writesBefore = emulator.writes().length;
      try {
        // The tenant already matches, so only the verification runs.
        const run = await deploy([], { AUTH0_ACTION_SECRET: ROTATED_SECRET });
        expect(run.code, run.output).toBe(3);
        expect(run.output).toContain("Verification FAILED");
        expect(run.output).toContain(check);
        expect(run.output).toContain(hint);
        expect(run.output).not.toContain("Verified:");
        expectNoSecretsIn(run.output);
        expect(emulator.writes()).toHaveLength(writesBefore);
      } finally {
        undo();
      }
    }
    const healthy = await deploy([], { AUTH0_ACTION_SECRET: ROTATED_SECRET });
    expect(healthy.code, healthy.output).toBe(0);
    expect(healthy.output).toContain(
      "Convex accepts the Action's signed requests: reach, configured, secret, origin, clientId, issuer, key passed",
    );
    // Convex holds the rotated secret as the previous one: the run says to finish the rotation.
    expect(healthy.output).toContain("AUTH0_ACTION_SECRET_PREVIOUS");
  }, 60_000);

  it("names a custom domain given as AUTH0_DOMAIN instead of blaming the credentials", async () => {
    const custom = emulator.domain.replace("127.0.0.1", "localhost");
    const run = await deploy(["--dry-run"], { AUTH0_DOMAIN: custom });
    expect(run.code).toBe(1);
    expect(run.output).toContain(`AUTH0_DOMAIN (${custom}) is a custom domain`);
    expect(run.output).not.toMatch(/AUTH0_DEPLOY_CLIENT_ID \/ AUTH0_DEPLOY_CLIENT_SECRET belong/);
    expectNoSecretsIn(run.output);
  });

  it(
    "exits 3 when the verification finds other code than the local build",
    async () => {
      // Simulates a tenant that ends up with different code (another deploy racing this one).
      emulator.afterDeploy = (_action, version) => {
        version.code = version.code.replace(/sha256=[0-9a-f]{64}/, `sha256=${"0".repeat(64)}`);
      };
      try {
        const run = await deploy(["--force"], { AUTH0_ACTION_SECRET: ROTATED_SECRET });
        expect(run.code, run.output).toBe(3);
        expect(run.output).toContain("Verification FAILED");
        expect(run.output).toMatch(/not the local build header/);
      } finally {
        emulator.afterDeploy = undefined;
      }
    },
    IMPORT_TIMEOUT,
  );

  it("no tool called an endpoint the emulator does not implement, nor touched the foreign stream", () => {
    expect(emulator.unknownRoutes).toEqual([]);
    expect(emulator.requests.length).toBeGreaterThan(0);
    expectForeignStreamUntouched();
    expect(emulator.writes().some((r) => r.method === "DELETE")).toBe(false);
    // Only our stream was ever written to: created once, then updated in place (drift, --force).
    const streamWrites = emulator
      .writes()
      .filter((r) => r.path.startsWith("/api/v2/event-streams"))
      .map((w) => `${w.method} ${w.path}`);
    expect(streamWrites[0]).toBe("POST /api/v2/event-streams");
    expect(new Set(streamWrites.slice(1))).toEqual(
      new Set([`PATCH /api/v2/event-streams/${ourStream().id}`]),
    );
  });
});
