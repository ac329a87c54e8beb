/**
 * `npm run demo`: every path into the users table, on the local sandbox (scripts/lib/sandbox.ts),
 * with no account and no network. Each step says what happens and shows the table after it:
 * logins through the built Action (also through a custom domain and an organization), the
 * browser's backstop, an admin change and a deletion arriving as events, a stale event refused,
 * drift found by check-sync and repaired by sync (the full reconcile the log sync asked for when
 * the sandbox turned it on), an admin change brought by the tenant-log sync while the Event Stream
 * is paused, and a wrong secret with the doctor line that names it.
 * Exits 0 when every step did what it says.
 */
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import type { Doc } from "../convex/_generated/dataModel";
import { internal } from "../convex/_generated/api";
import { COMMANDS } from "./lib/cli/commands";
import { parseCommandFlags } from "./lib/cli/spec";
import { judgeLogSync } from "./lib/logSyncHealth";
import { LOG_SYNC_JOB, startSandbox, type Sandbox } from "./lib/sandbox";
import { runScript } from "./lib/childProcess";

const ADA = "auth0|65f0c0ffee00000000000001";
const GRACE = "google-oauth2|104729461829372613380";
const LIN = "auth0|imported-lin";

interface Step {
  title: string;
  run(s: Sandbox): Promise<string[]>;
  /** What must hold afterwards; a string says what went wrong. */
  expect(rows: Doc<"users">[], s: Sandbox): string | undefined | Promise<string | undefined>;
}

const byId = (rows: Doc<"users">[], id: string) => rows.find((r) => r.auth0UserId === id);

function printRows(rows: Doc<"users">[], s: Sandbox): void {
  console.log(`  users table: ${rows.length} row${rows.length === 1 ? "" : "s"}`);
  for (const r of rows) {
    const issuer = r.tokenIdentifier.startsWith(`https://${s.domain}/`) ? "tenant" : "custom";
    console.log(
      `    ${r.auth0UserId.padEnd(36)} ${String(r.name ?? "").padEnd(14)} ${String(r.email ?? "").padEnd(24)} key: ${issuer} domain`,
    );
  }
}

/** Runs one of the project's scripts against the sandbox, as a user would in a terminal. */
async function script(s: Sandbox, name: string, args: string[] = [], env = {}) {
  return runScript(name, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...s.env, ...env },
    cwd: process.cwd(),
  });
}

