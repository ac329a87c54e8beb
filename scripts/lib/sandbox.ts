/**
 * A local sandbox of the whole setup, on 127.0.0.1 with no account and no network: a local Auth0
 * tenant (local-auth0/: the Management API emulator, which is also an OIDC issuer with discovery and
 * JWKS, runs the built Post-Login Action at each scripted login, delivers Event Stream
 * CloudEvents with its bearer token, and keeps the tenant log) and the local Convex HTTP host
 * running this module's functions and crons (the tenant-log sync among them), both over HTTPS
 * with a CA made for the run. `npm run sandbox` and `npm run demo` use it; the scripts (`doctor`,
 * `check-sync`, `upsert-user`) run against it with {@link Sandbox.env}.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "@auth0/actions/post-login/v3";
import { createLocalJWKSet, jwtVerify, type JWTPayload } from "jose";
import { api, internal } from "../../convex/_generated/api";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import {
  startManagementApiEmulator,
  type CloudEvent,
  type ManagementApiEmulator,
  type StoredUser,
} from "../../local-auth0/managementApiEmulator";
import { startPostLogin, type PostLoginResult } from "../../local-auth0/emulator/postLogin";
import { createTestCertificate, trustInThisProcess } from "../../local-auth0/testCertificate";
import { buildAction } from "../build-action";
import { runScript } from "./childProcess";
import { streamSubscriptions } from "./deploy/plan";
import { loadTenantSpec } from "./deploy/spec";
import { localCrons, type LocalCrons } from "./localCrons";
import { startLocalConvex, type LocalConvex } from "./localConvex";

/** The web application's client id: the audience of the sandbox's ID tokens. */
export const SANDBOX_APP_CLIENT_ID = "sandbox-web-app";
const DEPLOY_CLIENT_ID = "sandbox-deploy";
const RECONCILE_CLIENT_ID = "sandbox-reconcile";
/** The log sync's own application: only what README "Turning it on" grants it. */
const LOGS_CLIENT_ID = "sandbox-log-sync";
/** The Dashboard, as the API client an admin's changes go through (and are logged by). */
const DASHBOARD_CLIENT_ID = "sandbox-dashboard";
/** The tenant-log sync's job in convex/crons.ts (server/crons.ts). */
export const LOG_SYNC_JOB = "sync users from the Auth0 tenant log";

export interface LoginResult extends PostLoginResult {
  /** The RS256 ID token the login returns to the browser (custom claims included). */
  idToken: string;
}

export interface Sandbox {
  /** The tenant domain, `127.0.0.1:<port>` (AUTH0_DOMAIN). */
  domain: string;
  /** A custom domain in front of the same tenant, `localhost:<port>` (AUTH0_CUSTOM_DOMAIN). */
  customDomain: string;
  /** The local Convex host (the `.convex.site` stand-in). */
  convexUrl: string;
  emulator: ManagementApiEmulator;
  convex: LocalConvex;
  /** Every variable the scripts need to run against the sandbox (secrets included). */
  env: Record<string, string>;
  /** A file of `export NAME='value'` lines holding {@link env} (owner-only). */
  envFile: string;
  /** The Action's secrets, as the deploy would have set them. */
  actionSecrets: Record<string, string>;
  /** Creates a user in Auth0, as a sign-up does, and streams `user.created`. */
  signUp(user: Partial<StoredUser> & { user_id: string }): Promise<StoredUser>;
  /** Signs `userId` in through the tenant domain or the custom domain; runs the Action. */
  login(
    userId: string,
    opts?: {
      via?: "tenant" | "custom";
      secrets?: Record<string, string>;
      organization?: Event["organization"];
      roles?: string[];
    },
  ): Promise<LoginResult>;
  /**
   * What the browser's `useStoreUserEffect` does with an ID token: Convex verifies it against the
   * issuer's JWKS (fetched over HTTPS from its discovery document) and `auth0.store` runs.
   */
  browserStore(idToken: string): Promise<Id<"users">>;
  /**
   * An admin changes the user in the Dashboard: Auth0 updates it through the Management API
   * (logged as `sapi`) and streams `user.updated` to the enabled streams. Resolves with each
   * stream's delivery status (none while the stream is paused).
   */
  adminUpdate(userId: string, patch: Partial<StoredUser>): Promise<(number | "network_error")[]>;
  /** An admin deletes the user: Auth0 removes it (logged) and streams `user.deleted`. */
  adminDelete(userId: string): Promise<void>;
  /** An admin pauses (or resumes) the Event Stream in the Dashboard. */
  setStreamPaused(paused: boolean): Promise<void>;
  /** The deployment's scheduler: the jobs of convex/crons.ts ({@link LOG_SYNC_JOB}, ...). */
  crons: LocalCrons;
  /** Streams any user event (e.g. a late, stale delivery). */
  publishUserEvent(
    type: "user.created" | "user.updated" | "user.deleted",
    object: Record<string, unknown>,
  ): Promise<(number | "network_error")[]>;
  /** An admin assigns (or removes) an organization role in the Dashboard: the event is streamed. */
  adminSetRole(orgId: string, userId: string, role: string, present: boolean): Promise<void>;
  /** Every `users` row. */
  rows(): Promise<Doc<"users">[]>;
  close(): Promise<void>;
}

