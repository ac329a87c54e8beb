import { convexTest } from "convex-test";
import { SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MAX_UPSERT_BODY_BYTES } from "../../../server/login/upsertUserRoute";
import schema from "../../../convex/schema";
import {
  audienceFor,
  sha256Base64Url,
  signRequest,
  SIGNER_ISSUER,
  UPSERT_USER_PATH,
} from "../../../server/http/signedRequest";
import { tokenIdentifier } from "../../../server/tokenIdentifier";

const modules = import.meta.glob("../../../convex/**/*.*s");

const SITE = "https://happy-otter-123.convex.site";
const SECRET = "xcBciz8IuwbtA0wmofP3wXe9vifjaKGEBSntmI4sZSc";
const PREVIOUS = "NpKahPR_C-LiLFuFIEZIemDuo10cTDt9sHZKFLRyUjU";
const AUDIENCE = audienceFor(SITE);
const ID = tokenIdentifier("tenant.us.auth0.com", "auth0|65f0c0ffee");
const BODY = JSON.stringify({
  tokenIdentifier: ID,
  email: "ada@example.com",
  emailVerified: true,
  name: "Ada Lovelace",
  auth0UpdatedAt: Date.parse("2026-11-01T10:00:00Z"),
});

let logs: string[];

beforeEach(() => {
  process.env.AUTH0_DOMAIN = "tenant.us.auth0.com";
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  process.env.AUTH0_ACTION_SECRET = SECRET;
  delete process.env.AUTH0_ACTION_SECRET_PREVIOUS;
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

async function post(
  t: ReturnType<typeof convexTest>,
  body: string | Uint8Array,
  headers: Record<string, string>,
) {
  const res = await t.fetch(UPSERT_USER_PATH, {
    method: "POST",
    headers,
    body: body as BodyInit,
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

async function signedHeaders(body: string, secret = SECRET, audience = AUDIENCE) {
  return {
    "content-type": "application/json",
    authorization: `Bearer ${await signRequest(secret, body, audience)}`,
  };
}

const users = (t: ReturnType<typeof convexTest>) => t.run((ctx) => ctx.db.query("users").collect());

describe("POST /auth0/upsert-user", () => {
  test("a signed request creates the user, then reports created: false", async () => {
    const t = convexTest({ schema, modules, transactionLimits: true });
    const first = await post(t, BODY, await signedHeaders(BODY));
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ userId: expect.any(String), created: true });
    const rows = await users(t);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      _id: first.json.userId,
      tokenIdentifier: ID,
      name: "Ada Lovelace",
    });
    expect(rows[0].lastActiveAt).toBeTypeOf("number"); // the Action reports a login

    const again = await post(t, BODY, await signedHeaders(BODY));
    expect(again.json).toEqual({ userId: first.json.userId, created: false });
    expect(await users(t)).toHaveLength(1);
  });

  test("accepts a content type with a charset parameter", async () => {
    const t = convexTest({ schema, modules, transactionLimits: true });
    const headers = await signedHeaders(BODY);
    headers["content-type"] = "application/json; charset=utf-8";
    expect((await post(t, BODY, headers)).status).toBe(200);
  });

  test("while rotating, the previous secret is accepted too, and only while it is set", async () => {
    const t = convexTest({ schema, modules, transactionLimits: true });
    process.env.AUTH0_ACTION_SECRET_PREVIOUS = PREVIOUS;
    expect((await post(t, BODY, await signedHeaders(BODY, PREVIOUS))).status).toBe(200);
    delete process.env.AUTH0_ACTION_SECRET_PREVIOUS;
    const after = await post(t, BODY, await signedHeaders(BODY, PREVIOUS));
    expect(after.status).toBe(401);
    expect(after.json.error).toBe("bad_signature");
  });

  describe("rejections write nothing and say what to do", () => {
    const nowS = () => Math.floor(Date.now() / 1000);
    const cases: Array<{
      name: string;
      status: number;
      error: string;
      request: () => Promise<{ body: string | Uint8Array; headers: Record<string, string> }>;
    }> = [
      {
        name: "missing Authorization header",
        status: 401,
        error: "missing_signature",
        request: async () => ({ body: BODY, headers: { "content-type": "application/json" } }),
      },
      {
        name: "a static bearer secret instead of a signed token",
        status: 401,
        error: "bad_signature",
        request: async () => ({
          body: BODY,
          headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
        }),
      },
      {
        name: "signed with the wrong secret",
        status: 401,
        error: "bad_signature",
        request: async () => ({ body: BODY, headers: await signedHeaders(BODY, "not-the-secret") }),
      },
      {
        name: "expired token",
        status: 401,
        error: "token_expired",
        request: async () => ({
          body: BODY,
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${await signRequest(SECRET, BODY, AUDIENCE, 30, nowS() - 120)}`,
          },
        }),
      },
      {
        name: "token dated in the future",
        status: 401,
        error: "token_not_yet_valid",
        request: async () => ({
          body: BODY,
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${await signRequest(SECRET, BODY, AUDIENCE, 30, nowS() + 300)}`,
          },
        }),
      },
      {
        name: "token that lives longer than a minute",
        status: 401,
        error: "token_lifetime_too_long",
        request: async () => {
          const token = await new SignJWT({ body_sha256: await sha256Base64Url(BODY) })
            .setProtectedHeader({ alg: "HS256" })
            .setIssuer(SIGNER_ISSUER)
            .setAudience(AUDIENCE)
            .setIssuedAt()
            .setExpirationTime("1h")
            .sign(new TextEncoder().encode(SECRET));
          return {
            body: BODY,
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          };
        },
      },
      {
        name: "token for another deployment",
        status: 401,
        error: "wrong_audience",
        request: async () => ({
          body: BODY,
          headers: await signedHeaders(
            BODY,
            SECRET,
            audienceFor("https://other-deploy-9.convex.site"),
          ),
        }),
      },
      {
        name: "body changed after signing",
        status: 401,
        error: "body_mismatch",
        request: async () => ({
          body: BODY.replace("Ada Lovelace", "Mallory"),
          headers: await signedHeaders(BODY),
        }),
      },
      {
        name: "alg none token",
        status: 401,
        error: "bad_signature",
        request: async () => {
          const enc = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "");
          const token = `${enc({ alg: "none" })}.${enc({ aud: AUDIENCE, iat: nowS(), exp: nowS() + 30 })}.`;
          return {
            body: BODY,
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          };
        },
      },
      {
        name: "not JSON content type",
        status: 415,
        error: "unsupported_media_type",
        request: async () => ({
          body: BODY,
          headers: { ...(await signedHeaders(BODY)), "content-type": "text/plain" },
        }),
      },
      {
        name: "body over the cap",
        status: 413,
        error: "body_too_large",
        request: async () => {
          const big = JSON.stringify({
            tokenIdentifier: ID,
            name: "x".repeat(MAX_UPSERT_BODY_BYTES),
          });
          return { body: big, headers: await signedHeaders(big) };
        },
      },
      {
        name: "malformed JSON",
        status: 400,
        error: "malformed_json",
        request: async () => {
          const bad = '{"tokenIdentifier": ';
          return { body: bad, headers: await signedHeaders(bad) };
        },
      },
      {
        name: "wrong type",
        status: 400,
        error: "invalid_body",
        request: async () => {
          const bad = JSON.stringify({ tokenIdentifier: ID, email: 42 });
          return { body: bad, headers: await signedHeaders(bad) };
        },
      },
      {
        name: "missing tokenIdentifier",
        status: 400,
        error: "invalid_body",
        request: async () => {
          const bad = JSON.stringify({ email: "ada@example.com" });
          return { body: bad, headers: await signedHeaders(bad) };
        },
      },
      {
        name: "a JSON array instead of an object",
        status: 400,
        error: "invalid_body",
        request: async () => {
          const bad = JSON.stringify([ID]);
          return { body: bad, headers: await signedHeaders(bad) };
        },
      },
      {
        name: "tokenIdentifier that does not parse",
        status: 400,
        error: "invalid_token_identifier",
        request: async () => {
          const bad = JSON.stringify({ tokenIdentifier: "auth0|65f0c0ffee" });
          return { body: bad, headers: await signedHeaders(bad) };
        },
      },
      {
        name: "issuer this deployment does not trust",
        status: 400,
        error: "unknown_issuer",
        request: async () => {
          const bad = JSON.stringify({
            tokenIdentifier: tokenIdentifier("evil.example.com", "auth0|1"),
          });
          return { body: bad, headers: await signedHeaders(bad) };
        },
      },
    ];

    for (const c of cases) {
      test(`${c.status} ${c.error}: ${c.name}`, async () => {
        const t = convexTest({ schema, modules, transactionLimits: true });
        const { body, headers } = await c.request();
        const res = await post(t, body, headers);
        expect(res.status).toBe(c.status);
        expect(res.json.error).toBe(c.error);
        expect(res.json.message).toEqual(expect.any(String));
        expect(await users(t)).toHaveLength(0);
        // Neither the secret nor the presented token is echoed back or logged.
        const token = headers.authorization?.replace(/^Bearer /, "");
        for (const text of [res.text, ...logs]) {
          expect(text).not.toContain(SECRET);
          if (token) expect(text).not.toContain(token);
        }
      });
    }
  });

  test("a malformed AUTH0_CUSTOM_DOMAIN is a 500 not_configured that says so", async () => {
    const t = convexTest({ schema, modules, transactionLimits: true });
    process.env.AUTH0_CUSTOM_DOMAIN = "https://login.example.com/some/path";
    const res = await post(t, BODY, await signedHeaders(BODY));
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("not_configured");
    expect(res.json.message).toMatch(/AUTH0_CUSTOM_DOMAIN.*bare domain/);
    expect(await users(t)).toHaveLength(0);
  });

  test("missing configuration is a 500 naming every missing variable, without writing", async () => {
    const t = convexTest({ schema, modules, transactionLimits: true });
    delete process.env.AUTH0_ACTION_SECRET;
    delete process.env.AUTH0_DOMAIN;
    const res = await post(t, BODY, await signedHeaders(BODY));
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("not_configured");
    expect(res.json.message).toMatch(/AUTH0_ACTION_SECRET.*AUTH0_DOMAIN/);
    expect(await users(t)).toHaveLength(0);
  });
});
