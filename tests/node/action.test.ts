/**
 * End-to-end tests of the Post-Login Action as Auth0 runs it: the BUILT CommonJS bundle, called
 * with a realistic event and api, sending real HTTP to the real `/auth0/upsert-user` route (running
 * in convex-test behind a local HTTP host) or to misbehaving local servers.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { audienceFor, verifySignedRequest } from "../../server/http/signedRequest";
import {
  ACTION_BUNDLE_PATH,
  ActionBuildError,
  buildAction,
  hashInputs,
  HEADER_PATTERN,
  KEYWORD_MARKER,
  MAX_BUNDLE_BYTES,
  type BuiltAction,
} from "../../scripts/build-action";
import { startLocalConvex, type LocalConvex } from "../../scripts/lib/localConvex";
import { CUSTOM_DOMAIN, makeApi, makeEvent, TENANT_DOMAIN } from "../../local-auth0/auth0Event";
import {
  closedPortUrl,
  jsonReply,
  startFaultServer,
  type FaultServer,
} from "./helpers/faultServers";

const ROOT = resolve(import.meta.dirname, "../..");
const requireCjs = createRequire(import.meta.url);
type PostLoginHandler = (event: Event, api: PostLoginAPI) => Promise<void>;

// Made-up secrets, fresh for each run.
const SECRET = randomBytes(32).toString("base64url");
const WRONG_SECRET = randomBytes(32).toString("base64url");
/** The Action's default time budget for the whole Convex call. */
const DEFAULT_BUDGET_MS = 2500;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
const ENV_KEYS = [
  "AUTH0_DOMAIN",
  "AUTH0_CUSTOM_DOMAIN",
  "AUTH0_ACTION_SECRET",
  "AUTH0_ACTION_SECRET_PREVIOUS",
  "CONVEX_SITE_URL",
];

let built: BuiltAction;
let onExecutePostLogin: PostLoginHandler;
let logLines: string[];
let envBefore: Record<string, string | undefined>;
/** Tokens seen on the wire by fault servers: none may show up in a log line. */
const seenTokens: string[] = [];

beforeAll(async () => {
  // Always rebuild: the test must exercise the bundle of the current sources.
  built = await buildAction();
  onExecutePostLogin = (requireCjs(ACTION_BUNDLE_PATH) as { onExecutePostLogin: PostLoginHandler })
    .onExecutePostLogin;
});

beforeEach(() => {
  envBefore = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  process.env.AUTH0_DOMAIN = TENANT_DOMAIN;
  process.env.AUTH0_ACTION_SECRET = SECRET;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  delete process.env.AUTH0_ACTION_SECRET_PREVIOUS;
  logLines = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logLines.push(args.map(String).join(" "));
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const [k, v] of Object.entries(envBefore)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  // Every test, whatever it covers: no log line (the Action's or the route's) leaks a secret,
  // a signed token or the request body.
  for (const line of logLines) {
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain(WRONG_SECRET);
    expect(line).not.toMatch(JWT_SHAPE);
    for (const token of seenTokens) expect(line).not.toContain(token);
    expect(line).not.toContain('"tokenIdentifier"');
  }
});

/** The Action's own log lines, from index `from` on. */
const actionLines = (from: number) =>
  logLines.slice(from).filter((l) => l.startsWith("convex-auth0-users:"));

/** Runs the Action like Auth0 does and returns the api state, its one log line and the time. */
async function login(event: Event, apiOptions?: Parameters<typeof makeApi>[0]) {
  const { api, state } = makeApi(apiOptions);
  const logged = logLines.length;
  const started = performance.now();
  await expect(onExecutePostLogin(event, api)).resolves.toBeUndefined();
  const ms = performance.now() - started;
  const lines = actionLines(logged);
  expect(lines).toHaveLength(1);
  // Fails open: whatever happened, the login goes on.
  expect(state.denied).toEqual([]);
  return { state, line: lines[0], ms };
}