/** GETs JSON over HTTPS trusting `ca` (what Convex does with the issuer's discovery and JWKS). */
function getJson(url: string, ca: string): Promise<unknown> {
  return new Promise((ok, fail) => {
    get(url, { ca }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        if (res.statusCode !== 200) return fail(new Error(`${url} answered ${res.statusCode}`));
        try {
          ok(JSON.parse(text));
        } catch (err) {
          fail(err);
        }
      });
    }).on("error", fail);
  });
}

/** Convex's identity from a verified ID token (the documented claim-to-field mapping). */
function identityFromClaims(payload: JWTPayload) {
  const str = (key: string) => (typeof payload[key] === "string" ? payload[key] : undefined);
  return {
    issuer: payload.iss!,
    subject: payload.sub!,
    tokenIdentifier: `${payload.iss}|${payload.sub}`,
    email: str("email"),
    emailVerified: typeof payload.email_verified === "boolean" ? payload.email_verified : undefined,
    name: str("name"),
    nickname: str("nickname"),
    givenName: str("given_name"),
    familyName: str("family_name"),
    pictureUrl: str("picture"),
    updatedAt: str("updated_at"),
  };
}

const secret = () => randomBytes(32).toString("base64url");

/**
 * Management API calls as one application (client credentials, as the deploy and the Dashboard
 * make them): `call(method, path, body)` answers the parsed body, and throws on anything but 2xx.
 */
function managementClient(domain: string) {
  return (clientId: string, clientSecret: string) => {
    let token: Promise<string> | undefined;
    const tokenFor = async () => {
      const reply = await fetch(`https://${domain}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "client_credentials",
          client_id: clientId,
          client_secret: clientSecret,
          audience: `https://${domain}/api/v2/`,
        }),
      });
      if (reply.status !== 200) throw new Error(`${clientId}: no token (${reply.status})`);
      return ((await reply.json()) as { access_token: string }).access_token;
    };
    return async (method: string, path: string, body?: unknown): Promise<unknown> => {
      token ??= tokenFor();
      const reply = await fetch(`https://${domain}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (reply.status >= 300) {
        throw new Error(`${method} ${path}: ${reply.status} ${(await reply.text()).slice(0, 200)}`);
      }
      return reply.status === 204 ? undefined : reply.json();
    };
  };
}

/**
 * README "Turning it on", step 3, with AUTH0_LOGS_* set: the first run starts from the newest log
 * event and asks for one full reconcile. With `reconcile`, it runs (`sync --yes`, as a user would,
 * with the reconcile's own credentials in `env`) and the request is cleared
 * (`auth0:logSyncReconciled`); else the caller runs it later.
 */
async function turnOnLogSync(
  crons: LocalCrons,
  convex: LocalConvex,
  env: Record<string, string>,
  dir: string,
  reconcile: boolean,
): Promise<void> {
  const first = (await crons.run(LOG_SYNC_JOB)) as { status: string };
  if (first.status !== "started") {
    throw new Error(`the log sync's first run answered ${first.status}, not started`);
  }
  if (!reconcile) return;
  const full = await runScript("sync", ["--yes"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    cwd: dir,
  });
  if (full.code !== 0) {
    throw new Error(`the full reconcile the log sync asked for failed: ${full.output}`);
  }
  await convex.t.mutation(internal.auth0.logSyncReconciled, {});
}

/**
 * Starts the sandbox, its log sync on. `seed` signs up one user through the stream, so events
 * have arrived; `crons` runs convex/crons.ts on its schedules (else only {@link Sandbox.crons}
 * `.run` does); `reconcile` runs the full reconcile the log sync's first run asks for (a `sync`
 * process, a few seconds), so the doctor passes at once (the demo runs it in a step instead).
 */
