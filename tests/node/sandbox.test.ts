/**
 * The sandbox: its ID tokens verify against its own JWKS and carry the key the shared builder
 * makes; the Action, the browser path and the stream all reach one row per person; the doctor
 * passes against it, the tenant-log sync on and current; `npm run sandbox` starts, prints how to
 * use it and stops on Ctrl-C; and the demo walks every path, the log sync's included.
 */
import { readFileSync } from "node:fs";
import { get } from "node:https";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { SANDBOX_APP_CLIENT_ID, startSandbox, type Sandbox } from "../../scripts/lib/sandbox";
import { ROOT, runScript, start } from "../../scripts/lib/childProcess";

let sandbox: Sandbox;
const BIN_JS = join(ROOT, "bin", "convex-auth0-users.js");

function getJson(url: string, ca: string): Promise<Record<string, unknown>> {
  return new Promise((ok, fail) => {
    get(url, { ca }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => ok(JSON.parse(text) as Record<string, unknown>));
    }).on("error", fail);
  });
}

beforeAll(async () => {
  sandbox = await startSandbox({ seed: true, reconcile: true });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

describe("the sandbox", () => {
  test("its ID tokens verify with jose against its JWKS, and iss|sub is the shared key", async () => {
    await sandbox.signUp({ user_id: "auth0|sb-ada", email: "ada@example.com", name: "Ada" });
    const ca = readFileSync(sandbox.env.NODE_EXTRA_CA_CERTS, "utf8");
    for (const via of ["tenant", "custom"] as const) {
      const login = await sandbox.login("auth0|sb-ada", { via });
      expect(login.log.join("\n")).toMatch(
        /convex-auth0-users: upserted \S+ \((created|existing)\)/,
      );
      const host = via === "tenant" ? sandbox.domain : sandbox.customDomain;
      const discovery = await getJson(`https://${host}/.well-known/openid-configuration`, ca);
      expect(discovery.issuer).toBe(`https://${host}/`);
      const jwks = createLocalJWKSet(
        (await getJson(String(discovery.jwks_uri), ca)) as unknown as Parameters<
          typeof createLocalJWKSet
        >[0],
      );
      const { payload, protectedHeader } = await jwtVerify(login.idToken, jwks, {
        issuer: `https://${host}/`,
        audience: SANDBOX_APP_CLIENT_ID,
      });
      expect(protectedHeader.alg).toBe("RS256");
      expect(`${payload.iss}|${payload.sub}`).toBe(tokenIdentifier(host, "auth0|sb-ada"));
      expect(payload.email).toBe("ada@example.com");
    }
    // Two domains, one person, one row; the browser path finds the same row.
    const rows = (await sandbox.rows()).filter((r) => r.auth0UserId === "auth0|sb-ada");
    expect(rows).toHaveLength(1);
    const viaCustom = await sandbox.login("auth0|sb-ada", { via: "custom" });
    expect(await sandbox.browserStore(viaCustom.idToken)).toBe(rows[0]._id);
  }, 30_000);

  test("a token signed by another key is refused by the browser path", async () => {
    const login = await sandbox.login("auth0|sandbox-grace");
    const [h, p] = login.idToken.split(".");
    const forged = `${h}.${p}.${Buffer.from("not the signature").toString("base64url")}`;
    await expect(sandbox.browserStore(forged)).rejects.toThrow(/signature/i);
  }, 30_000);

  test("npm run doctor passes against it", async () => {
    const run = await runScript("doctor", ["--json"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...sandbox.env },
      cwd: ROOT,
    });
    const report = JSON.parse(run.stdout) as {
      checks: { id: string; status: string; detail: string }[];
    };
    expect(report.checks.filter((c) => c.status === "fail")).toEqual([]);
    // The log sync is on against the local tenant, its first run's full reconcile done.
    expect(report.checks.find((c) => c.id === "sync.logSync")).toMatchObject({
      status: "pass",
      detail: expect.stringMatching(/^changes up to \S+ applied/),
    });
    expect(run.code).toBe(0);
  }, 30_000);
});

describe("npm run sandbox", () => {
  test("prints the URLs and the commands, serves the doctor, and stops on Ctrl-C", async () => {
    // Through the bin, as `npm run sandbox` and `npx convex-auth0-users sandbox` run it: one
    // process, so Ctrl-C reaches it directly (the tsx CLI's relay SIGKILLs a child that is slow
    // to acknowledge the signal, skipping the clean-up, on a busy machine).
    const child = start(process.execPath, [BIN_JS, "sandbox"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      cwd: ROOT,
    });
    let out = "";
    await new Promise<void>((ready, fail) => {
      child.child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("Ctrl-C stops the sandbox")) ready();
      });
      child.done.then((r) => fail(new Error(`sandbox exited ${r.code}: ${r.output}`)));
    });
    expect(out).toMatch(
      /OIDC discovery: +https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration/,
    );
    expect(out).toContain("npm run doctor");
    const envFile = /\. (\S+sandbox\.env);/.exec(out)![1];
    const env = parseEnv(readFileSync(envFile, "utf8").replace(/^export /gm, "")) as Record<
      string,
      string
    >;
    const unquoted = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, v.replace(/^'|'$/g, "")]),
    );
    const doctor = await runScript("doctor", [], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...unquoted },
      cwd: ROOT,
    });
    expect(doctor.code, doctor.output).toBe(0);
    expect(doctor.stdout).toMatch(
      /^PASS {2}the tenant-log sync \(Convex cron\) is on and current: changes up to /m,
    );
    expect(out).toMatch(/crons: +.*sync users from the Auth0 tenant log/);
    child.kill("SIGINT");
    const done = await child.done;
    expect(done.code, done.output).toBe(0);
    expect(done.stdout).toContain("Sandbox stopped.");
  }, 60_000);
});

