/**
 * `npm run upsert-user`: the Action's signed request sent by hand, against the local Convex host.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { startLocalConvex, type LocalConvex } from "../../scripts/lib/localConvex";
import { runScript } from "../../scripts/lib/childProcess";

const SECRET = randomBytes(32).toString("base64url");
const DOMAIN = "tenant.us.auth0.com";
let convex: LocalConvex;
let dir: string;

const env = (overrides: Record<string, string | undefined> = {}) => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AUTH0_DOMAIN: DOMAIN,
  CONVEX_HTTP_URL: convex.url,
  AUTH0_ACTION_SECRET: SECRET,
  ...overrides,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "upsert-user-"));
  Object.assign(process.env, { AUTH0_DOMAIN: DOMAIN, AUTH0_ACTION_SECRET: SECRET });
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  convex = await startLocalConvex();
});
afterAll(async () => {
  await convex?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("npm run upsert-user", () => {
  test("stores the user under the key the Action would build, and prints the answer", async () => {
    const run = await runScript(
      "upsert-user",
      ["--sub", "auth0|cli1", "--email", "ada@example.com", "--name", "Ada", "--email-verified"],
      { env: env(), cwd: dir },
    );
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain("HTTP 200");
    expect(run.output).not.toContain(SECRET);
    const rows = await convex.t.run((ctx) => ctx.db.query("users").collect());
    const row = rows.find((r) => r.auth0UserId === "auth0|cli1");
    expect(row).toMatchObject({
      tokenIdentifier: tokenIdentifier(DOMAIN, "auth0|cli1"),
      email: "ada@example.com",
      emailVerified: true,
      name: "Ada",
    });
  }, 30_000);

  test("a wrong secret prints Convex's refusal and exits 1", async () => {
    const run = await runScript("upsert-user", ["--sub", "auth0|cli2", "--json"], {
      env: env({ AUTH0_ACTION_SECRET: randomBytes(32).toString("base64url") }),
      cwd: dir,
    });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 401,
      reply: { error: "bad_signature" },
    });
  }, 30_000);

  test("bad usage names every problem and sends nothing", async () => {
    const run = await runScript("upsert-user", ["--email", "x@example.com"], {
      env: env({
        CONVEX_HTTP_URL: "https://happy-otter-123.convex.cloud",
        AUTH0_DOMAIN: undefined,
      }),
      cwd: dir,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--sub is required");
    expect(run.stderr).toContain("AUTH0_DOMAIN (or --issuer)");
    expect(run.stderr).toContain("the client API");
    expect(run.stderr).toContain("nothing was sent");
  }, 30_000);
});
