/**
 * Every subcommand of the `convex-auth0-users` bin, as data (see ./spec.ts). Each script parses
 * its flags from its entry here and the dispatcher (scripts/cli.ts) prints its help from it.
 */
import type { CommandSpec, FlagSpec } from "./spec";

const JSON_FLAG: FlagSpec = {
  name: "json",
  help: "print one JSON document on stdout; progress and messages go to stderr",
};
const LISTING: FlagSpec = {
  name: "listing",
  value: "<auto|export|search>",
  help: "how Auth0 users are listed: export job, user search (Free plan), or auto (default)",
};
const ORGS: FlagSpec = {
  name: "orgs",
  help: "also organizations, their members and member roles",
};
const DELETE_ORPHANS: FlagSpec = {
  name: "delete-orphans",
  help: "delete rows whose Auth0 user is confirmed gone (after a backup of every one)",
};
const MAX_DELETIONS: FlagSpec = {
  name: "max-deletions",
  value: "<N>",
  help: "the mass-deletion cap in rows (default 100; SYNC_MAX_DELETIONS)",
};
const MAX_DELETION_PERCENT: FlagSpec = {
  name: "max-deletion-percent",
  value: "<P>",
  help: "the mass-deletion cap as a share of a table (default 10; SYNC_MAX_DELETION_PERCENT)",
};
const DRY_RUN: FlagSpec = { name: "dry-run", help: "show what would change; write nothing" };
const YES: FlagSpec = { name: "yes", help: "apply without asking (needed where no terminal is)" };
const POSITION: FlagSpec = {
  name: "position",
  value: "<first|last|before:X|after:X>",
  help: "where the Action goes among the tenant's post-login bindings (AUTH0_ACTION_BINDING_POSITION)",
};
const FORCE: FlagSpec = {
  name: "force",
  help: "re-import everything even when the tenant already matches",
};
const FORCE_EVENT_STREAM: FlagSpec = {
  name: "force-event-stream",
  help: "re-import the event stream only, to send a rotated AUTH0_EVENTS_TOKEN",
};

const DOTENV = { name: ".env.local", help: "read from the working directory; real variables win" };
const RECONCILE_ENV = [
  { name: "AUTH0_DOMAIN", help: "the tenant domain (tenant.<region>.auth0.com)" },
  { name: "AUTH0_M2M_CLIENT_ID", help: "the reconcile's Management API application" },
  { name: "AUTH0_M2M_CLIENT_SECRET", help: "its secret" },
  { name: "AUTH0_SYNC_SECRET", help: "the secret of Convex's /auth0/sync routes" },
  { name: "CONVEX_SITE_URL", help: "the deployment's .convex.site URL (or CONVEX_URL)" },
  DOTENV,
];
const DELETION_CAP_ENV = [
  { name: "SYNC_MAX_DELETIONS", help: "the mass-deletion cap in rows (default 100)" },
  { name: "SYNC_MAX_DELETION_PERCENT", help: "the cap as a share of a table (default 10)" },
];
const DEPLOY_ENV = [
  { name: "AUTH0_DOMAIN", help: "the tenant domain" },
  { name: "AUTH0_DEPLOY_CLIENT_ID", help: "the deploy's Management API application" },
  { name: "AUTH0_DEPLOY_CLIENT_SECRET", help: "its secret" },
  { name: "AUTH0_ACTION_SECRET", help: "the Action's signing secret (the Convex route's)" },
  { name: "CONVEX_HTTP_URL", help: "the deployment's .convex.site URL the Action calls" },
  { name: "AUTH0_ACTION_BINDING_POSITION", help: "as --position" },
  { name: "CLAIMS_NAMESPACE", help: "optional: namespace of the custom claims" },
  { name: "CONVEX_TIMEOUT_MS", help: "optional: the Action's timeout for Convex (1..10000)" },
  { name: "AUTH0_EVENTS_TOKEN", help: "optional: also deploy the Event Stream to /auth0/events" },
  { name: "AUTH0_EVENTS_ORGANIZATIONS", help: "optional: true streams organization events too" },
  { name: "DEPLOY_COMMIT", help: "optional: the commit recorded with the Action (or GITHUB_SHA)" },
  DOTENV,
];
const DEPLOY_EXITS = [
  { code: 0, meaning: "done (or dry run)" },
  { code: 1, meaning: "the import or a Management API call failed" },
  { code: 2, meaning: "bad input: nothing was called or written" },
  { code: 3, meaning: "the verification found the tenant not as planned" },
];