describe("the bundle", () => {
  test("starts with the version/hash header over every bundled input", async () => {
    const text = readFileSync(built.path, "utf8");
    const [firstLine] = text.split("\n", 1);
    expect(firstLine).toBe(built.header);
    const match = HEADER_PATTERN.exec(firstLine);
    expect(match).not.toBeNull();
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(match![1]).toBe(pkg.version);
    expect(built.inputs).toEqual(
      expect.arrayContaining([
        "auth0-actions/post-login.ts",
        "server/tokenIdentifier.ts",
        "server/users/auth0Profile.ts",
        "server/http/signedRequest.ts",
      ]),
    );
    expect(built.inputs.some((p) => p.startsWith("node_modules/jose/"))).toBe(true);
    expect(match![2]).toBe(await hashInputs(ROOT, built.inputs));
    // Deterministic: building again gives the same header.
    const dir = mkdtempSync(join(tmpdir(), "action-build-"));
    try {
      expect((await buildAction({ outPath: join(dir, "post-login.js") })).header).toBe(
        built.header,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the hash changes when a bundled file's contents or path change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "action-hash-"));
    try {
      writeFileSync(join(dir, "a.ts"), "export const a = 1;\n");
      writeFileSync(join(dir, "b.ts"), "export const b = 2;\n");
      const base = await hashInputs(dir, ["b.ts", "a.ts"]);
      expect(base).toMatch(/^[0-9a-f]{64}$/);
      expect(await hashInputs(dir, ["a.ts", "b.ts"])).toBe(base); // order-independent
      writeFileSync(join(dir, "b.ts"), "export const b = 3;\n");
      const changed = await hashInputs(dir, ["a.ts", "b.ts"]);
      expect(changed).not.toBe(base);
      writeFileSync(join(dir, "c.ts"), "export const b = 3;\n");
      expect(await hashInputs(dir, ["a.ts", "c.ts"])).not.toBe(changed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("is CommonJS exporting onExecutePostLogin, as Auth0 evaluates it", () => {
    const code = readFileSync(built.path, "utf8");
    // Evaluate it the way a CommonJS loader does, independent of any package.json.
    const module = { exports: {} as Record<string, unknown> };
    new Function("exports", "require", "module", "__filename", "__dirname", code)(
      module.exports,
      requireCjs,
      module,
      built.path,
      resolve(built.path, ".."),
    );
    expect(typeof module.exports.onExecutePostLogin).toBe("function");
    expect(typeof onExecutePostLogin).toBe("function");
    // Nothing but Node built-ins may be required at run time (Auth0 installs no dependencies).
    expect(code).not.toMatch(/require\("(?!node:)[^"]+"\)/);
  });

  test("has no deploy-cli keyword markers and fits Auth0's 100 kB limit", () => {
    const code = readFileSync(built.path, "utf8");
    expect(code).not.toMatch(KEYWORD_MARKER);
    expect(built.bytes).toBe(Buffer.byteLength(code));
    expect(built.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
  });

  test("the build refuses keyword markers and oversized output, writing nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "action-bad-"));
    try {
      const marker = ["##", "DEPLOY_KEY", "##"].join("");
      writeFileSync(join(dir, "marker.ts"), `export const note = ${JSON.stringify(marker)};\n`);
      const out1 = join(dir, "out1.js");
      await expect(buildAction({ entry: join(dir, "marker.ts"), outPath: out1 })).rejects.toThrow(
        ActionBuildError,
      );
      expect(existsSync(out1)).toBe(false);

      const big = randomBytes(80 * 1024).toString("base64"); // ~107 kB, incompressible
      writeFileSync(join(dir, "big.ts"), `export const blob = ${JSON.stringify(big)};\n`);
      const out2 = join(dir, "out2.js");
      await expect(buildAction({ entry: join(dir, "big.ts"), outPath: out2 })).rejects.toThrow(
        /over Auth0's 102400-byte limit/,
      );
      expect(existsSync(out2)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("logins against the local Convex deployment", () => {
  let convex: LocalConvex;
  const users = () => convex.t.run((ctx) => ctx.db.query("users").collect());
  const secrets = (extra: Record<string, string> = {}) => ({
    CONVEX_HTTP_URL: convex.url,
    AUTH0_ACTION_SECRET: SECRET,
    ...extra,
  });

  beforeEach(async () => {
    convex = await startLocalConvex();
  });
  afterEach(async () => {
    await convex.close();
  });

  test("a first login creates the row with Convex's tokenIdentifier and the profile", async () => {
    const event = makeEvent({ secrets: secrets() });
    const { state, line } = await login(event);
    const rows = await users();
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row).toMatchObject({
      tokenIdentifier: `https://${TENANT_DOMAIN}/|auth0|65f0c0ffee00000000000001`,
      auth0UserId: "auth0|65f0c0ffee00000000000001",
      email: "ada@example.com",
      emailVerified: true,
      name: "Ada Lovelace",
      nickname: "ada",
      givenName: "Ada",
      familyName: "Lovelace",
      avatarUrl: "https://s.gravatar.com/avatar/ada.png",
      auth0UpdatedAt: Date.parse("2026-11-01T10:00:00.000Z"),
    });
    expect(row.lastActiveAt).toBeTypeOf("number");
    expect(line).toBe(`convex-auth0-users: upserted ${row._id} (created)`);
    expect(state.idTokenClaims).toEqual({});
    expect(state.accessTokenClaims).toEqual({});
  });

  test("a repeat login with a changed name updates the same row", async () => {
    await login(makeEvent({ secrets: secrets() }));
    const { line } = await login(
      makeEvent({
        secrets: secrets(),
        user: { name: "Ada King", updated_at: "2026-11-02T09:00:00.000Z", given_name: undefined },
      }),
    );
    const rows = await users();
    expect(rows).toHaveLength(1);
    expect(rows[0].name).toBe("Ada King");
    expect(rows[0].givenName).toBeUndefined(); // a fact the profile lost is cleared
    expect(rows[0].auth0UpdatedAt).toBe(Date.parse("2026-11-02T09:00:00.000Z"));
    expect(line).toBe(`convex-auth0-users: upserted ${rows[0]._id} (existing)`);
  });

  test("an organization login sets org_id, org_name (the display name) and roles under the namespace", async () => {
    const { state } = await login(
      makeEvent({
        secrets: secrets({ CLAIMS_NAMESPACE: "https://myapp.example.com/" }),
        organization: {
          id: "org_7Hq2",
          name: "acme",
          display_name: "Acme Inc.",
          metadata: {},
        },
        roles: ["admin", "billing"],
      }),
    );
    expect(state.idTokenClaims).toEqual({
      "https://myapp.example.com/org_id": "org_7Hq2",
      "https://myapp.example.com/org_name": "Acme Inc.",
      "https://myapp.example.com/roles": ["admin", "billing"],
    });
    const rows = await users();
    expect(rows).toHaveLength(1);
    // The same signed request made the organization and the membership current in Convex.
    const org = await convex.t.run(async (ctx) => ({
      organizations: await ctx.db.query("auth0Organizations").collect(),
      memberships: await ctx.db.query("auth0Memberships").collect(),
    }));
    expect(org.organizations).toMatchObject([
      { auth0OrgId: "org_7Hq2", name: "acme", displayName: "Acme Inc." },
    ]);
    expect(org.memberships).toMatchObject([
      { auth0OrgId: "org_7Hq2", userId: rows[0]._id, roles: ["admin", "billing"] },
    ]);
  });

  test("org_name falls back to the slug when the organization has no display name", async () => {
    for (const display_name of ["", "   ", undefined]) {
      const { state } = await login(
        makeEvent({
          secrets: secrets({ CLAIMS_NAMESPACE: "https://myapp.example.com" }),
          organization: { id: "org_2", name: "globex", display_name, metadata: {} } as never,
        }),
      );
      expect(state.idTokenClaims["https://myapp.example.com/org_name"]).toBe("globex");
    }
  });

  test("an organization login without roles gets an empty roles claim", async () => {
    const { state } = await login(
      makeEvent({
        secrets: secrets({ CLAIMS_NAMESPACE: "https://myapp.example.com" }),
        organization: { id: "org_1", name: "solo", display_name: "Solo", metadata: {} },
      }),
    );
    expect(state.idTokenClaims["https://myapp.example.com/roles"]).toEqual([]);
  });

  test("without CLAIMS_NAMESPACE no claim is set, even for an organization login", async () => {
    const { state } = await login(
      makeEvent({
        secrets: secrets(),
        organization: { id: "org_7Hq2", name: "acme", display_name: "Acme", metadata: {} },
        roles: ["admin"],
      }),
    );
    expect(state.idTokenClaims).toEqual({});
    expect(await users()).toHaveLength(1);
  });

  test("claims are set even when Convex is unreachable", async () => {
    const { state, line } = await login(
      makeEvent({
        secrets: {
          CONVEX_HTTP_URL: await closedPortUrl(),
          AUTH0_ACTION_SECRET: SECRET,
          CLAIMS_NAMESPACE: "https://myapp.example.com",
        },
        organization: { id: "org_9", name: "nine", display_name: "Nine", metadata: {} },
        roles: ["member"],
      }),
    );
    expect(line).toContain("upsert failed: network error");
    expect(state.idTokenClaims["https://myapp.example.com/org_id"]).toBe("org_9");
  });

  test("with a custom domain, logins through both domains leave one row", async () => {
    process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM_DOMAIN;
    await login(makeEvent({ secrets: secrets() }));
    const { line } = await login(
      makeEvent({ secrets: secrets(), request: { hostname: CUSTOM_DOMAIN } }),
    );
    const rows = await users();
    expect(rows).toHaveLength(1);
    expect(rows[0].tokenIdentifier).toBe(
      `https://${TENANT_DOMAIN}/|auth0|65f0c0ffee00000000000001`,
    );
    expect(line).toContain("(existing)");
  });

  test("a custom-domain login Convex was not told about is refused, and logged", async () => {
    const { line } = await login(
      makeEvent({ secrets: secrets(), request: { hostname: CUSTOM_DOMAIN } }),
    );
    expect(line).toMatch(/^convex-auth0-users: upsert failed: HTTP 400 unknown_issuer: /);
    expect(await users()).toHaveLength(0);
  });

  test("without event.request.hostname the AUTH0_DOMAIN secret is the issuer", async () => {
    await login(
      makeEvent({
        secrets: secrets({ AUTH0_DOMAIN: `https://${TENANT_DOMAIN}` }),
        request: { hostname: undefined },
      }),
    );
    const rows = await users();
    expect(rows.map((r) => r.tokenIdentifier)).toEqual([
      `https://${TENANT_DOMAIN}/|auth0|65f0c0ffee00000000000001`,
    ]);
  });

  test("a wrong AUTH0_ACTION_SECRET gets a 401, logged; no row, login continues", async () => {
    const { line } = await login(
      makeEvent({ secrets: secrets({ AUTH0_ACTION_SECRET: WRONG_SECRET }) }),
    );
    expect(line).toMatch(
      /^convex-auth0-users: upsert failed: HTTP 401 bad_signature: The signature does not match/,
    );
    expect(await users()).toHaveLength(0);
  });

  test("a throwing api or a broken event still resolves without denying", async () => {
    const { line } = await login(makeEvent({ secrets: secrets() }), { throwOnClaims: true });
    // Claims are not attempted without a namespace, so this login just upserts.
    expect(line).toContain("(created)");

    const org = { id: "org_1", name: "acme", display_name: "Acme", metadata: {} };
    const r2 = await login(
      makeEvent({
        secrets: secrets({ CLAIMS_NAMESPACE: "https://myapp.example.com" }),
        organization: org,
      }),
      { throwOnClaims: true },
    );
    expect(r2.line).toMatch(/\(existing\) \[claims not set: Error: claims unavailable\]$/);

    const noUser = makeEvent({ secrets: secrets() }) as unknown as Record<string, unknown>;
    delete noUser.user;
    const r3 = await login(noUser as unknown as Event);
    expect(r3.line).toMatch(/^convex-auth0-users: cannot build the user's tokenIdentifier: /);

    const noSecrets = makeEvent() as unknown as Record<string, unknown>;
    delete noSecrets.secrets;
    const r4 = await login(noSecrets as unknown as Event);
    expect(r4.line).toMatch(/^convex-auth0-users: upsert failed: unexpected error: TypeError: /);
    expect(await users()).toHaveLength(1);
  });

  test("a missing required secret is named in one line; nothing is sent", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const r1 = await login(makeEvent({ secrets: { AUTH0_ACTION_SECRET: SECRET } }));
    expect(r1.line).toMatch(/^convex-auth0-users: missing secret CONVEX_HTTP_URL: /);
    const r2 = await login(makeEvent({ secrets: { CONVEX_HTTP_URL: convex.url } }));
    expect(r2.line).toMatch(/^convex-auth0-users: missing secret AUTH0_ACTION_SECRET: /);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(await users()).toHaveLength(0);
  });

  test("a .convex.cloud URL logs a hint to use .convex.site and sends nothing", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const { line, ms } = await login(
      makeEvent({ secrets: secrets({ CONVEX_HTTP_URL: "https://happy-otter-123.convex.cloud" }) }),
    );
    expect(line).toContain("use the deployment's .convex.site URL");
    expect(line).toContain("https://happy-otter-123.convex.site");
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(ms).toBeLessThan(500);
  });

  test("a plain-http URL to a remote host is refused, so the token never travels in clear", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const { line } = await login(
      makeEvent({ secrets: secrets({ CONVEX_HTTP_URL: "http://happy-otter-123.convex.site" }) }),
    );
    expect(line).toContain("CONVEX_HTTP_URL must be an https URL");
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe("faults: the login always goes on, within the time budget", () => {
  let server: FaultServer | undefined;
  let convex: LocalConvex | undefined;
  const faultSecrets = (url: string, extra: Record<string, string> = {}) => ({
    CONVEX_HTTP_URL: url,
    AUTH0_ACTION_SECRET: SECRET,
    ...extra,
  });
  afterEach(async () => {
    if (server) {
      for (const r of server.received) {
        const token = /^Bearer (\S+)$/.exec(r.headers.authorization ?? "")?.[1];
        if (token) seenTokens.push(token);
      }
    }
    await server?.close();
    await convex?.close();
    server = undefined;
    convex = undefined;
  });
  afterAll(() => {
    seenTokens.length = 0;
  });

  test("the request on the wire is a signed POST the route can verify", async () => {
    server = await startFaultServer(() => jsonReply(401, "bad_signature", "nope"));
    await login(makeEvent({ secrets: faultSecrets(server.url) }));
    expect(server.received).toHaveLength(1);
    const [req] = server.received;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/auth0/upsert-user");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body)).toMatchObject({
      tokenIdentifier: `https://${TENANT_DOMAIN}/|auth0|65f0c0ffee00000000000001`,
      email: "ada@example.com",
    });
    const verdict = await verifySignedRequest({
      authorization: req.headers.authorization ?? null,
      body: new TextEncoder().encode(req.body),
      audience: audienceFor(server.url),
      secrets: [SECRET],
    });
    expect(verdict).toEqual({
      ok: true,
      usedPreviousSecret: false,
      // Signed just now: the route dates the login's organization with it.
      issuedAt: expect.closeTo(Date.now() / 1000, -1),
    });
  });

  test("connection refused: logged, retried once, resolves fast", async () => {
    const { line, ms } = await login(makeEvent({ secrets: faultSecrets(await closedPortUrl()) }));
    expect(line).toMatch(
      /^convex-auth0-users: upsert failed: network error: .*ECONNREFUSED.* after 2 attempts$/,
    );
    expect(ms).toBeLessThan(DEFAULT_BUDGET_MS + 500);
  });

  test("a host that hangs: timed out after CONVEX_TIMEOUT_MS, no retry past the budget", async () => {
    server = await startFaultServer(() => "hang");
    const { line, ms } = await login(
      makeEvent({ secrets: faultSecrets(server.url, { CONVEX_TIMEOUT_MS: "300" }) }),
    );
    expect(line).toBe("convex-auth0-users: upsert failed: timed out after 300 ms");
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(300 + 500);
    expect(server.received).toHaveLength(1);
  });

  test("a reply that stalls mid-body also times out", async () => {
    server = await startFaultServer(() => "stall");
    const { line, ms } = await login(
      makeEvent({ secrets: faultSecrets(server.url, { CONVEX_TIMEOUT_MS: "300" }) }),
    );
    expect(line).toBe("convex-auth0-users: upsert failed: timed out after 300 ms");
    expect(ms).toBeLessThan(300 + 500);
    expect(server.received).toHaveLength(1);
  });

  test("a 500 is retried once, then logged", async () => {
    server = await startFaultServer(() => jsonReply(500, "internal_error", "boom"));
    const { line, ms } = await login(makeEvent({ secrets: faultSecrets(server.url) }));
    expect(ms).toBeLessThan(DEFAULT_BUDGET_MS + 500);
    expect(line).toBe(
      "convex-auth0-users: upsert failed: HTTP 500 internal_error: boom after 2 attempts",
    );
    expect(server.received).toHaveLength(2);
  });

  test("a 500 once, then success: the retry creates the row", async () => {
    convex = await startLocalConvex();
    server = await startFaultServer(
      (_req, i) => (i === 0 ? jsonReply(503, "unavailable", "warming up") : "forward"),
      convex.url,
    );
    // The failing proxy is the deployment's public face: the signed audience names it.
    process.env.CONVEX_SITE_URL = server.url;
    const { line } = await login(makeEvent({ secrets: faultSecrets(server.url) }));
    const rows = await convex.t.run((ctx) => ctx.db.query("users").collect());
    expect(rows).toHaveLength(1);
    expect(line).toBe(`convex-auth0-users: upserted ${rows[0]._id} (created) after 2 attempts`);
    expect(server.received).toHaveLength(2);
  });

  test("a 401 is not retried and its reason is logged", async () => {
    server = await startFaultServer(() =>
      jsonReply(401, "wrong_audience", "The signed request is for another deployment."),
    );
    const { line, ms } = await login(makeEvent({ secrets: faultSecrets(server.url) }));
    expect(ms).toBeLessThan(DEFAULT_BUDGET_MS + 500);
    expect(line).toBe(
      "convex-auth0-users: upsert failed: HTTP 401 wrong_audience: The signed request is for another deployment.",
    );
    expect(server.received).toHaveLength(1);
  });

  test("a non-JSON reply is reported as such", async () => {
    server = await startFaultServer(() => ({
      status: 200,
      contentType: "text/html",
      body: "<html>Welcome to nginx</html>",
    }));
    const { line, ms } = await login(makeEvent({ secrets: faultSecrets(server.url) }));
    expect(ms).toBeLessThan(DEFAULT_BUDGET_MS + 500);
    expect(line).toBe("convex-auth0-users: upsert failed: Convex replied with non-JSON (HTTP 200)");
    expect(server.received).toHaveLength(1);
  });

  test("a bad CONVEX_TIMEOUT_MS falls back to the default, with a note", async () => {
    server = await startFaultServer(() => jsonReply(401, "bad_signature", "nope"));
    const { line } = await login(
      makeEvent({ secrets: faultSecrets(server.url, { CONVEX_TIMEOUT_MS: "soon" }) }),
    );
    expect(line).toContain("[CONVEX_TIMEOUT_MS must be an integer from 1 to 10000; using 2500]");
  });

  test("server text cannot forge extra log lines", async () => {
    server = await startFaultServer(() =>
      jsonReply(400, "invalid_body", "line one\nconvex-auth0-users: upserted fake (created)"),
    );
    const { line } = await login(makeEvent({ secrets: faultSecrets(server.url) }));
    expect(line).not.toContain("\n");
    expect(line).toMatch(/^convex-auth0-users: upsert failed: HTTP 400 invalid_body: line one /);
  });
});