const steps: Step[] = [
  {
    title:
      "1. Ada, new in Auth0, signs in for the first time: the Post-Login Action creates her row",
    async run(s) {
      s.emulator.seedUser({ user_id: ADA, email: "ada@example.com", name: "Ada Lovelace" });
      const login = await s.login(ADA);
      return [`Action log: ${login.log.join(" | ")}`];
    },
    expect: (rows) => (byId(rows, ADA) ? undefined : "no row for Ada"),
  },
  {
    title: "2. Ada signs in through the custom domain: another issuer, still one row",
    async run(s) {
      const login = await s.login(ADA, { via: "custom" });
      const iss = JSON.parse(Buffer.from(login.idToken.split(".")[1], "base64url").toString()).iss;
      return [`ID token iss: ${iss}`, `Action log: ${login.log.join(" | ")}`];
    },
    expect: (rows) =>
      rows.filter((r) => r.auth0UserId === ADA).length === 1 ? undefined : "Ada has two rows",
  },
  {
    title:
      "3. Grace signs in while Convex is unreachable from Auth0: the login goes on, and the browser's useStoreUserEffect stores her",
    async run(s) {
      s.emulator.seedUser({ user_id: GRACE, email: "grace@example.com", name: "Grace Hopper" });
      const unreachable = `https://127.0.0.1:${await closedPort()}`;
      const login = await s.login(GRACE, { secrets: { CONVEX_HTTP_URL: unreachable } });
      const lines = [
        `Action log: ${login.log.join(" | ")}`,
        `Login: ${login.denied.length === 0 && !login.error ? "continues" : "FAILED"}`,
      ];
      const id = await s.browserStore(login.idToken);
      lines.push(`Browser: ID token verified against the tenant's JWKS; auth0.store -> ${id}`);
      return lines;
    },
    expect: (rows) => (byId(rows, GRACE) ? undefined : "no row for Grace"),
  },
  {
    title:
      "4. Ada signs in through her organization, Acme: the same request stores the organization and her roles; an admin then gives her the billing role (event)",
    async run(s) {
      const login = await s.login(ADA, {
        organization: { id: "org_acme", name: "acme", display_name: "Acme Inc.", metadata: {} },
        roles: ["admin"],
        secrets: { CLAIMS_NAMESPACE: "https://demo.example.com" },
      });
      const claims = JSON.parse(Buffer.from(login.idToken.split(".")[1], "base64url").toString());
      await s.adminSetRole("org_acme", ADA, "billing", true);
      const m = await s.convex.t.run((ctx) => ctx.db.query("auth0Memberships").collect());
      const o = await s.convex.t.run((ctx) => ctx.db.query("auth0Organizations").collect());
      return [
        `ID token: https://demo.example.com/org_name = ${claims["https://demo.example.com/org_name"]}, roles = ${JSON.stringify(claims["https://demo.example.com/roles"])}`,
        `organizations: ${o.map((x) => `${x.auth0OrgId} "${x.displayName}"`).join(", ")}`,
        `memberships: ${m.map((x) => `${x.auth0OrgId} ${x.auth0UserId} [${x.roles.join(", ")}]`).join(", ")}`,
      ];
    },
    expect: async (_rows, s) => {
      const m = await s.convex.t.run((ctx) => ctx.db.query("auth0Memberships").collect());
      return m.length === 1 && m[0].roles.join(",") === "admin,billing"
        ? undefined
        : "the membership does not hold admin and billing";
    },
  },
  {
    title: "5. An admin renames Ada in the Auth0 Dashboard: user.updated arrives as an event",
    async run(s) {
      await s.adminUpdate(ADA, { name: "Ada King" });
      return ["Event Stream: user.updated delivered to /auth0/events"];
    },
    expect: (rows) => (byId(rows, ADA)?.name === "Ada King" ? undefined : "Ada was not renamed"),
  },
  {
    title:
      "6. An admin deletes Grace: user.deleted removes her row and keeps a tombstone; a late, stale user.updated does not bring her back",
    async run(s) {
      const before = s.emulator.users.get(GRACE)!;
      await s.adminDelete(GRACE);
      const stale = await s.publishUserEvent("user.updated", {
        ...before,
        updated_at: new Date(Date.parse(before.updated_at) - 1000).toISOString(),
      });
      const tombstones = await s.convex.t.run((ctx) =>
        ctx.db.query("auth0UserTombstones").collect(),
      );
      return [
        `Tombstones: ${tombstones.map((t) => t.auth0UserId).join(", ")}`,
        `Stale user.updated: acknowledged with HTTP ${stale.join(", ")}, refused by the ordering rules`,
      ];
    },
    expect: (rows) => (byId(rows, GRACE) ? "Grace came back" : undefined),
  },
  {
    title:
      "7. Drift: Ada's email changed while the stream was down, and Lin was imported in bulk; check-sync finds both, and sync (also the full reconcile the log sync asked for when it was turned on) repairs them",
    async run(s) {
      s.emulator.updateUser(ADA, { email: "ada.king@example.com" });
      s.emulator.seedUser({ user_id: LIN, email: "lin@example.com", name: "Lin Imported" });
      const check = await script(s, "check-sync", ["--json"]);
      const report = JSON.parse(check.stdout) as {
        missing: { auth0UserId: string }[];
        drift: { auth0UserId: string; fields: string[] }[];
      };
      const lines = [
        `check-sync (exit ${check.code}): missing ${report.missing.map((m) => m.auth0UserId).join(", ")}; drift ${report.drift.map((d) => `${d.auth0UserId} [${d.fields.join(", ")}]`).join(", ")}`,
      ];
      const sync = await script(s, "sync", ["--yes"]);
      lines.push(
        `sync --yes (exit ${sync.code}): ${
          sync.stdout
            .trim()
            .split("\n")
            .find((l) => l.startsWith("Applied")) ?? ""
        }`,
      );
      const again = await script(s, "check-sync");
      lines.push(
        `check-sync again: exit ${again.code} (${again.code === 0 ? "in sync" : "not in sync"})`,
      );
      if (sync.code === 0) {
        await s.convex.t.mutation(internal.auth0.logSyncReconciled, {});
        lines.push("npx convex run auth0:logSyncReconciled: the log sync's request cleared");
      }
      return lines;
    },
    expect: (rows) =>
      byId(rows, ADA)?.email === "ada.king@example.com" && byId(rows, LIN)
        ? undefined
        : "drift was not repaired",
  },
  {
    title:
      "8. An admin pauses the Event Stream, then renames Ada: no event arrives, and the tenant-log sync (a Convex cron, every minute) brings the change at its next run",
    async run(s) {
      await s.setStreamPaused(true);
      try {
        const delivered = await s.adminUpdate(ADA, { name: "Ada Byron King" });
        const stale = byId(await s.rows(), ADA)?.name;
        const logged = s.emulator.logs.entries.at(-1)!;
        const request = (logged.details as { request: { method: string; path: string } }).request;
        // The cron's next run, now: the demo does not wait for the minute.
        const run = (await s.crons.run(LOG_SYNC_JOB)) as {
          status: string;
          logEvents: number;
          usersRefetched: number;
          managementCalls: number;
        };
        const health = await s.convex.t.query(internal.auth0.logSyncHealth, {});
        const verdict = judgeLogSync(health);
        return [
          `Event Stream: paused; user.updated delivered to ${delivered.length} stream(s), Convex still says "${stale}"`,
          `Tenant log: ${logged.type} "${logged.description}" (${request.method.toUpperCase()} ${decodeURIComponent(request.path)})`,
          `Log sync run: ${run.status}; ${run.logEvents} log event(s) since its checkpoint, ${run.usersRefetched} user(s) refetched from the Management API (${run.managementCalls} calls)`,
          `doctor's log sync check: ${verdict.status.toUpperCase()} ${verdict.detail}`,
        ];
      } finally {
        await s.setStreamPaused(false);
      }
    },
    expect: (rows) =>
      byId(rows, ADA)?.name === "Ada Byron King" ? undefined : "the log sync did not rename Ada",
  },
  {
    title:
      "9. A wrong secret: Convex's AUTH0_ACTION_SECRET was changed but not the Action's. The login goes on, nothing syncs, and the doctor names it",
    async run(s) {
      const right = process.env.AUTH0_ACTION_SECRET!;
      process.env.AUTH0_ACTION_SECRET = `${right}-changed-in-convex-only`;
      try {
        // Ada renames herself (no event this time): only the Action could carry it.
        s.emulator.updateUser(ADA, { name: "Ada K." });
        const login = await s.login(ADA);
        const doctor = await script(s, "doctor");
        const failLines = doctor.stdout
          .split("\n")
          .map((l, i, all) => (l.startsWith("FAIL") ? `${l.trim()} ${all[i + 1]?.trim()}` : ""))
          .filter(Boolean);
        return [
          `Action log: ${login.log.join(" | ")}`,
          `doctor (exit ${doctor.code}): ${failLines.join(" / ")}`,
        ];
      } finally {
        process.env.AUTH0_ACTION_SECRET = right;
      }
    },
    expect: (rows) =>
      byId(rows, ADA)?.name === "Ada Byron King" ? undefined : "a refused login changed the row",
  },
];

