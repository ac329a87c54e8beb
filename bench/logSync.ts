/**
 * Benchmark of the tenant-log sync against the full reconcile (`npm run bench:logSync -- --users
 * 100000`). One local tenant (the Management API emulator over HTTPS and a local Convex host) with
 * N users in sync on both sides; then, in the same run:
 * - 100 changes made through the Management API (90 renames, 5 deletions, 5 creations), and the
 *   incremental `auth0.logSyncRun` (the cron's action, in-process): one run, or more when a run's
 *   budget ends first (as the next minute's run would go on); calls and wall time;
 * - 100 more changes of the same kinds, and one full reconcile (`sync --yes --delete-orphans`, a
 *   child process): its Management API calls and wall time.
 * Both must bring Convex level with Auth0 (checked). Rate limits are lifted to measure the work;
 * the time the incremental run would take at Auth0's documented limits is printed from its calls.
 * The full reconcile's listing is an export job (a few calls whatever the size, on paid plans) but
 * reads every user; the incremental run reads only the users the log names.
 * Targets: the incremental sync makes at most 2 calls per change plus a few, each run keeps within
 * the cron's budget, and it takes less time than the full reconcile. convex-test scans a whole
 * table per index lookup, so at 100,000 rows its mutations dominate the incremental wall time. Prints PASS/FAIL per target and
 * exits 1 if one fails.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, fetch as undiciFetch } from "undici";
import { internal } from "../convex/_generated/api";
import { RUN_BUDGET_MS } from "../server/logSync/logSync";
import { requestToken } from "../server/logSync/auth0";
import { startTenant, type Tenant } from "./lib/reconcileHarness";
import type { StoredUser } from "../local-auth0/managementApiEmulator";
import { profileFromAuth0User } from "../server/users/auth0Profile";
import { tokenIdentifier } from "../server/tokenIdentifier";

const CHANGES = 100;
const LOGS = { clientId: "bench-log-sync", clientSecret: randomBytes(24).toString("base64url") };
const ADMIN = { clientId: "bench-admin", clientSecret: randomBytes(24).toString("base64url") };

function usersArg(): number {
  const i = process.argv.indexOf("--users");
  const n = i >= 0 ? Number(process.argv[i + 1]) : 100_000;
  if (!Number.isInteger(n) || n < 1000) throw new Error("--users must be an integer >= 1000");
  return n;
}

async function seed(t: Tenant, n: number): Promise<StoredUser[]> {
  const at = new Date(Date.now() - 3_600_000).toISOString();
  const users: StoredUser[] = [];
  for (let i = 0; i < n; i++) {
    users.push(
      t.emulator.seedUser({ user_id: `auth0|b${String(i).padStart(7, "0")}`, updated_at: at }),
    );
  }
  for (let i = 0; i < n; i += 5000) {
    const chunk = users.slice(i, i + 5000).map((user) => {
      const facts = Object.fromEntries(
        Object.entries(profileFromAuth0User(user)).filter(([, v]) => v !== null),
      );
      return {
        tokenIdentifier: tokenIdentifier(t.emulator.domain, user.user_id),
        auth0UserId: user.user_id,
        ...facts,
        createdAt: Date.now(),
        updatedAt: Date.now(),
      };
    });
    await t.convex.t.run(async (ctx) => {
      for (const row of chunk) await ctx.db.insert("users", row);
    });
  }
  return users;
}

/** Makes {@link CHANGES} changes through the Management API; returns what Convex must show. */
async function change(
  t: Tenant,
  api: (method: string, path: string, body?: unknown) => Promise<unknown>,
  users: StoredUser[],
  round: number,
) {
  const renamed: [string, string][] = [];
  const deleted: string[] = [];
  const created: string[] = [];
  const offset = round * CHANGES;
  for (let i = 0; i < 90; i++) {
    const id = users[offset + i * 7].user_id;
    const name = `Renamed ${round}-${i}`;
    await api("PATCH", `/api/v2/users/${encodeURIComponent(id)}`, { name });
    renamed.push([id, name]);
  }
  for (let i = 0; i < 5; i++) {
    const id = users[users.length - 1 - offset - i].user_id;
    await api("DELETE", `/api/v2/users/${encodeURIComponent(id)}`);
    deleted.push(id);
  }
  for (let i = 0; i < 5; i++) {
    const user = (await api("POST", "/api/v2/users", {
      connection: "Username-Password-Authentication",
      email: `new-${round}-${i}@example.com`,
      password: "Str0ng!Passw0rd",
    })) as { user_id: string };
    created.push(user.user_id);
  }
  return async () => {
    const rows = new Map((await t.rows()).map((r) => [r.auth0UserId, r] as const));
    return (
      renamed.every(([id, name]) => rows.get(id)?.name === name) &&
      deleted.every((id) => !rows.has(id)) &&
      created.every((id) => rows.has(id))
    );
  };
}

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;