export async function startSandbox(
  opts: { seed?: boolean; crons?: boolean; reconcile?: boolean } = {},
): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), "auth0-sandbox-"));
  const cert = await createTestCertificate(dir);
  // The Convex functions run in this process and call the tenant (the log sync).
  const untrust = trustInThisProcess(cert.caCert);
  const secrets = {
    deploy: secret(),
    reconcile: secret(),
    logs: secret(),
    dashboard: secret(),
    action: secret(),
    events: secret(),
    sync: secret(),
  };
  const emulator = await startManagementApiEmulator({
    clientId: DEPLOY_CLIENT_ID,
    clientSecret: secrets.deploy,
    clients: [
      { clientId: RECONCILE_CLIENT_ID, clientSecret: secrets.reconcile, scopes: ["read:users"] },
      {
        clientId: LOGS_CLIENT_ID,
        clientSecret: secrets.logs,
        scopes: ["read:logs", "read:users", "read:organizations", "read:organization_member_roles"],
      },
      {
        clientId: DASHBOARD_CLIENT_ID,
        clientSecret: secrets.dashboard,
        scopes: ["update:users", "delete:users", "update:event_streams"],
      },
    ],
    tls: cert,
    webhookCa: cert.caCert,
    buildDelayMs: 0,
  });
  // Auth0 retries after 1, 2 and 4 s; the sandbox keeps the attempts but not the wait.
  emulator.deliveries.setRetryDelays([50, 100, 200]);
  const customDomain = emulator.domain.replace("127.0.0.1", "localhost");

  // The Convex deployment's environment: its functions run in this process.
  Object.assign(process.env, {
    AUTH0_DOMAIN: emulator.domain,
    AUTH0_CUSTOM_DOMAIN: customDomain,
    AUTH0_CLIENT_ID: SANDBOX_APP_CLIENT_ID,
    AUTH0_ACTION_SECRET: secrets.action,
    AUTH0_EVENTS_TOKEN: secrets.events,
    AUTH0_SYNC_SECRET: secrets.sync,
    // The log sync turned on (README "Turning it on", step 2).
    AUTH0_LOGS_CLIENT_ID: LOGS_CLIENT_ID,
    AUTH0_LOGS_CLIENT_SECRET: secrets.logs,
  });
  for (const name of [
    "AUTH0_ACTION_SECRET_PREVIOUS",
    "AUTH0_EVENTS_TOKEN_PREVIOUS",
    "AUTH0_SYNC_SECRET_PREVIOUS",
  ]) {
    delete process.env[name];
  }
  const convex = await startLocalConvex({ tls: cert });

  // The tenant as `npm run deploy` leaves it: the Action built, deployed and bound; the stream on.
  const spec = await loadTenantSpec();
  const stream = spec.eventStream!;
  const managementApi = managementClient(emulator.domain);
  const deploy = managementApi(DEPLOY_CLIENT_ID, secrets.deploy);
  const dashboard = managementApi(DASHBOARD_CLIENT_ID, secrets.dashboard);
  // Created through the Management API as the deploy does, so the tenant log holds its write.
  const { id: streamId } = (await deploy("POST", "/api/v2/event-streams", {
    name: stream.name,
    status: "enabled",
    // The user events and, as with AUTH0_EVENTS_ORGANIZATIONS=true, the organization events.
    subscriptions: streamSubscriptions(stream, true).map((event_type) => ({ event_type })),
    destination: {
      type: "webhook",
      configuration: {
        webhook_endpoint: `${convex.url}${stream.endpointPath}`,
        webhook_authorization: { method: "bearer", token: secrets.events },
      },
    },
  })) as { id: string };

  const env: Record<string, string> = {
    NODE_EXTRA_CA_CERTS: cert.caPath,
    AUTH0_DOMAIN: emulator.domain,
    CONVEX_HTTP_URL: convex.url,
    CONVEX_SITE_URL: convex.url,
    AUTH0_ACTION_SECRET: secrets.action,
    AUTH0_DEPLOY_CLIENT_ID: DEPLOY_CLIENT_ID,
    AUTH0_DEPLOY_CLIENT_SECRET: secrets.deploy,
    AUTH0_EVENTS_TOKEN: secrets.events,
    AUTH0_EVENTS_ORGANIZATIONS: "true",
    AUTH0_M2M_CLIENT_ID: RECONCILE_CLIENT_ID,
    AUTH0_M2M_CLIENT_SECRET: secrets.reconcile,
    AUTH0_SYNC_SECRET: secrets.sync,
  };
  const envFile = join(dir, "sandbox.env");
  await writeFile(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `export ${k}='${v}'`)
      .join("\n") + "\n",
    { mode: 0o600 },
  );
  await chmod(envFile, 0o600);

  const crons = await localCrons(convex.t);
  // While the Action builds and its runtime starts (the reconcile is a process of its own).
  const logSyncOn = turnOnLogSync(crons, convex, env, dir, opts.reconcile ?? false).then(
    () => undefined,
    (err: unknown) => err,
  );
  // Built into the sandbox's own folder: an installed package's files are not the sandbox's to
  // rewrite (and a concurrent `npm run build` may be replacing the checkout's bundle).
  const built = await buildAction({ outPath: join(dir, "action", "post-login.js") });
  emulator.seedDeployedAction(spec.actionName, await readFile(built.path, "utf8"));
  emulator.seedBindings("post-login", [
    { actionName: spec.actionName, displayName: spec.bindingDisplayName },
  ]);
  const trigger = await startPostLogin(built.path, cert.caPath);
  const actionSecrets = {
    CONVEX_HTTP_URL: convex.url,
    AUTH0_ACTION_SECRET: secrets.action,
    AUTH0_DOMAIN: emulator.domain,
  };
  const failed = await logSyncOn;
  if (failed) throw failed;
  if (opts.crons) crons.start();

  async function publishUserEvent(type: string, object: Record<string, unknown>) {
    const event: CloudEvent = {
      id: `evt_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
      source: `urn:auth0:${emulator.domain}`,
      specversion: "1.0",
      type,
      time: new Date().toISOString(),
      data: { object },
      a0tenant: "sandbox",
    };
    return (await emulator.deliveries.publish(event)).map((r) => r.status);
  }

  const sandbox: Sandbox = {
    domain: emulator.domain,
    customDomain,
    convexUrl: convex.url,
    emulator,
    convex,
    env,
    envFile,
    actionSecrets,
    async signUp(user) {
      const stored = emulator.seedUser(user);
      await publishUserEvent("user.created", stored);
      return stored;
    },
    async login(userId, o = {}) {
      const user = emulator.users.get(userId);
      if (!user) throw new Error(`no Auth0 user ${userId}`);
      const host = o.via === "custom" ? customDomain : emulator.domain;
      const result = await trigger.run({
        user,
        secrets: { ...actionSecrets, ...o.secrets },
        hostname: host,
        organization: o.organization,
        roles: o.roles,
      });
      const profile = Object.fromEntries(
        [
          "email",
          "email_verified",
          "name",
          "nickname",
          "given_name",
          "family_name",
          "picture",
          "updated_at",
        ]
          .filter((k) => user[k] !== undefined)
          .map((k) => [k, user[k]]),
      );
      const idToken = await emulator.oidc.issueIdToken({
        host,
        audience: SANDBOX_APP_CLIENT_ID,
        sub: user.user_id,
        claims: { ...profile, ...result.idTokenClaims },
      });
      return { ...result, idToken };
    },
    async browserStore(idToken) {
      const [, payloadPart] = idToken.split(".");
      const unverified = JSON.parse(Buffer.from(payloadPart, "base64url").toString()) as {
        iss?: string;
      };
      const issuers = [`https://${emulator.domain}/`, `https://${customDomain}/`];
      if (!unverified.iss || !issuers.includes(unverified.iss)) {
        throw new Error(`the token's issuer is not one Convex trusts`);
      }
      const discovery = (await getJson(
        `${unverified.iss}.well-known/openid-configuration`,
        cert.caCert,
      )) as { jwks_uri: string; issuer: string };
      const jwks = createLocalJWKSet(
        (await getJson(discovery.jwks_uri, cert.caCert)) as Parameters<typeof createLocalJWKSet>[0],
      );
      const { payload } = await jwtVerify(idToken, jwks, {
        issuer: discovery.issuer,
        audience: SANDBOX_APP_CLIENT_ID,
        algorithms: ["RS256"],
      });
      return convex.t.withIdentity(identityFromClaims(payload)).mutation(api.auth0.store, {});
    },
    async adminUpdate(userId, patch) {
      const user = await dashboard("PATCH", `/api/v2/users/${encodeURIComponent(userId)}`, patch);
      return publishUserEvent("user.updated", user as StoredUser);
    },
    async adminDelete(userId) {
      const user = emulator.users.get(userId);
      if (!user) throw new Error(`no Auth0 user ${userId}`);
      await dashboard("DELETE", `/api/v2/users/${encodeURIComponent(userId)}`);
      await publishUserEvent("user.deleted", { ...user, deleted_at: new Date().toISOString() });
    },
    async setStreamPaused(paused) {
      await dashboard("PATCH", `/api/v2/event-streams/${streamId}`, {
        status: paused ? "disabled" : "enabled",
      });
    },
    crons,
    publishUserEvent,
    async adminSetRole(orgId, userId, role, present) {
      await publishUserEvent(
        present ? "organization.member.role.assigned" : "organization.member.role.deleted",
        {
          organization: { id: orgId },
          user: { user_id: userId },
          role: { id: `rol_${role}`, name: role },
        },
      );
    },
    rows: () => convex.t.run((ctx) => ctx.db.query("users").collect()),
    async close() {
      crons.stop();
      untrust();
      trigger.close();
      await emulator.close();
      await convex.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (opts.seed) {
    await sandbox.signUp({
      user_id: "auth0|sandbox-grace",
      email: "grace@example.com",
      name: "Grace Hopper",
      nickname: "grace",
    });
  }
  return sandbox;
}
