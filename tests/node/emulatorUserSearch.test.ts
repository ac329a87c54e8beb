/**
 * The emulator's Free plan and user search, checked over HTTPS as a client sees them: the v3
 * search subset the listing relies on (ranges, sort, fields, totals, the 1,000-result cap), the
 * export job refused by the plan (and a missing scope still reported as such), and the
 * requests-per-second budget with Auth0's rate-limit headers.
 */
import { request } from "node:https";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  startManagementApiEmulator,
  type ManagementApiEmulator,
} from "../../local-auth0/managementApiEmulator";
import { createTestCertificate, type TestCertificate } from "../../local-auth0/testCertificate";

let cert: TestCertificate;
let tenant: ManagementApiEmulator;
const APP = { clientId: "search-app", clientSecret: "search-app-secret-12345678" };

beforeAll(async () => {
  cert = await createTestCertificate(await mkdtemp(join(tmpdir(), "search-ca-")));
});
beforeEach(async () => {
  tenant = await startManagementApiEmulator({
    clientId: "default",
    clientSecret: "default-secret-12345678",
    clients: [
      { ...APP, scopes: ["read:users"] },
      { clientId: "no-users", clientSecret: "no-users-secret-1234", scopes: ["read:actions"] },
    ],
    tls: cert,
    plan: "free",
    rateLimitPerSecond: 1000,
  });
});
afterEach(async () => {
  await tenant.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function call(method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const [host, port] = tenant.domain.split(":");
  return new Promise((ok, fail) => {
    const req = request(
      {
        host,
        port: Number(port),
        method,
        path,
        ca: cert.caCert,
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () =>
          ok({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    req.on("error", fail);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function token(app = APP): Promise<string> {
  const r = await call("POST", "/oauth/token", {
    grant_type: "client_credentials",
    client_id: app.clientId,
    client_secret: app.clientSecret,
    audience: `https://${tenant.domain}/api/v2/`,
  });
  expect(r.status).toBe(200);
  return r.body.access_token as string;
}

const search = async (params: Record<string, string>) =>
  call("GET", `/api/v2/users?${new URLSearchParams(params)}`, undefined, await token());

const t0 = Date.parse("2025-03-01T00:00:00.000Z");
const at = (ms: number) => new Date(t0 + ms).toISOString();

describe("user search (v3)", () => {
  beforeEach(() => {
    for (let i = 0; i < 5; i++) {
      tenant.seedUser({
        user_id: `auth0|s${i}`,
        created_at: at(i * 1000),
        updated_at: at(10_000 - i),
      });
    }
  });
  // Without include_totals the answer is the bare array of users.
  const ids = (r: Answer) => (r.body as { user_id: string }[]).map((u) => u.user_id);

  test("[ ] is inclusive, { } exclusive, * open, mixed brackets allowed", async () => {
    const q = (range: string) =>
      search({ search_engine: "v3", q: `created_at:${range}`, sort: "created_at:1" }).then(ids);
    expect(await q(`[${at(1000)} TO ${at(3000)}]`)).toEqual(["auth0|s1", "auth0|s2", "auth0|s3"]);
    expect(await q(`{${at(1000)} TO ${at(3000)}}`)).toEqual(["auth0|s2"]);
    expect(await q(`[${at(1000)} TO ${at(3000)}}`)).toEqual(["auth0|s1", "auth0|s2"]);
    expect(await q(`[* TO ${at(1000)}]`)).toEqual(["auth0|s0", "auth0|s1"]);
    expect(await q(`{${at(3000)} TO *]`)).toEqual(["auth0|s4"]);
    expect(await q(`["${at(4000)}" TO *]`)).toEqual(["auth0|s4"]);
    expect(await q(`[2025-03-01 TO 2025-03-02]`)).toHaveLength(5);
  });

  test("AND of a created_at and an updated_at range; sort descending; totals; fields", async () => {
    const r = await search({
      search_engine: "v3",
      q: `created_at:[* TO *] AND updated_at:[${at(9_997)} TO *]`,
      sort: "updated_at:-1",
      include_totals: "true",
      per_page: "2",
      fields: "user_id,updated_at",
      include_fields: "true",
    });
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(4);
    expect(r.body.users).toEqual([
      { user_id: "auth0|s0", updated_at: at(10_000) },
      { user_id: "auth0|s1", updated_at: at(9_999) },
    ]);
  });

  test("a query outside the subset, or another search engine, is a 400", async () => {
    for (const params of <Record<string, string>[]>[
      { q: "name:jane" },
      { q: "created_at:[yesterday TO *]" },
      { q: `created_at:[${at(0)} TO *] OR updated_at:[* TO *]` },
      { search_engine: "v2", q: `created_at:[* TO *]` },
      { sort: "created_at" },
    ]) {
      const r = await search(params);
      expect(r.status, JSON.stringify(params)).toBe(400);
    }
  });

  test("each query pages through 1,000 results at most, as Auth0 does", async () => {
    for (let i = 0; i < 1050; i++) {
      tenant.seedUser({ user_id: `auth0|m${i}`, created_at: at(100_000 + i) });
    }
    const q = { search_engine: "v3", q: `created_at:[${at(100_000)} TO *]`, per_page: "100" };
    const last = await search({ ...q, page: "9", include_totals: "true" });
    expect(last.status).toBe(200);
    expect(last.body.total).toBe(1050);
    const past = await search({ ...q, page: "10" });
    expect(past.status).toBe(400);
    expect(past.body.message).toMatch(/You can only page through the first 1000 records/);
  });
});

describe("Free plan", () => {
  test("the export job is refused with a 403 that is not a scope error", async () => {
    const r = await call("POST", "/api/v2/jobs/users-exports", { format: "json" }, await token());
    expect(r.status).toBe(403);
    expect(r.body.errorCode).not.toBe("insufficient_scope");
    expect(r.body.message).toBe("This feature is not enabled for this tenant.");
    // A paid tenant takes the same request.
    tenant.setPlan("paid");
    const ok = await call("POST", "/api/v2/jobs/users-exports", { format: "json" }, await token());
    expect(ok.status).toBe(201);
  });

  test("a token without read:users gets the scope error first", async () => {
    const t = await token({ clientId: "no-users", clientSecret: "no-users-secret-1234" });
    const r = await call("POST", "/api/v2/jobs/users-exports", { format: "json" }, t);
    expect(r.status).toBe(403);
    expect(r.body.errorCode).toBe("insufficient_scope");
  });

  test("2 requests per second: the third in a second is a 429 with the x-ratelimit headers", async () => {
    tenant.setPlan("free"); // the Free plan's 2/s
    const t = await token(); // may spend this second's budget: wait for the next one
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(await call("GET", "/api/v2/users/auth0%7Cnone", undefined, t));
    expect(answers.map((a) => a.status)).toEqual([404, 404, 429]);
    const limited = answers[2].headers;
    expect(limited["x-ratelimit-limit"]).toBe("2");
    expect(limited["x-ratelimit-remaining"]).toBe("0");
    expect(Number(limited["x-ratelimit-reset"])).toBe(Math.floor(Date.now() / 1000) + 1);
    expect(limited["retry-after"]).toBeUndefined();
    expect(answers[0].headers["x-ratelimit-remaining"]).toBe("1");
  });
});