async function main(): Promise<number> {
  const n = usersArg();
  const t = await startTenant();
  try {
    t.emulator.setRateLimit(100_000);
    t.emulator.addClient({ ...LOGS, scopes: ["read:logs", "read:users"] });
    t.emulator.addClient({
      ...ADMIN,
      scopes: ["read:users", "update:users", "create:users", "delete:users"],
    });
    // The action runs in this process: trust the tenant's test CA for its HTTPS calls.
    const agent = new Agent({
      connect: { ca: readFileSync(t.env().NODE_EXTRA_CA_CERTS!, "utf8") },
    });
    globalThis.fetch = ((input: string | URL, init?: RequestInit) =>
      undiciFetch(input, { ...(init as object), dispatcher: agent })) as typeof fetch;
    const origin = `https://${t.emulator.domain}`;
    // The admin's token the same way the log sync asks for its own.
    const { accessToken: adminToken } = await requestToken(
      { domain: t.emulator.domain, clientId: ADMIN.clientId, clientSecret: ADMIN.clientSecret },
      Date.now() + 30_000,
    );
    const api = async (method: string, path: string, body?: unknown) => {
      const reply = await fetch(`${origin}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (reply.status >= 300) throw new Error(`${method} ${path}: ${reply.status}`);
      return reply.status === 204 ? undefined : reply.json();
    };

    process.stderr.write(`seeding ${n} users on both sides...\n`);
    const users = await seed(t, n);
    process.env.AUTH0_LOGS_CLIENT_ID = LOGS.clientId;
    process.env.AUTH0_LOGS_CLIENT_SECRET = LOGS.clientSecret;
    // A tenant's log is never empty (logins, admin work): the first run starts from its newest.
    t.emulator.logs.append({ type: "s", user_id: users[0].user_id, description: "Success Login" });
    const first = await t.convex.t.action(internal.auth0.logSyncRun, {});
    if (first.status !== "started") throw new Error(`the first log sync run: ${first.status}`);

    // Incremental: 100 changes, then the cron's action until it has caught up (one run, unless
    // the run's budget ends first: then the next minute's run goes on, as in a deployment).
    const incrementalLevel = await change(t, api, users, 0);
    let before = t.emulator.requests.length;
    let started = performance.now();
    const runs: { status: string; wallMs: number; logEvents: number; usersRefetched: number }[] =
      [];
    while (runs.length < 5 && runs.at(-1)?.status !== "caught_up") {
      const runStart = performance.now();
      const r = await t.convex.t.action(internal.auth0.logSyncRun, {});
      runs.push({ ...r, wallMs: performance.now() - runStart });
      if (r.status !== "caught_up") {
        const h = await t.convex.t.query(internal.auth0.logSyncHealth, {});
        console.error(
          `run ${runs.length} ended ${r.status}: ${h.lastError?.message ?? "no error"}`,
        );
      }
    }
    const inc = {
      status: runs.at(-1)!.status,
      logEvents: runs.reduce((sum, r) => sum + r.logEvents, 0),
      usersRefetched: runs.reduce((sum, r) => sum + r.usersRefetched, 0),
    };
    const incWall = performance.now() - started;
    const incCalls = t.emulator.requests.slice(before).length;
    const incOk = inc.status === "caught_up" && (await incrementalLevel());

    // Full reconcile: 100 more changes, one `sync --yes --delete-orphans`.
    const fullLevel = await change(t, api, users, 1);
    before = t.emulator.requests.length;
    started = performance.now();
    const sync = await t.run("sync", ["--yes", "--delete-orphans"]);
    const fullWall = performance.now() - started;
    const fullCalls = t.emulator.requests.slice(before).length;
    if (sync.code !== 0)
      throw new Error(`sync exited ${sync.code}:\n${sync.stderr.slice(0, 2000)}`);
    const fullOk = await fullLevel();

    const tenant = `${n.toLocaleString("en-US")} users, ${CHANGES} changes (90 renames, 5 deletions, 5 creations)`;
    console.log(`\nlog sync vs full reconcile, same tenant: ${tenant}`);
    console.log(
      `  incremental (${runs.length} auth0.logSyncRun${runs.length > 1 ? "s" : ""}: ${runs.map((r) => `${r.status} ${ms(r.wallMs)}`).join(", ")}): ${ms(incWall)} wall, Management API ${incCalls} calls (${inc.logEvents} log events read, ${inc.usersRefetched} users refetched), level: ${incOk}`,
    );
    console.log(
      `  full reconcile (sync --yes):   ${ms(fullWall)} wall, Management API ${fullCalls} calls, level: ${fullOk}`,
    );
    console.log(
      `  users read from Auth0: incremental ${inc.usersRefetched}, full ${n.toLocaleString("en-US")} (the whole export); ` +
        `time ratio full/incremental ${(fullWall / incWall).toFixed(1)}x, calls ratio ${(fullCalls / incCalls).toFixed(2)}x`,
    );
    console.log(
      `  at Auth0's limits the incremental run's ${incCalls} calls take at least: ` +
        [2, 500 / 60, 16]
          .map((r) => `${ms((incCalls / r) * 1000)} at ${r.toFixed(1)}/s`)
          .join(", ") +
        ` (cron budget ${ms(RUN_BUDGET_MS)}; an unfinished run resumes at the next minute)`,
    );

    const checks: [string, boolean][] = [
      [`the incremental run brings Convex level with Auth0 (${inc.status})`, incOk],
      [`the full reconcile brings Convex level with Auth0`, fullOk],
      [
        `the incremental run makes under 2 calls per change + 5 (${incCalls} for ${CHANGES})`,
        incCalls < 2 * CHANGES + 5,
      ],
      [
        `each incremental run keeps within the cron's budget (longest ${ms(Math.max(...runs.map((r) => r.wallMs)))})`,
        runs.every((r) => r.wallMs < RUN_BUDGET_MS + 15_000),
      ],
      [
        `the incremental run takes less time than the full reconcile (${ms(incWall)} vs ${ms(fullWall)})`,
        incWall < fullWall,
      ],
    ];
    console.log("");
    for (const [label, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${label}`);
    return checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    await t.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench:logSync failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
