/**
 * One secret rule for every route (server/http/routeSecrets.ts): each shared secret a route accepts is
 * a random-looking value of at least 32 characters, its own. A route whose secret breaks the rule
 * answers 500 `not_configured` naming the variable and the rule (never the value) before it
 * looks at a request, so a guessable secret opens nothing: no forged `user.deleted` removes a
 * user, no profile is written.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import schema from "../../../convex/schema";
import { SYNC_ORGS_PAGE_PATH } from "../../../server/reconcile/orgSyncRoutes";
import { PING_PATH } from "../../../server/login/pingRoute";
import {
  ROUTE_SECRETS,
  routeSecretProblems,
  secretWeakness,
} from "../../../server/http/routeSecrets";
import { audienceFor, signRequest, UPSERT_USER_PATH } from "../../../server/http/signedRequest";
import { SYNC_STATUS_PATH } from "../../../server/reconcile/syncRoutes";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { deliver, DOMAIN, setEventsEnv, tables, userEvent, type T } from "../events/eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const SUB = "auth0|65f0c0ffee";

/** A value as `openssl rand -base64 32` (or node's randomBytes) makes one. */
function randomSecret(bytes = 32): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw));
}
const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");

const GOOD = {
  AUTH0_ACTION_SECRET: randomSecret(),
  AUTH0_EVENTS_TOKEN: randomSecret(),
  AUTH0_SYNC_SECRET: randomSecret(),
};

