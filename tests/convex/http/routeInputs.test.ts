/**
 * Hostile inputs to the routes: body keys named after Object.prototype members, tokens naming
 * several audiences, configuration values that must never be echoed, and request values that
 * would forge log lines.
 */
import { convexTest } from "convex-test";
import { SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../../../convex/_generated/api";
import schema from "../../../convex/schema";
import {
  audienceFor,
  BODY_HASH_CLAIM,
  sha256Base64Url,
  signRequest,
  SIGNER_ISSUER,
  UPSERT_USER_PATH,
} from "../../../server/http/signedRequest";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { deliver, DOMAIN, setEventsEnv, tables, userEvent, type T } from "../events/eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SECRET = "5y81Los27lOPZ-bWiaP6KQIsS1lTw7_X3sozqrm6MlA";
const SITE = "https://happy-otter-123.convex.site";
const ID = tokenIdentifier(DOMAIN, "auth0|65f0c0ffee");

let logs: string[];
beforeEach(() => {
  setEventsEnv();
  process.env.AUTH0_ACTION_SECRET = SECRET;
  process.env.CONVEX_SITE_URL = SITE;
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

async function post(t: T, text: string, token?: string) {
  const bearer = token ?? (await signRequest(SECRET, text, audienceFor(SITE, UPSERT_USER_PATH)));
  const res = await t.fetch(UPSERT_USER_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: text,
  });
  const body = await res.text();
  return { status: res.status, text: body, json: JSON.parse(body) as Record<string, unknown> };
}

describe("body keys named after Object.prototype members", () => {
  for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) {
    test(`"${key}" is refused like any unknown key: 400, nothing written`, async () => {
      const t = newT();
      // Written as text: an object literal would not carry "__proto__" as an own key.
      const text = `{"tokenIdentifier":${JSON.stringify(ID)},"name":"Ada","${key}":{"x":1}}`;
      const res = await post(t, text);
      expect(res.status).toBe(400);
      expect(res.json.error).toBe("invalid_body");
      expect(String(res.json.message)).toContain(key);
      expect((await tables(t)).users).toEqual([]);
    });
  }
});

describe("audiences", () => {
  test("a token whose aud lists this route and another is refused", async () => {
    const t = newT();
    const text = JSON.stringify({ tokenIdentifier: ID, name: "Ada" });
    const nowS = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ [BODY_HASH_CLAIM]: await sha256Base64Url(text) })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(SIGNER_ISSUER)
      .setAudience([
        audienceFor(SITE, UPSERT_USER_PATH),
        "https://other-deployment-456.convex.site/auth0/upsert-user",
      ])
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 30)
      .sign(new TextEncoder().encode(SECRET));
    const res = await post(t, text, token);
    expect(res.status).toBe(401);
    expect(res.json.error).toBe("wrong_audience");
    expect((await tables(t)).users).toEqual([]);
  });
});

describe("configuration values are named, never echoed", () => {
  const cases = [
    { variable: "AUTH0_CUSTOM_DOMAIN", value: "https://admin:hunter2-p4ss@login.example.com/x" },
    { variable: "AUTH0_DOMAIN", value: "https://ops:s3cr3t-w0rd@tenant.us.auth0.com/" },
  ];
  for (const { variable, value } of cases) {
    test(`a malformed ${variable} gives a 500 naming it, with no part of its value`, async () => {
      const t = newT();
      process.env[variable] = value;
      const text = JSON.stringify({ tokenIdentifier: ID });
      const upsert = await post(t, text);
      const events = await deliver(t, userEvent("user.created", "auth0|1", Date.now() - 1000));
      for (const res of [upsert, events]) {
        expect(res.status).toBe(500);
        expect(res.json.error).toBe("not_configured");
        expect(String(res.json.message)).toContain(variable);
      }
      for (const text of [upsert.text, events.text, ...logs]) {
        for (const part of ["hunter2", "s3cr3t", "admin:", "ops:", "login.example.com/x"]) {
          expect(text).not.toContain(part);
        }
      }
    });
  }
});

describe("log lines", () => {
  test("an event id with a newline cannot split the route's warning into two lines", async () => {
    const t = newT();
    const event = userEvent("user.updated", "auth0|1", Date.now() - 1000, { updated_at: "nope" });
    event.id = "evt_1\nauth0/events: FORGED line\r\u2028";
    const res = await deliver(t, event);
    expect(res.json).toMatchObject({ outcome: "failed" });
    const line = logs.find((l) => l.includes("recorded as failed"));
    expect(line).toBeDefined();
    expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
  });

  test("an event id at its 256-character limit reaches the log bounded", async () => {
    const t = newT();
    const event = userEvent("user.updated", "auth0|1", Date.now() - 1000, { updated_at: "nope" });
    event.id = "x".repeat(256);
    await deliver(t, event);
    for (const l of logs) expect(l.length).toBeLessThan(400);
  });
});

describe("auth0.eventsHealth table sizes", () => {
  test("counts event records and tombstones, so a flood shows", async () => {
    const t = newT();
    for (let i = 0; i < 3; i++) {
      await deliver(t, userEvent("user.deleted", `auth0|gone${i}`, Date.now() - 1000));
    }
    await deliver(t, userEvent("user.created", "auth0|here", Date.now() - 1000));
    const health = await t.query(internal.auth0.eventsHealth, {});
    expect(health.eventRecords).toEqual({ count: 4, more: false });
    expect(health.tombstones).toEqual({ count: 3, more: false });
  });
});
