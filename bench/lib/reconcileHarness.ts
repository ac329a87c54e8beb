/**
 * A tenant for the reconcile commands' benchmarks and tests: the local Auth0 (local-auth0/, with
 * a read:users-only machine-to-machine app), a local Convex host running the real routes,
 * helpers to put users on either side, and a runner for the scripts as child processes that
 * fails when a secret reaches their output.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Doc } from "../../convex/_generated/dataModel";
import { profileFromAuth0User } from "../../server/users/auth0Profile";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import {
  startLocalConvex,
  type ConvexTestInstance,
  type LocalConvex,
} from "../../scripts/lib/localConvex";
import { CLI, runScript, start, TSX, type Run } from "../../scripts/lib/childProcess";
import type { CommandName } from "../../scripts/lib/cli/commands";
import {
  startManagementApiEmulator,
  type ManagementApiEmulator,
  type StoredUser,
} from "../../local-auth0/managementApiEmulator";
import { createTestCertificate, type TestCertificate } from "../../local-auth0/testCertificate";

export const M2M_CLIENT_ID = "reconcile-m2m";
/** A real app of the tenant whose grant lacks read:users (e.g. the deploy's). */
export const NO_USERS_CLIENT = {
  clientId: "deploy-only-m2m",
  clientSecret: "deploy-only-secret-4b1f9e",
};

export interface Tenant {
  emulator: ManagementApiEmulator;
  convex: LocalConvex;
  /** A fresh working directory for the scripts (backups/ and logs/ go there). */
  dir: string;
  /** PEM of the CA the emulators' certificates chain to (for in-process HTTPS clients). */
  caCert: string;
  secrets: { m2m: string; sync: string };
  /** The environment the scripts get. */
  env(overrides?: Record<string, string | undefined>): NodeJS.ProcessEnv;
  /** Runs `convex-auth0-users <script>` and checks that no secret appears in its output. */
  run(
    script: CommandName,
    args?: string[],
    opts?: { env?: Record<string, string | undefined>; input?: string },
  ): Promise<Run>;
  /** Starts a script without waiting (to kill it). */
  start(script: CommandName, args?: string[]): ReturnType<typeof start>;
  /** Every `users` row. */
  rows(): Promise<Doc<"users">[]>;
  tombstones(): Promise<Doc<"auth0UserTombstones">[]>;
  /** Inserts a row as a login would have stored it; `issuer` defaults to the tenant's. */
  insertRow(
    user: StoredUser,
    opts?: { issuer?: string; overrides?: Partial<Doc<"users">> },
  ): Promise<void>;
  /** Puts `n` users on both sides, in sync; returns them. */
  seedInSync(n: number, prefix?: string): Promise<StoredUser[]>;
  /**
   * Starts another tenant (a second emulator) that grants the same machine-to-machine client:
   * what the scripts reach when AUTH0_DOMAIN names the wrong tenant. Closed with the tenant.
   */
  startOtherTenant(): Promise<ManagementApiEmulator>;
  close(): Promise<void>;
}

/** One CA per test process, in a directory of its own (tenants' directories are removed). */
let cert: Promise<TestCertificate> | undefined;

/** The row a login would have stored for `user`. */
export function rowFor(user: StoredUser, issuer: string, overrides: Partial<Doc<"users">> = {}) {
  const facts = Object.fromEntries(
    Object.entries(profileFromAuth0User(user)).filter(([, v]) => v !== null && v !== undefined),
  );
  return {
    tokenIdentifier: tokenIdentifier(issuer, user.user_id),
    auth0UserId: user.user_id,
    ...facts,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    ...overrides,
  };
}