let logs: string[];
beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  Object.assign(process.env, GOOD);
  for (const name of Object.keys(ROUTE_SECRETS)) delete process.env[`${name}_PREVIOUS`];
  logs = [];
  for (const level of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logs.push(args.map(String).join(" "));
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

const newT = (): T => convexTest({ schema, modules, transactionLimits: true });

/** A request signed as the Action or the reconcile signs it, with `secret`. */
async function signed(t: T, path: string, body: unknown, secret: string) {
  const text = JSON.stringify(body);
  const res = await t.fetch(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await signRequest(secret, text, audienceFor(SITE, path))}`,
    },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as { error?: string; message?: string } };
}

const upsertBody = {
  tokenIdentifier: tokenIdentifier(DOMAIN, SUB),
  email: "ada@example.com",
  emailVerified: true,
  name: "Ada Lovelace",
  auth0UpdatedAt: Date.now() - 60_000,
};

/** Asserts a 500 not_configured naming `variable` and the rule, without `value` in it. */
function expectRefused(
  res: { status: number; json: { error?: string; message?: string } },
  variable: string,
  value: string,
) {
  expect(res.status).toBe(500);
  expect(res.json.error).toBe("not_configured");
  expect(res.json.message).toContain(variable);
  expect(res.json.message).toContain("at least 32 characters");
  if (value.length >= 4) {
    expect(res.json.message).not.toContain(value);
    expect(logs.join("\n")).not.toContain(value);
  }
}

describe("the secret rule", () => {
  test.each([
    ["1 character", "k"],
    ["31 random characters", randomSecret().slice(0, 31)],
    ["32 times a", "a".repeat(32)],
    ["a short cycle", "ab".repeat(20)],
    ["a word repeated", "password".repeat(5)],
    ["a sequence", "abcdefghijklmnopqrstuvwxyzABCDEFGH"],
    ["a sequence of digits", "0123456789".repeat(4)],
    ["few distinct characters", "abcdabdcbadcadbccbdaabcdcdbabadc"],
  ])("refuses %s", (_name, value) => {
    expect(secretWeakness(value)).toBeDefined();
  });

  test("accepts real random values: base64 and base64url of 32 bytes, 16 and 32 bytes of hex, UUIDs", () => {
    for (let i = 0; i < 500; i++) {
      for (const value of [
        randomSecret(),
        randomSecret().replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
        hex(16),
        hex(32),
        crypto.randomUUID(),
      ]) {
        expect(secretWeakness(value), value).toBeUndefined();
      }
    }
  });

  test("names every route secret equal to another route's, current or previous", () => {
    const env: Record<string, string> = {
      ...GOOD,
      AUTH0_EVENTS_TOKEN: GOOD.AUTH0_ACTION_SECRET,
      AUTH0_SYNC_SECRET_PREVIOUS: GOOD.AUTH0_ACTION_SECRET,
    };
    const read = (name: string) => env[name];
    expect(routeSecretProblems("AUTH0_ACTION_SECRET", read)).toEqual([
      "AUTH0_ACTION_SECRET equals AUTH0_EVENTS_TOKEN: each route needs its own secret",
      "AUTH0_ACTION_SECRET equals AUTH0_SYNC_SECRET_PREVIOUS: each route needs its own secret",
    ]);
    expect(routeSecretProblems("AUTH0_SYNC_SECRET", read)).toEqual([
      "AUTH0_SYNC_SECRET_PREVIOUS equals AUTH0_ACTION_SECRET: each route needs its own secret",
      "AUTH0_SYNC_SECRET_PREVIOUS equals AUTH0_EVENTS_TOKEN: each route needs its own secret",
    ]);
  });
});

describe("every route refuses a secret that breaks the rule", () => {
  test("a 1-character AUTH0_EVENTS_TOKEN: a forged user.deleted removes no one", async () => {
    const t = newT();
    const created = await deliver(t, userEvent("user.created", SUB, Date.now() - 120_000), {
      token: GOOD.AUTH0_EVENTS_TOKEN,
    });
    expect(created.status).toBe(200);
    process.env.AUTH0_EVENTS_TOKEN = "k";
    const forged = await deliver(t, userEvent("user.deleted", SUB, Date.now() - 1000), {
      token: "k",
    });
    expectRefused(forged, "AUTH0_EVENTS_TOKEN", "k");
    expect((await tables(t)).users.map((u) => u.auth0UserId)).toEqual([SUB]);
  });

  test("a 1-character AUTH0_ACTION_SECRET: no profile is written, and the ping refuses too", async () => {
    const t = newT();
    process.env.AUTH0_ACTION_SECRET = "k";
    expectRefused(await signed(t, UPSERT_USER_PATH, upsertBody, "k"), "AUTH0_ACTION_SECRET", "k");
    expectRefused(await signed(t, PING_PATH, {}, "k"), "AUTH0_ACTION_SECRET", "k");
    expect((await tables(t)).users).toEqual([]);
  });

  test("an events token equal to the Action's secret: both routes refuse, naming both", async () => {
    const t = newT();
    process.env.AUTH0_EVENTS_TOKEN = GOOD.AUTH0_ACTION_SECRET;
    const event = await deliver(t, userEvent("user.created", SUB, Date.now() - 1000), {
      token: GOOD.AUTH0_ACTION_SECRET,
    });
    expectRefused(event, "AUTH0_EVENTS_TOKEN", GOOD.AUTH0_ACTION_SECRET);
    expect(event.json.message).toContain("AUTH0_EVENTS_TOKEN equals AUTH0_ACTION_SECRET");
    const upsert = await signed(t, UPSERT_USER_PATH, upsertBody, GOOD.AUTH0_ACTION_SECRET);
    expectRefused(upsert, "AUTH0_ACTION_SECRET", GOOD.AUTH0_ACTION_SECRET);
    expect(upsert.json.message).toContain("AUTH0_ACTION_SECRET equals AUTH0_EVENTS_TOKEN");
    expect((await tables(t)).users).toEqual([]);
  });

  test("32 times a as AUTH0_SYNC_SECRET: the sync and organization routes refuse", async () => {
    const t = newT();
    const weak = "a".repeat(32);
    process.env.AUTH0_SYNC_SECRET = weak;
    expectRefused(await signed(t, SYNC_STATUS_PATH, {}, weak), "AUTH0_SYNC_SECRET", weak);
    const page = { table: "auth0Organizations", cursor: null, numItems: 10 };
    expectRefused(await signed(t, SYNC_ORGS_PAGE_PATH, page, weak), "AUTH0_SYNC_SECRET", weak);
  });

  test("a weak previous value is refused like a current one", async () => {
    const t = newT();
    process.env.AUTH0_EVENTS_TOKEN_PREVIOUS = "ab".repeat(20);
    const res = await deliver(t, userEvent("user.created", SUB, Date.now() - 1000), {
      token: GOOD.AUTH0_EVENTS_TOKEN,
    });
    expectRefused(res, "AUTH0_EVENTS_TOKEN_PREVIOUS", "abababab");
    expect((await tables(t)).users).toEqual([]);
  });

  test("real random values, one per route: every route works", async () => {
    const t = newT();
    expect((await signed(t, UPSERT_USER_PATH, upsertBody, GOOD.AUTH0_ACTION_SECRET)).status).toBe(
      200,
    );
    expect((await signed(t, PING_PATH, {}, GOOD.AUTH0_ACTION_SECRET)).status).toBe(200);
    const updated = await deliver(t, userEvent("user.updated", SUB, Date.now() - 1000), {
      token: GOOD.AUTH0_EVENTS_TOKEN,
    });
    expect(updated.status).toBe(200);
    expect((await signed(t, SYNC_STATUS_PATH, {}, GOOD.AUTH0_SYNC_SECRET)).status).toBe(200);
    const page = { table: "auth0Organizations", cursor: null, numItems: 10 };
    expect((await signed(t, SYNC_ORGS_PAGE_PATH, page, GOOD.AUTH0_SYNC_SECRET)).status).toBe(200);
  });
});
