/**
 * The built Action against hostile or broken replies: huge bodies, compression bombs, and servers
 * that echo the signed token back. Auth0 runs Actions with little memory, shared by every Action
 * of the flow, and a login must go on within the budget whatever the reply.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";
import { afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { ACTION_BUNDLE_PATH, buildAction } from "../../scripts/build-action";
import { makeApi, makeEvent } from "../../local-auth0/auth0Event";
import { startFaultServer, type FaultServer } from "./helpers/faultServers";

type PostLoginHandler = (event: Event, api: PostLoginAPI) => Promise<void>;
const SECRET = randomBytes(32).toString("base64url");
const BUDGET_MS = 2500;
const MB = 1024 * 1024;
/** How much the process may grow while the Action reads one reply. Reading the replies below
 * whole costs hundreds of MB; a capped read costs next to nothing. */
const RSS_GROWTH_LIMIT = 48 * MB;

let onExecutePostLogin: PostLoginHandler;
let server: FaultServer | undefined;
let lines: string[];

beforeAll(async () => {
  await buildAction();
  onExecutePostLogin = (
    createRequire(import.meta.url)(ACTION_BUNDLE_PATH) as { onExecutePostLogin: PostLoginHandler }
  ).onExecutePostLogin;
});
beforeEach(() => {
  lines = [];
  for (const level of ["log", "error", "warn", "info"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
});
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

/** One login against `server`, with the time it took and how much the process grew. */
async function login() {
  const event = makeEvent({
    secrets: { CONVEX_HTTP_URL: server!.url, AUTH0_ACTION_SECRET: SECRET },
  });
  const { api, state } = makeApi();
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  await onExecutePostLogin(event, api);
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  expect(state.denied).toEqual([]);
  const line = lines.find((l) => l.startsWith("convex-auth0-users:"));
  return { line: line ?? "", ms, growth: peak - rssBefore };
}

describe("replies the Action must not read whole", () => {
  test("a 50 MB 200 reply is a failed attempt; memory and time stay bounded", async () => {
    const huge = Buffer.alloc(50 * MB, "a");
    server = await startFaultServer(() => ({ status: 200, body: huge }));
    const { line, ms, growth } = await login();
    expect(line).toMatch(/^convex-auth0-users: upsert failed: .*reply.*over \d+ bytes/);
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(ms).toBeLessThan(BUDGET_MS + 500);
  });

  test("a gzip bomb (about 200 KB inflating to 200 MB) is never inflated past the cap", async () => {
    const bomb = gzipSync(Buffer.alloc(200 * MB), { level: 9 });
    expect(bomb.byteLength).toBeLessThan(300 * 1024);
    server = await startFaultServer(() => ({
      status: 200,
      headers: { "content-encoding": "gzip" },
      body: bomb,
    }));
    const { line, ms, growth } = await login();
    expect(line).toMatch(/^convex-auth0-users: upsert failed: .*reply.*over \d+ bytes/);
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(ms).toBeLessThan(BUDGET_MS + 500);
  });

  test("the Action asks for an uncompressed reply", async () => {
    server = await startFaultServer(() => ({ status: 401, body: '{"error":"bad_signature"}' }));
    await login();
    expect(server.received[0].headers["accept-encoding"]).toBe("identity");
  });
});

describe("a server that echoes the signed token", () => {
  test("no part of the token reaches the log, even where the echo is truncated", async () => {
    server = await startFaultServer((req) => ({
      status: 400,
      body: JSON.stringify({
        error: "invalid_body",
        // The token lands across the 300-character cut of the echoed message.
        message: `${"x".repeat(150)} you sent ${req.headers.authorization}`,
      }),
    }));
    const { line } = await login();
    const token = /^Bearer (\S+)$/.exec(server.received[0].headers.authorization ?? "")![1];
    expect(line).toContain("[redacted]");
    for (let i = 0; i + 24 <= token.length; i += 12) {
      expect(line).not.toContain(token.slice(i, i + 24));
    }
  });
});
