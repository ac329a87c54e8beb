/**
 * `npm run demo`: builds the Post-Login Action and runs the bundle, as Auth0 would, against a local
 * stand-in of the Convex deployment (the real route code in convex-test, over real HTTP). Shows a
 * first login, a repeat login with a changed name and an organization login, printing the `users`
 * rows and the ID token's custom claims after each. No accounts; secrets are made up at run time.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";
import { buildAction } from "./build-action";
import { startLocalConvex, type LocalConvex } from "./lib/localConvex";
import { makeApi, makeEvent } from "../tests/node/helpers/auth0Event";

const DOMAIN = "demo-tenant.eu.auth0.com";
const NAMESPACE = "https://demo.example.com";
const TIME_FIELDS = new Set(["auth0UpdatedAt", "lastActiveAt", "createdAt", "updatedAt"]);

type Handler = (event: Event, api: PostLoginAPI) => Promise<void>;

function printFields(fields: Record<string, unknown>, indent = "    "): void {
  const keys = Object.keys(fields);
  if (keys.length === 0) {
    console.log(`${indent}(none)`);
    return;
  }
  const width = Math.max(...keys.map((k) => k.length));
  for (const key of keys) {
    const raw = fields[key];
    const value =
      TIME_FIELDS.has(key) && typeof raw === "number"
        ? new Date(raw).toISOString()
        : typeof raw === "string"
          ? raw
          : JSON.stringify(raw);
    console.log(`${indent}${key.padEnd(width)}  ${value}`);
  }
}

async function step(
  title: string,
  handler: Handler,
  event: Event,
  convex: LocalConvex,
): Promise<boolean> {
  console.log(`\n== ${title}`);
  const { api, state } = makeApi();
  // Catch the Action's one log line, as Auth0's real-time logs would show it.
  const lines: string[] = [];
  const { log, error } = console;
  console.log = console.error = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    await handler(event, api);
  } finally {
    console.log = log;
    console.error = error;
  }
  const actionLine = lines.find((l) => l.startsWith("convex-auth0-users:")) ?? "(no log line)";
  console.log(`  Action log: ${actionLine}`);
  console.log(`  Login:      ${state.denied.length === 0 ? "continues" : "DENIED"}`);
  const rows = await convex.t.run((ctx) => ctx.db.query("users").collect());
  console.log(`  users table: ${rows.length} row${rows.length === 1 ? "" : "s"}`);
  for (const row of rows) {
    const { _creationTime: _ignored, ...fields } = row;
    printFields(fields);
  }
  console.log("  ID token custom claims:");
  printFields(state.idTokenClaims);
  return actionLine.startsWith("convex-auth0-users: upserted ") && state.denied.length === 0;
}

async function main(): Promise<number> {
  const built = await buildAction();
  console.log(`Built ${built.path} (${built.bytes} bytes)`);
  console.log(built.header);

  // Made-up configuration, shared by the "deployment" (process.env) and the Action (secrets).
  const secret = randomBytes(32).toString("base64url");
  process.env.AUTH0_DOMAIN = DOMAIN;
  process.env.AUTH0_ACTION_SECRET = secret;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  const convex = await startLocalConvex();
  console.log(`Local Convex HTTP host: ${convex.url} (stands in for https://<name>.convex.site)`);

  const { onExecutePostLogin } = createRequire(import.meta.url)(built.path) as {
    onExecutePostLogin: Handler;
  };
  const secrets = { CONVEX_HTTP_URL: convex.url, AUTH0_ACTION_SECRET: secret };
  const request = { hostname: DOMAIN };
  const renamedAt = new Date(Date.now() - 1000).toISOString();
  const ok: boolean[] = [];
  try {
    ok.push(
      await step(
        "1. First login: Ada signs in for the first time; the Action creates her row",
        onExecutePostLogin,
        makeEvent({ secrets, request }),
        convex,
      ),
    );
    ok.push(
      await step(
        "2. Repeat login: Ada changed her name in Auth0; the same row is updated",
        onExecutePostLogin,
        makeEvent({
          secrets,
          request,
          user: { name: "Ada King", updated_at: renamedAt },
        }),
        convex,
      ),
    );
    ok.push(
      await step(
        `3. Organization login: Ada signs in to "acme" as admin (profile unchanged, so no write); CLAIMS_NAMESPACE=${NAMESPACE}`,
        onExecutePostLogin,
        makeEvent({
          secrets: { ...secrets, CLAIMS_NAMESPACE: NAMESPACE },
          request,
          user: { name: "Ada King", updated_at: renamedAt },
          organization: { id: "org_4cme", name: "acme", display_name: "Acme Inc.", metadata: {} },
          roles: ["admin", "billing"],
        }),
        convex,
      ),
    );
  } finally {
    await convex.close();
  }
  if (ok.includes(false)) {
    console.error("\nDemo failed: a login was not reported to Convex (see the Action log lines).");
    return 1;
  }
  console.log(
    "\nDone: one users row for Ada, created by her first login and kept current by each later one.",
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