/** A port nothing listens on (fetch refuses the "bad ports" such as 9). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  await new Promise((ok) => server.close(ok));
  return port;
}

async function main(): Promise<number> {
  const flags = parseCommandFlags(process.argv.slice(2), COMMANDS.demo);
  if ("error" in flags) {
    console.error(`demo: ${flags.error}`);
    return 2;
  }
  const started = Date.now();
  const s = await startSandbox();
  console.log(`Local Auth0 tenant https://${s.domain}/ (custom domain https://${s.customDomain}/)`);
  console.log(`Local Convex host  ${s.convexUrl}`);
  const problems: string[] = [];
  try {
    for (const step of steps) {
      console.log(`\n== ${step.title}`);
      // What the Convex functions log (they run in this process), shown as the dashboard would.
      const convexLog: string[] = [];
      const saved = { warn: console.warn, error: console.error };
      console.warn = console.error = (...args: unknown[]) =>
        void convexLog.push(args.map(String).join(" "));
      let lines: string[];
      try {
        lines = await step.run(s);
      } finally {
        Object.assign(console, saved);
      }
      for (const line of lines) console.log(`  ${line}`);
      for (const line of convexLog) console.log(`  Convex log: ${line}`);
      const rows = await s.rows();
      printRows(rows, s);
      const problem = await step.expect(rows, s);
      if (problem) problems.push(`${step.title.split(":")[0]}: ${problem}`);
    }
  } finally {
    await s.close();
  }
  if (problems.length > 0) {
    console.error(`\nDemo failed:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    return 1;
  }
  console.log(
    `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s: every path wrote through the same upsert and delete, one row per person.`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