describe("npm run demo", () => {
  test("walks every path into the users table and exits 0", async () => {
    const run = await runScript("demo", [], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      cwd: ROOT,
    });
    expect(run.code, run.output).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/== 1\..*\n {2}Action log: convex-auth0-users: upserted \S+ \(created\)/);
    expect(out).toMatch(/== 2\.[^]*?ID token iss: https:\/\/localhost:\d+\/[^]*?\(existing\)/);
    expect(out).toContain("Login: continues");
    expect(out).toMatch(/memberships: org_acme \S+ \[admin, billing\]/);
    expect(out).toMatch(/Browser: ID token verified against the tenant's JWKS; auth0\.store/);
    expect(out).toMatch(/check-sync \(exit 1\): missing auth0\|imported-lin; drift \S+ \[email\]/);
    expect(out).toContain("check-sync again: exit 0 (in sync)");
    expect(out).toContain("auth0:logSyncReconciled: the log sync's request cleared");
    // The log sync: the stream paused, the rename reaches Convex at the cron's next run.
    expect(out).toMatch(
      /== 8\.[^]*?Event Stream: paused; user\.updated delivered to 0 stream\(s\), Convex still says "Ada King"/,
    );
    expect(out).toMatch(
      /Tenant log: sapi "Update a User" \(PATCH \/api\/v2\/users\/auth0\|65f0c0ffee00000000000001\)/,
    );
    expect(out).toMatch(
      /Log sync run: caught_up; [1-9]\d* log event\(s\) since its checkpoint, [1-9]/,
    );
    expect(out).toMatch(/doctor's log sync check: PASS changes up to /);
    expect(out).toMatch(
      /== 8\.[^=]*users table: 2 rows\n {4}auth0\|65f0c0ffee00000000000001 +Ada Byron King/,
    );
    expect(out).toMatch(/doctor \(exit 1\): FAIL {2}AUTH0_ACTION_SECRET is the same/);
    expect(out).toMatch(/Done in \d+\.\d s/);
  }, 60_000);
});
