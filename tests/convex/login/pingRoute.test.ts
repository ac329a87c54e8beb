/**
 * `POST /auth0/ping`: accepts exactly what the upsert route accepts, says which checks passed,
 * writes nothing and returns nothing secret.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { PING_PATH, type PingAnswer } from "../../../server/login/pingRoute";
import schema from "../../../convex/schema";
import { audienceFor, signRequest, UPSERT_USER_PATH } from "../../../server/http/signedRequest";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import {
  CUSTOM_DOMAIN,
  DOMAIN,
  expectNothingWritten,
  setEventsEnv,
  type T,
} from "../events/eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const ACTION_SECRET = "sYdFH0DxSTniipk40-cU1yD3uqTRfcdI627VgztCD8o";
const PREVIOUS_SECRET = "9-PamSgNYxGlltPRcUrIFWvA_iiB9LjKeJvNS-_O3j0";

beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_ACTION_SECRET = ACTION_SECRET;
  process.env.AUTH0_CLIENT_ID = "client-id-abc";
  delete process.env.AUTH0_ACTION_SECRET_PREVIOUS;
  delete process.env.AUTH0_SYNC_SECRET;
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const newT = (): T => convexTest({ schema, modules, transactionLimits: true });

async function ping(
  t: T,
  body: unknown = {},
  opts: { secret?: string; site?: string; path?: string } = {},
) {
  const text = JSON.stringify(body);
  const token = await signRequest(
    opts.secret ?? ACTION_SECRET,
    text,
    audienceFor(opts.site ?? SITE, opts.path ?? PING_PATH),
  );
  const res = await t.fetch(PING_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  const raw = await res.text();
  return { status: res.status, raw, json: JSON.parse(raw) as PingAnswer & { error?: string } };
}

describe("POST /auth0/ping", () => {
  test("answers what it checked, and the key it computes for a sample subject", async () => {
    process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM_DOMAIN;
    const t = newT();
    const res = await ping(t, { issuer: DOMAIN, subject: "auth0|doctor-sample" });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      ok: true,
      secret: "current",
      upsertAudience: `${SITE}${UPSERT_USER_PATH}`,
      issuers: [`https://${DOMAIN}/`, `https://${CUSTOM_DOMAIN}/`],
      canonicalIssuer: `https://${DOMAIN}/`,
      variables: { AUTH0_CLIENT_ID: true, AUTH0_CUSTOM_DOMAIN: true, AUTH0_SYNC_SECRET: false },
      sample: {
        tokenIdentifier: tokenIdentifier(DOMAIN, "auth0|doctor-sample"),
        issuerTrusted: true,
      },
      events: { lastEventReceivedAt: null, failuresLast24h: 0 },
    });
    expect(res.raw).not.toContain(ACTION_SECRET);
    await expectNothingWritten(t, expect);
  });

  test("an issuer the deployment does not trust is reported, not refused", async () => {
    const res = await ping(newT(), { issuer: "other.eu.auth0.com", subject: "auth0|1" });
    expect(res.status).toBe(200);
    expect(res.json.sample?.issuerTrusted).toBe(false);
  });

  test("reports a missing AUTH0_CLIENT_ID (the browser path cannot verify tokens without it)", async () => {
    delete process.env.AUTH0_CLIENT_ID;
    const res = await ping(newT());
    expect(res.status).toBe(200);
    expect(res.json.variables.AUTH0_CLIENT_ID).toBe(false);
  });

  test("says when the previous secret verified the request", async () => {
    process.env.AUTH0_ACTION_SECRET_PREVIOUS = PREVIOUS_SECRET;
    const res = await ping(newT(), {}, { secret: PREVIOUS_SECRET });
    expect(res.status).toBe(200);
    expect(res.json.secret).toBe("previous");
  });

  test("refuses what the upsert route refuses, with the same errors", async () => {
    const t = newT();
    const wrongSecret = await ping(t, {}, { secret: "another-secret-0000000000000000" });
    expect([wrongSecret.status, wrongSecret.json.error]).toEqual([401, "bad_signature"]);
    const otherOrigin = await ping(t, {}, { site: "https://other-deer-456.convex.site" });
    expect([otherOrigin.status, otherOrigin.json.error]).toEqual([401, "wrong_audience"]);
    // A token for the upsert route is not a ping: audiences name one route.
    const upsertToken = await ping(t, {}, { path: UPSERT_USER_PATH });
    expect(upsertToken.json.error).toBe("wrong_audience");
    const unknownKey = await ping(t, { issuer: DOMAIN, subject: "x", extra: 1 });
    expect([unknownKey.status, unknownKey.json.error]).toEqual([400, "invalid_body"]);
    await expectNothingWritten(t, expect);
  });

  test("names missing configuration without values", async () => {
    delete process.env.AUTH0_DOMAIN;
    const res = await ping(newT());
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("not_configured");
    expect(res.raw).toContain("AUTH0_DOMAIN");
  });
});