export async function startTenant(
  options: {
    beforeConvexRequest?: (path: string) => Promise<void>;
    /** The Convex backend to serve (an app's own schema); default: this repository's. */
    t?: ConvexTestInstance;
  } = {},
): Promise<Tenant> {
  const dir = await mkdtemp(join(tmpdir(), "reconcile-test-"));
  cert ??= mkdtemp(join(tmpdir(), "reconcile-ca-")).then(createTestCertificate);
  const tls = await cert;
  const secrets = {
    m2m: randomBytes(24).toString("base64url"),
    sync: randomBytes(32).toString("base64url"),
  };
  const emulator = await startManagementApiEmulator({
    clientId: "unused-default-client",
    clientSecret: randomBytes(24).toString("base64url"),
    clients: [
      {
        clientId: M2M_CLIENT_ID,
        clientSecret: secrets.m2m,
        // read:users for the users; the organization scopes for --orgs.
        scopes: [
          "read:users",
          "read:organizations",
          "read:organization_members",
          "read:organization_member_roles",
        ],
      },
      { ...NO_USERS_CLIENT, scopes: ["read:actions", "update:actions"] },
    ],
    tls,
  });
  emulator.jobs.setExportDelay(150);
  const others: ManagementApiEmulator[] = [];
  // The deployment's environment (the local host runs the functions in this process).
  process.env.AUTH0_DOMAIN = emulator.domain;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  process.env.AUTH0_SYNC_SECRET = secrets.sync;
  delete process.env.AUTH0_SYNC_SECRET_PREVIOUS;
  const convex = await startLocalConvex({
    beforeRequest: options.beforeConvexRequest,
    t: options.t,
  });
  const caPath = tls.caPath;

  const tenant: Tenant = {
    emulator,
    convex,
    dir,
    caCert: tls.caCert,
    secrets,
    env(overrides = {}) {
      return {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_EXTRA_CA_CERTS: caPath,
        AUTH0_DOMAIN: emulator.domain,
        AUTH0_M2M_CLIENT_ID: M2M_CLIENT_ID,
        AUTH0_M2M_CLIENT_SECRET: secrets.m2m,
        AUTH0_SYNC_SECRET: secrets.sync,
        CONVEX_SITE_URL: convex.url,
        // Fixtures hold a handful of rows, so one deletion is already over the default share
        // (10%); the cap's own tests set it back (SYNC_MAX_DELETION_PERCENT: undefined).
        SYNC_MAX_DELETION_PERCENT: "100",
        ...overrides,
      };
    },
    async run(script, args = [], opts = {}) {
      const result = await runScript(script, args, {
        env: tenant.env(opts.env),
        cwd: dir,
        input: opts.input,
      });
      for (const [name, secret] of Object.entries(secrets)) {
        if (result.output.includes(secret)) {
          throw new Error(`the ${name} secret appeared in the output of ${script}`);
        }
      }
      return result;
    },
    start(script, args = []) {
      return start(TSX, [CLI, script, ...args], {
        env: tenant.env(),
        cwd: dir,
      });
    },
    rows: () => convex.t.run((ctx) => ctx.db.query("users").collect()),
    tombstones: () => convex.t.run((ctx) => ctx.db.query("auth0UserTombstones").collect()),
    async insertRow(user, opts = {}) {
      const row = rowFor(user, opts.issuer ?? emulator.domain, opts.overrides);
      await convex.t.run(async (ctx) => {
        await ctx.db.insert("users", row);
      });
    },
    async seedInSync(n, prefix = "auth0|u") {
      const at = new Date(Date.now() - 3_600_000).toISOString();
      const users = Array.from({ length: n }, (_, i) =>
        emulator.seedUser({ user_id: `${prefix}${String(i).padStart(5, "0")}`, updated_at: at }),
      );
      await convex.t.run(async (ctx) => {
        for (const user of users) await ctx.db.insert("users", rowFor(user, emulator.domain));
      });
      return users;
    },
    async startOtherTenant() {
      const other = await startManagementApiEmulator({
        clientId: "unused-default-client",
        clientSecret: randomBytes(24).toString("base64url"),
        clients: [{ clientId: M2M_CLIENT_ID, clientSecret: secrets.m2m, scopes: ["read:users"] }],
        tls,
      });
      other.jobs.setExportDelay(150);
      others.push(other);
      return other;
    },
    async close() {
      for (const other of others) await other.close();
      await convex.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return tenant;
}