/** The subcommands, in the order the command list shows them. */
export const COMMANDS = {
  init: {
    name: "init",
    script: "init.ts",
    summary:
      "Add the module to your app's convex/ (schema, routes, cron, auth.config, auth0.ts): shows the changes, never overwrites.",
    flags: [
      { name: "dry-run", help: "print the changes as unified diffs; write nothing" },
      { name: "yes", help: "apply without asking (needed where no terminal is)" },
      JSON_FLAG,
      {
        name: "dir",
        value: "<path>",
        help: "the app's root (default: the working directory); convex.json's functions is honoured",
      },
    ],
    env: [],
    exits: [
      { code: 0, meaning: "done, dry run, or nothing to do: the app needs no edit of yours" },
      { code: 1, meaning: "a write failed or a file changed meanwhile (not written), or declined" },
      {
        code: 2,
        meaning:
          "bad input, nothing written: no Convex folder, a file it refuses (not UTF-8, read-only, hard-linked, linked outside the app, not parsing), the module's users table shadowed or a users field of the module's name with another meaning, no terminal without --yes",
      },
      {
        code: 3,
        meaning:
          "done (or dry run), but edits are left to you, each printed with its lines: a file init could not edit (by hand: N), your own insert into users",
      },
    ],
  },
  "check-sync": {
    name: "check-sync",
    script: "check-sync.ts",
    summary: "Read every user on both sides and report what differs. Writes nothing.",
    flags: [JSON_FLAG, ORGS, LISTING],
    env: RECONCILE_ENV,
    exits: [
      { code: 0, meaning: "in sync" },
      { code: 1, meaning: "differences found (missing, drift, orphans)" },
      { code: 2, meaning: "error (bad configuration, unreachable service, failed export job)" },
    ],
  },
  sync: {
    name: "sync",
    script: "sync.ts",
    summary:
      "The check-sync plan, then (after a confirmation) create missing rows and repair drift.",
    flags: [
      DRY_RUN,
      YES,
      DELETE_ORPHANS,
      ORGS,
      JSON_FLAG,
      MAX_DELETIONS,
      MAX_DELETION_PERCENT,
      LISTING,
    ],
    env: [...RECONCILE_ENV, ...DELETION_CAP_ENV],
    exits: [
      { code: 0, meaning: "done (or nothing to do)" },
      { code: 1, meaning: "differences left (dry run, declined, or changes Convex refused)" },
      {
        code: 2,
        meaning: "error (wrong tenant, mass deletion refused, no terminal without --yes)",
      },
    ],
  },
  "cron-sync": {
    name: "cron-sync",
    script: "cron-sync.ts",
    summary: "The unattended sync for crontab or CI: one run at a time, a JSON-lines log in logs/.",
    flags: [
      DELETE_ORPHANS,
      ORGS,
      { name: "break-lock", help: "take the run lock even if another run seems to hold it" },
      JSON_FLAG,
      MAX_DELETIONS,
      MAX_DELETION_PERCENT,
      LISTING,
    ],
    env: [
      ...RECONCILE_ENV,
      ...DELETION_CAP_ENV,
      { name: "SYNC_DELETE_ORPHANS", help: "true acts as --delete-orphans" },
      { name: "SYNC_ORGANIZATIONS", help: "true acts as --orgs" },
      { name: "SYNC_MAX_RUN_MINUTES", help: "a run stops itself after this (default 120)" },
    ],
    exits: [
      { code: 0, meaning: "done" },
      { code: 1, meaning: "some changes were refused by Convex" },
      { code: 2, meaning: "error (wrong tenant, bad configuration; the next run finishes)" },
      { code: 3, meaning: "another run holds the lock" },
      { code: 4, meaning: "a mass deletion was held back (creates and updates were applied)" },
    ],
  },
  "backup-users": {
    name: "backup-users",
    script: "backup-users.ts",
    summary: "Write every Auth0 user and every Convex row to NDJSON files under backups/.",
    flags: [JSON_FLAG, LISTING],
    env: RECONCILE_ENV,
    exits: [
      { code: 0, meaning: "written" },
      { code: 2, meaning: "error (a partial file is removed, never left looking complete)" },
    ],
  },
  "copy-users": {
    name: "copy-users",
    script: "copy-users.ts",
    summary:
      "Copy a connection's users from one tenant to another, each with a password-change ticket.",
    flags: [
      { name: "from", value: "<env>", help: "the source tenant: reads .env.<env> (required)" },
      { name: "to", value: "<env>", help: "the target tenant: reads .env.<env> (required)" },
      {
        name: "connection",
        value: "<name>",
        help: "the database connection (default Username-Password-Authentication)",
      },
      { name: "email-domain", value: "<domain>", help: "copy only users of this email domain" },
      { name: "emails", value: "<a@x.com,b@y.com>", help: "copy only these users" },
      { name: "update-existing", help: "also update users the target already has" },
      { name: "password", help: "one chosen strong password (COPY_USERS_PASSWORD or a prompt)" },
      { name: "resend-tickets", help: "issue new tickets for users copied by earlier runs" },
      DRY_RUN,
      YES,
      JSON_FLAG,
      LISTING,
    ],
    env: [
      {
        name: ".env.<env>",
        help: "per tenant: AUTH0_DOMAIN, AUTH0_M2M_CLIENT_ID, AUTH0_M2M_CLIENT_SECRET",
      },
      { name: "COPY_USERS_PASSWORD", help: "the password for --password (else asked)" },
    ],
    exits: [
      { code: 0, meaning: "everything asked for was done (or a dry run)" },
      { code: 1, meaning: "some users failed, or the confirmation was declined" },
      { code: 2, meaning: "error before writing (configuration, refused password, no terminal)" },
    ],
  },
  doctor: {
    name: "doctor",
    script: "doctor.ts",
    summary: "Check every part of the setup from the outside and name what to fix.",
    flags: [
      JSON_FLAG,
      { name: "redeliver", help: "ask Auth0 to redeliver the event stream's failed deliveries" },
      {
        name: "max-event-age",
        value: "<hours>",
        help: "how old the last received event may be (default 168)",
      },
      {
        name: "convex-dir",
        value: "<dir>",
        help: "the app's Convex folder to scan for lookups by tokenIdentifier (default convex)",
      },
      { name: "strict", help: "warnings (such as those lookups) fail the doctor too" },
    ],
    env: [
      { name: "AUTH0_DOMAIN", help: "the tenant domain" },
      { name: "CONVEX_HTTP_URL", help: "the .convex.site URL the Action calls" },
      { name: "AUTH0_ACTION_SECRET", help: "for the signed ping to Convex" },
      { name: "AUTH0_DEPLOY_CLIENT_ID", help: "optional: checks the tenant (Action, binding)" },
      { name: "AUTH0_DEPLOY_CLIENT_SECRET", help: "its secret" },
      { name: "AUTH0_EVENTS_TOKEN", help: "optional: the event stream is expected" },
      { name: "AUTH0_EVENTS_ORGANIZATIONS", help: "optional: organization events expected" },
      { name: "AUTH0_M2M_CLIENT_ID", help: "optional: checks the reconcile's access" },
      { name: "AUTH0_M2M_CLIENT_SECRET", help: "its secret" },
      { name: "AUTH0_SYNC_SECRET", help: "the secret of Convex's /auth0/sync routes" },
      { name: "CONVEX_SITE_URL", help: "the reconcile's .convex.site URL (else CONVEX_HTTP_URL)" },
      DOTENV,
    ],
    exits: [
      { code: 0, meaning: "nothing failed (warnings allowed unless --strict)" },
      { code: 1, meaning: "a check failed (or, with --strict, warned)" },
      { code: 2, meaning: "bad usage, or the wrong tenant" },
    ],
  },
  "upsert-user": {
    name: "upsert-user",
    script: "upsert-user.ts",
    summary: "Send one signed upsert to Convex exactly as the Post-Login Action does (hand test).",
    flags: [
      {
        name: "sub",
        value: "<auth0 user id>",
        help: "the Auth0 user id, e.g. auth0|123 (required)",
      },
      { name: "email", value: "<address>", help: "the profile's email" },
      { name: "name", value: "<name>", help: "the profile's name" },
      { name: "email-verified", help: "mark the email verified" },
      {
        name: "issuer",
        value: "<domain>",
        help: "the issuer of the tokenIdentifier (AUTH0_DOMAIN)",
      },
      { name: "updated-at", value: "<ISO date>", help: "the profile's updated_at (default now)" },
      JSON_FLAG,
    ],
    env: [
      { name: "AUTH0_DOMAIN", help: "the issuer, unless --issuer" },
      { name: "CONVEX_HTTP_URL", help: "the .convex.site URL to post to" },
      { name: "AUTH0_ACTION_SECRET", help: "the signing secret" },
      DOTENV,
    ],
    exits: [
      { code: 0, meaning: "stored" },
      { code: 1, meaning: "Convex refused it (the answer says why)" },
      { code: 2, meaning: "bad usage or configuration" },
    ],
  },
  deploy: {
    name: "deploy",
    script: "deploy.ts",
    summary: "Deploy Convex, then the Auth0 Action and its binding, verified.",
    flags: [
      { name: "dry-run", help: "convex deploy --dry-run and the Auth0 plan; write nothing" },
      FORCE,
      FORCE_EVENT_STREAM,
      POSITION,
      { name: "bun", help: "run the Convex CLI with bunx instead of npx" },
    ],
    env: [{ name: "CONVEX_DEPLOY_KEY", help: "the Convex deployment's deploy key" }, ...DEPLOY_ENV],
    exits: DEPLOY_EXITS,
  },
  "deploy-auth0": {
    name: "deploy-auth0",
    script: "deploy-auth0.ts",
    summary:
      "Deploy the built Action and its binding with auth0-deploy-cli, then verify the tenant.",
    flags: [DRY_RUN, FORCE, FORCE_EVENT_STREAM, POSITION, JSON_FLAG],
    env: DEPLOY_ENV,
    exits: DEPLOY_EXITS,
  },
  sandbox: {
    name: "sandbox",
    script: "sandbox.ts",
    summary: "Run a local Auth0 tenant and Convex host on 127.0.0.1 until Ctrl-C (no account).",
    flags: [
      {
        name: "login",
        value: "<auth0 user id>",
        help: "sign this user up and in once at start, through the Action",
      },
    ],
    env: [],
    exits: [
      { code: 0, meaning: "stopped by Ctrl-C" },
      { code: 1, meaning: "the sandbox failed to start" },
      { code: 2, meaning: "bad usage" },
    ],
  },
  demo: {
    name: "demo",
    script: "demo.ts",
    summary: "Every path into the users table, step by step, on the local sandbox.",
    flags: [],
    env: [],
    exits: [
      { code: 0, meaning: "every step did what it says" },
      { code: 1, meaning: "a step did not" },
      { code: 2, meaning: "bad usage" },
    ],
  },
  "build-action": {
    name: "build-action",
    script: "build-action.ts",
    summary: "Bundle the Post-Login Action into auth0-actions/dist/post-login.js.",
    flags: [],
    env: [],
    exits: [
      { code: 0, meaning: "built" },
      { code: 1, meaning: "the build failed (too large, keyword markers, compile error)" },
      { code: 2, meaning: "bad usage" },
    ],
  },
} satisfies Record<string, CommandSpec>;

/** A subcommand's name. */
export type CommandName = keyof typeof COMMANDS;
