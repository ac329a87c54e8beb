/**
 * The Auth0 half of the deploy: puts the built post-login Action in a tenant with
 * auth0-deploy-cli (`a0deploy import`), safely.
 *
 * 1. Validate every input before any network call: all missing or malformed variables are named
 *    at once (values are never printed), the bundle exists, carries its build header, is under
 *    Auth0's 100 kB limit and holds no keyword markers.
 * 2. Read the tenant (GET only): our Action, its deployed version, and the post-login bindings.
 * 3. Plan. The binding list a0deploy writes REPLACES the trigger's list, so the list is computed
 *    from the tenant's current one: every other bound Action keeps its place and display name, and
 *    ours goes where configured (default last). The Action is re-imported only when its deployed
 *    code, runtime, triggers or secrets differ from what this run would deploy. Secret values are
 *    write-only in Auth0, so the deployed code ends with a trailer line holding an HMAC (keyed by
 *    AUTH0_ACTION_SECRET) over the bundle hash, runtime and every secret value: comparing it tells
 *    whether anything changed without ever reading a secret back.
 * 4. `--dry-run` prints the plan and stops: nothing is written. Otherwise run `a0deploy import` on
 *    a derived copy of tenant.yaml that holds only what must change (no Action section when the
 *    Action is current, no triggers section when the bindings are), with secrets passed as
 *    keyword mappings through the child's environment, never written to disk.
 * 5. Verify by reading the tenant again: the deployed code carries the local build header and this
 *    run's fingerprint, the version is deployed and built, the draft has no undeployed changes,
 *    the secrets are the declared ones, and the bindings are exactly the planned list.
 *
 * The Event Stream (webhook to `<CONVEX_HTTP_URL>/auth0/events`) is opt-in: without
 * AUTH0_EVENTS_TOKEN it is left out entirely (no read, no write). With it, the stream is imported
 * only when it is missing, its endpoint, subscriptions, status or authorization method differ, or
 * with --force / --force-event-stream: Auth0 never returns the bearer token, so a changed token
 * cannot be seen, and re-sending it on every run would make every deploy a write.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { ManagementClient } from "auth0";
import yaml from "js-yaml";
import {
  createManagementClient,
  findActionByName,
  listBindings,
  listEventStreams,
  ManagementApiError,
  type TenantAction,
  type TenantBinding,
  type TenantEventStream,
} from "./managementApi";

const ROOT = resolve(import.meta.dirname, "../..");
/** The auth0-deploy-cli YAML this project owns. */
export const TENANT_YAML = resolve(ROOT, "auth0-actions/tenant.yaml");
/** auth0-deploy-cli settings: what the import may touch. */
export const DEPLOY_CONFIG = resolve(ROOT, "auth0-actions/deploy-config.json");
export const TRIGGER_ID = "post-login";
export const RUNTIME = "node22";
/** Auth0 refuses Action code over 100 kB (inlined dependencies included). */
export const MAX_ACTION_CODE_BYTES = 100 * 1024;
/** Action secrets the Action can do without; unset, they are left out of the Action. */
export const OPTIONAL_SECRETS: ReadonlySet<string> = new Set([
  "CLAIMS_NAMESPACE",
  "CONVEX_TIMEOUT_MS",
]);
/** Variables the deploy itself needs, besides the Action's secrets. */
export const DEPLOY_VARIABLES = [
  "AUTH0_DOMAIN",
  "AUTH0_DEPLOY_CLIENT_ID",
  "AUTH0_DEPLOY_CLIENT_SECRET",
] as const;
/** The first line `npm run build` writes. */
export const HEADER_PATTERN = /^\/\/ convex-auth0-users post-login (\S+) sha256=([0-9a-f]{64})$/;
/** The last line the deploy appends to the code it imports. */
export const TRAILER_PATTERN =
  /^\/\/ convex-auth0-users deploy commit=(\S+) fingerprint=([0-9a-f]{64})$/;
const KEYWORD_MARKER = /##[A-Za-z0-9_]+##|@@[A-Za-z0-9_]+@@/;
const CREDENTIAL_NAMES = new Set(["AUTH0_CLIENT_SECRET", "AUTH0_DEPLOY_CLIENT_SECRET"]);
/** Action secrets that are confidential (the others are settings): scrubbed from any output. */
const CONFIDENTIAL_SECRETS = new Set(["AUTH0_ACTION_SECRET"]);

/** The event types the receiver at /auth0/events handles; the stream must subscribe to all. */
export const REQUIRED_EVENT_TYPES = ["user.created", "user.updated", "user.deleted"] as const;
/** The variable the stream's endpoint is built from (already validated as the .convex.site URL). */
const ENDPOINT_VARIABLE = "CONVEX_HTTP_URL";

/** Exit codes of the deploy commands. */
export const EXIT = { ok: 0, failed: 1, invalidInput: 2, verificationFailed: 3 } as const;

/** A problem with the inputs, found before anything was called or written. */
export class DeployInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "DeployInputError";
  }
}

/** What tenant.yaml declares, checked. */
export interface TenantSpec {
  actionName: string;
  /** Absolute path of the bundle named by the Action's `code`. */
  codePath: string;
  supportedTriggers: { id: string; version: string }[];
  dependencies: unknown[];
  /** Each declared secret and the CI variable its `##KEYWORD##` value maps from. */
  secrets: { name: string; variable: string }[];
  bindingDisplayName: string;
  /** The Event Stream tenant.yaml declares, if any. */
  eventStream?: EventStreamSpec;
}

/** The declared Event Stream: a webhook with bearer authorization. */
export interface EventStreamSpec {
  name: string;
  subscriptions: string[];
  /** Path appended to CONVEX_HTTP_URL, e.g. `/auth0/events`. */
  endpointPath: string;
  /** The CI variable the bearer token's `##KEYWORD##` maps from. */
  tokenVariable: string;
}

/** Checks the `eventStreams` section; pushes every problem found. */
function parseEventStream(
  path: string,
  value: unknown,
  problems: string[],
): EventStreamSpec | undefined {
  const where = `${path}: eventStreams`;
  if (!Array.isArray(value) || value.length !== 1) {
    problems.push(`${where} must list exactly one stream`);
    return undefined;
  }
  const stream = (value[0] ?? {}) as Record<string, unknown>;
  const before = problems.length;
  const name = typeof stream.name === "string" ? stream.name.trim() : "";
  if (!name) problems.push(`${where}: the stream has no name`);
  if ("id" in stream) problems.push(`${where}: do not give the stream an id (it is found by name)`);
  if (stream.status !== "enabled") problems.push(`${where}: status must be enabled`);
  const subscriptions = Array.isArray(stream.subscriptions)
    ? (stream.subscriptions as Record<string, unknown>[]).map((s) => String(s?.event_type ?? ""))
    : [];
  const missing = REQUIRED_EVENT_TYPES.filter((t) => !subscriptions.includes(t));
  if (missing.length > 0) {
    problems.push(`${where}: subscriptions must include ${missing.join(", ")}`);
  }
  const destination = (stream.destination ?? {}) as Record<string, unknown>;
  const configuration = (destination.configuration ?? {}) as Record<string, unknown>;
  const authorization = (configuration.webhook_authorization ?? {}) as Record<string, unknown>;
  if (destination.type !== "webhook") problems.push(`${where}: destination.type must be webhook`);
  const endpoint =
    typeof configuration.webhook_endpoint === "string"
      ? /^##([A-Za-z0-9_]+)##(\/[A-Za-z0-9_./-]*)$/.exec(configuration.webhook_endpoint)
      : null;
  if (!endpoint || endpoint[1] !== ENDPOINT_VARIABLE) {
    problems.push(
      `${where}: webhook_endpoint must be "##${ENDPOINT_VARIABLE}##/<path>", e.g. "##${ENDPOINT_VARIABLE}##/auth0/events"`,
    );
  }
  if (authorization.method !== "bearer") {
    problems.push(`${where}: webhook_authorization.method must be bearer`);
  }
  const token =
    typeof authorization.token === "string"
      ? /^##([A-Za-z0-9_]+)##$/.exec(authorization.token)
      : null;
  if (!token) {
    problems.push(
      `${where}: webhook_authorization.token must have a value of the form ##VARIABLE##`,
    );
  } else if (CREDENTIAL_NAMES.has(token[1])) {
    problems.push(`${where}: the token must not map from the deploy credential ${token[1]}`);
  }
  if (problems.length > before || !endpoint || !token) return undefined;
  return { name, subscriptions, endpointPath: endpoint[2], tokenVariable: token[1] };
}

/** Reads and checks tenant.yaml. Throws {@link DeployInputError} naming every problem. */
export async function loadTenantSpec(path = TENANT_YAML): Promise<TenantSpec> {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = yaml.load(await readFile(path, "utf8"));
  } catch (err) {
    throw new DeployInputError([`cannot read ${path}: ${(err as Error).message}`]);
  }
  const root = (doc ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(root)) {
    if (key !== "actions" && key !== "triggers" && key !== "eventStreams") {
      problems.push(
        `${path}: only "actions", "triggers" and "eventStreams" belong here, found "${key}"`,
      );
    }
  }
  const actions = Array.isArray(root.actions) ? (root.actions as Record<string, unknown>[]) : [];
  if (actions.length !== 1) {
    throw new DeployInputError([...problems, `${path}: expected exactly one Action`]);
  }
  const action = actions[0];
  const actionName = typeof action.name === "string" ? action.name : "";
  if (!actionName) problems.push(`${path}: the Action has no name`);
  if (typeof action.code !== "string") problems.push(`${path}: the Action has no code path`);
  if (action.runtime !== RUNTIME) problems.push(`${path}: runtime must be ${RUNTIME}`);
  if (action.deployed !== true) problems.push(`${path}: the Action must say deployed: true`);
  const supportedTriggers = Array.isArray(action.supported_triggers)
    ? (action.supported_triggers as { id: string; version: string }[])
    : [];
  if (!supportedTriggers.some((t) => t.id === TRIGGER_ID && t.version === "v3")) {
    problems.push(`${path}: supported_triggers must include ${TRIGGER_ID} v3`);
  }
  const secrets: TenantSpec["secrets"] = [];
  for (const s of Array.isArray(action.secrets)
    ? (action.secrets as Record<string, unknown>[])
    : []) {
    const m = typeof s.value === "string" ? /^##([A-Za-z0-9_]+)##$/.exec(s.value) : null;
    if (typeof s.name !== "string" || !m) {
      problems.push(`${path}: secret ${String(s.name)} must have a value of the form ##VARIABLE##`);
    } else if (CREDENTIAL_NAMES.has(m[1])) {
      problems.push(`${path}: secret ${s.name} must not map from the deploy credential ${m[1]}`);
    } else {
      secrets.push({ name: s.name, variable: m[1] });
    }
  }
  const triggers = (root.triggers ?? {}) as Record<string, unknown>;
  const list = Array.isArray(triggers[TRIGGER_ID])
    ? (triggers[TRIGGER_ID] as Record<string, unknown>[])
    : [];
  if (Object.keys(triggers).some((k) => k !== TRIGGER_ID)) {
    problems.push(`${path}: only the ${TRIGGER_ID} trigger is managed here`);
  }
  if (list.length !== 1 || list[0].action_name !== actionName) {
    problems.push(
      `${path}: triggers.${TRIGGER_ID} must list exactly this Action (the deploy adds the tenant's other bindings itself)`,
    );
  }
  const bindingDisplayName =
    typeof list[0]?.display_name === "string" ? list[0].display_name : actionName;
  const eventStream =
    root.eventStreams === undefined
      ? undefined
      : parseEventStream(path, root.eventStreams, problems);
  if (eventStream && secrets.some((s) => s.variable === eventStream.tokenVariable)) {
    problems.push(
      `${path}: the event stream's token must not be one of the Action's secrets (${eventStream.tokenVariable})`,
    );
  }
  if (problems.length > 0) throw new DeployInputError(problems);
  return {
    actionName,
    codePath: resolve(dirname(path), action.code as string),
    supportedTriggers: supportedTriggers.map((t) => ({ id: t.id, version: t.version })),
    dependencies: Array.isArray(action.dependencies) ? action.dependencies : [],
    secrets,
    bindingDisplayName,
    ...(eventStream ? { eventStream } : {}),
  };
}

/** Where our binding goes in the trigger's list. */
export type BindingPosition =
  { kind: "first" } | { kind: "last" } | { kind: "before" | "after"; actionName: string };

/** Parses `first`, `last`, `before:<action name>` or `after:<action name>`. */
export function parsePosition(raw: string | undefined): BindingPosition | undefined {
  const value = (raw ?? "last").trim();
  if (value === "first" || value === "last") return { kind: value };
  const m = /^(before|after):(.+)$/.exec(value);
  if (m && m[2].trim()) return { kind: m[1] as "before" | "after", actionName: m[2].trim() };
  return undefined;
}

/** Validated inputs of one deploy. */
export interface DeployInputs {
  domain: string;
  clientId: string;
  clientSecret: string;
  /** Secret name → value, for the secrets that will be set (unset optional ones left out). */
  secretValues: Map<string, string>;
  /** Declared optional secrets whose variable is unset. */
  omittedSecrets: string[];
  position: BindingPosition;
  commit: string;
  /** The event stream's bearer token; undefined when unset (the stream is then left out). */
  eventsToken: string | undefined;
}

// auth0-deploy-cli pastes ##KEYWORD## values into YAML text as they are: these would break the
// quoted scalar or be replaced again as another keyword.
// eslint-disable-next-line no-control-regex
const UNSAFE_VALUE = /["\\\u0000-\u001f\u007f]|##|@@/;

/**
 * Checks the environment for everything the deploy needs; throws {@link DeployInputError} naming
 * ALL missing or malformed variables (never their values).
 */
export function readDeployInputs(
  env: Record<string, string | undefined>,
  spec: TenantSpec,
  positionOverride?: string,
): DeployInputs {
  const problems: string[] = [];
  const missing: string[] = [];
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  for (const name of DEPLOY_VARIABLES) if (!get(name)) missing.push(name);
  const secretValues = new Map<string, string>();
  const omittedSecrets: string[] = [];
  for (const { name, variable } of spec.secrets) {
    const value = get(variable);
    if (value === undefined) {
      if (OPTIONAL_SECRETS.has(name)) omittedSecrets.push(name);
      else if (!missing.includes(variable)) missing.push(variable);
      continue;
    }
    if (UNSAFE_VALUE.test(value)) {
      problems.push(
        `${variable} contains a character the keyword replacement cannot carry (a quote, a backslash, a control character, "##" or "@@")`,
      );
    }
    secretValues.set(name, value);
  }
  if (missing.length > 0) {
    problems.unshift(`missing environment variable(s): ${missing.join(", ")}`);
  }
  const domain = get("AUTH0_DOMAIN");
  if (domain && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(domain)) {
    problems.push(
      "AUTH0_DOMAIN must be a bare domain such as tenant.us.auth0.com (no https://, no path)",
    );
  }
  const site = secretValues.get("CONVEX_HTTP_URL");
  if (site !== undefined) {
    const problem = siteUrlProblem(site);
    if (problem) problems.push(problem);
  }
  const actionSecret = secretValues.get("AUTH0_ACTION_SECRET");
  if (actionSecret !== undefined && actionSecret.length < 32) {
    problems.push(
      "AUTH0_ACTION_SECRET must be at least 32 characters (e.g. openssl rand -base64 32)",
    );
  }
  const timeout = secretValues.get("CONVEX_TIMEOUT_MS");
  if (timeout !== undefined) {
    const ms = Number(timeout);
    if (!Number.isInteger(ms) || ms < 1 || ms > 10_000) {
      problems.push("CONVEX_TIMEOUT_MS must be a whole number of milliseconds from 1 to 10000");
    }
  }
  const namespace = secretValues.get("CLAIMS_NAMESPACE");
  if (namespace !== undefined) {
    let host = "";
    try {
      host = new URL(namespace).hostname;
    } catch {
      problems.push("CLAIMS_NAMESPACE must be a URL such as https://myapp.example.com");
    }
    if (/(^|\.)(auth0\.com|webtask\.io|webtask\.run)$/i.test(host)) {
      problems.push(
        "CLAIMS_NAMESPACE must not be on auth0.com or webtask domains: Auth0 drops such claims",
      );
    }
  }
  const eventsToken = spec.eventStream ? get(spec.eventStream.tokenVariable) : undefined;
  if (spec.eventStream && eventsToken !== undefined) {
    const variable = spec.eventStream.tokenVariable;
    if (UNSAFE_VALUE.test(eventsToken)) {
      problems.push(
        `${variable} contains a character the keyword replacement cannot carry (a quote, a backslash, a control character, "##" or "@@")`,
      );
    }
    if (eventsToken.length < 32) {
      problems.push(`${variable} must be at least 32 characters (e.g. openssl rand -base64 32)`);
    }
    if (site !== undefined && !site.startsWith("https://")) {
      problems.push(
        `${variable} is set, but Auth0 delivers events only to https endpoints and CONVEX_HTTP_URL is not https`,
      );
    }
    if (actionSecret !== undefined && sameSecret(eventsToken, actionSecret)) {
      problems.push(
        `${variable} must differ from AUTH0_ACTION_SECRET: each secret should protect one thing`,
      );
    }
  }
  const rawPosition = positionOverride ?? get("AUTH0_ACTION_BINDING_POSITION");
  const position = parsePosition(rawPosition);
  if (!position) {
    problems.push(
      "AUTH0_ACTION_BINDING_POSITION (or --position) must be first, last, before:<action name> or after:<action name>",
    );
  }
  if (problems.length > 0) throw new DeployInputError(problems);
  return {
    domain: domain as string,
    clientId: get("AUTH0_DEPLOY_CLIENT_ID") as string,
    clientSecret: get("AUTH0_DEPLOY_CLIENT_SECRET") as string,
    secretValues,
    omittedSecrets,
    position: position as BindingPosition,
    commit: deployCommit(get("GITHUB_SHA") ?? get("DEPLOY_COMMIT")),
    eventsToken,
  };
}

/** Constant-time equality of two secrets (hashed first, so their lengths do not leak). */
function sameSecret(a: string, b: string): boolean {
  const hash = (v: string) => createHash("sha256").update(v).digest();
  return timingSafeEqual(hash(a), hash(b));
}

/** The stream's endpoint: CONVEX_HTTP_URL (without trailing slashes) and the declared path. */
export function eventStreamEndpoint(spec: EventStreamSpec, inputs: DeployInputs): string {
  const site = (inputs.secretValues.get(ENDPOINT_VARIABLE) ?? "").replace(/\/+$/, "");
  return `${site}${spec.endpointPath}`;
}

/**
 * The commit recorded in the deployed code: GITHUB_SHA / DEPLOY_COMMIT in CI, else the local
 * checkout's HEAD (with `-dirty` when the tree has changes), else "unknown". Limited to characters
 * that cannot form a keyword marker in the code auth0-deploy-cli rewrites.
 */
export function deployCommit(fromEnv: string | undefined): string {
  const safe = (v: string) => /^[A-Za-z0-9._-]{1,80}$/.test(v);
  if (fromEnv !== undefined) return safe(fromEnv.trim()) ? fromEnv.trim() : "unknown";
  try {
    const git = (args: string[]) =>
      execFileSync("git", args, {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    const head = git(["rev-parse", "HEAD"]).trim();
    const dirty = git(["status", "--porcelain"]).trim() !== "";
    const commit = `${head}${dirty ? "-dirty" : ""}`;
    return safe(commit) ? commit : "unknown";
  } catch {
    return "unknown";
  }
}

function siteUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "CONVEX_HTTP_URL is not a URL: expected https://<deployment>.convex.site";
  }
  if (url.hostname.endsWith(".convex.cloud")) {
    return "CONVEX_HTTP_URL points at the .convex.cloud client API, which serves no HTTP routes: use the deployment's .convex.site URL";
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    return "CONVEX_HTTP_URL must be an https URL: https://<deployment>.convex.site";
  }
  return undefined;
}

/** The local bundle, checked. */
export interface LocalBundle {
  code: string;
  header: string;
  bytes: number;
  sha256: string;
}

/** Reads and checks the built bundle; throws {@link DeployInputError} if it is unfit to deploy. */
export async function loadBundle(path: string): Promise<LocalBundle> {
  if (!existsSync(path)) {
    throw new DeployInputError([`${path} does not exist: run npm run build first`]);
  }
  const code = await readFile(path, "utf8");
  const header = code.slice(0, code.indexOf("\n") === -1 ? code.length : code.indexOf("\n"));
  const problems: string[] = [];
  if (!HEADER_PATTERN.test(header)) {
    problems.push(`${path} does not start with the build header: rebuild it with npm run build`);
  }
  const bytes = Buffer.byteLength(code);
  // The trailer the deploy appends is under 200 bytes; count it against the limit.
  if (bytes + 200 > MAX_ACTION_CODE_BYTES) {
    problems.push(
      `${path} is ${bytes} bytes: Auth0 refuses Action code over ${MAX_ACTION_CODE_BYTES} bytes`,
    );
  }
  const marker = KEYWORD_MARKER.exec(code);
  if (marker) {
    problems.push(
      `${path} contains "${marker[0]}", which auth0-deploy-cli would replace as a keyword`,
    );
  }
  if (problems.length > 0) throw new DeployInputError(problems);
  return { code, header, bytes, sha256: createHash("sha256").update(code).digest("hex") };
}

/**
 * HMAC-SHA256, keyed by AUTH0_ACTION_SECRET, over everything the deployed Action is made of. It is
 * safe to store in the Action's code: without the (at least 32-character) key it reveals nothing.
 */
export function deployFingerprint(
  spec: TenantSpec,
  bundle: LocalBundle,
  inputs: DeployInputs,
): string {
  const key = inputs.secretValues.get("AUTH0_ACTION_SECRET") ?? "";
  const material = JSON.stringify({
    bundle: bundle.sha256,
    runtime: RUNTIME,
    triggers: spec.supportedTriggers,
    dependencies: spec.dependencies,
    secrets: [...inputs.secretValues.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  });
  return createHmac("sha256", key).update(material).digest("hex");
}

/** Compares two fingerprints (HMACs) in constant time. */
function sameFingerprint(found: string | undefined, expected: string): boolean {
  if (found === undefined || found.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(found, "hex"), Buffer.from(expected, "hex"));
}

/** The trailer of deployed code, if it has one. */
export function parseTrailer(code: string): { commit: string; fingerprint: string } | undefined {
  const lines = code.trimEnd().split("\n");
  const m = TRAILER_PATTERN.exec(lines[lines.length - 1] ?? "");
  return m ? { commit: m[1], fingerprint: m[2] } : undefined;
}

/** The planned post-login list, as names with display names. */
export interface PlannedBinding {
  actionName: string;
  displayName: string;
}

/**
 * The list to write: the tenant's current bindings minus ours, in their order, with ours inserted
 * at `position`. Throws {@link DeployInputError} when `before:`/`after:` names an unbound Action.
 */
export function planBindings(
  current: TenantBinding[],
  ours: PlannedBinding,
  position: BindingPosition,
): PlannedBinding[] {
  const others = current
    .filter((b) => b.actionName !== ours.actionName)
    .map((b) => ({ actionName: b.actionName, displayName: b.displayName }));
  let index = others.length;
  if (position.kind === "first") index = 0;
  if (position.kind === "before" || position.kind === "after") {
    const at = others.findIndex((b) => b.actionName === position.actionName);
    if (at === -1) {
      const bound = others.map((b) => `"${b.actionName}"`).join(", ") || "none";
      throw new DeployInputError([
        `binding position ${position.kind}:${position.actionName}: no Action of that name is bound to ${TRIGGER_ID} (bound: ${bound})`,
      ]);
    }
    index = position.kind === "before" ? at : at + 1;
  }
  return [...others.slice(0, index), ours, ...others.slice(index)];
}

function sameBindings(a: PlannedBinding[], b: PlannedBinding[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.actionName === b[i].actionName && x.displayName === b[i].displayName)
  );
}

/** What a deploy would change. */
export interface DeployPlan {
  action: {
    name: string;
    change: "create" | "update" | "none";
    reasons: string[];
    localHeader: string;
    tenantHeader: string | null;
    tenantVersion: number | null;
    /** The commit the deployed version was deployed from, when this deploy made it. */
    tenantCommit: string | null;
  };
  secrets: { name: string; state: "set" | "omitted" }[];
  bindings: { change: boolean; current: PlannedBinding[]; desired: PlannedBinding[] };
  /** Absent when tenant.yaml declares no event stream. */
  eventStream?: EventStreamPlan;
}

/** What a deploy would do with the event stream. */
export interface EventStreamPlan {
  name: string;
  /** `off`: the token variable is unset, so the stream is neither read nor written. */
  change: "create" | "update" | "none" | "off";
  reasons: string[];
  tokenVariable: string;
  endpoint: string;
  subscriptions: string[];
  /** The stream of that name in the tenant, as read (null when absent or not read). */
  tenant: TenantEventStream | null;
}

/** The same event types, in any order. */
const sameSet = (a: string[], b: string[]) =>
  JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());

/**
 * Compares the tenant's event streams with the declared one. `streams` is undefined when the
 * token is unset (the stream is off and the tenant was not read). Throws
 * {@link DeployInputError} when the name is ambiguous or taken by a stream that cannot be ours.
 */
export function planEventStream(
  spec: EventStreamSpec,
  inputs: DeployInputs,
  streams: TenantEventStream[] | undefined,
  force: string | undefined,
): EventStreamPlan {
  const base = {
    name: spec.name,
    tokenVariable: spec.tokenVariable,
    endpoint: eventStreamEndpoint(spec, inputs),
    subscriptions: spec.subscriptions,
  };
  if (inputs.eventsToken === undefined || streams === undefined) {
    return { ...base, change: "off", reasons: [], tenant: null };
  }
  const named = streams.filter((s) => s.name === spec.name);
  if (named.length > 1) {
    throw new DeployInputError([
      `${named.length} event streams are named "${spec.name}" (${named.map((s) => s.id).join(", ")}): auth0-deploy-cli would not know which to update; delete or rename the extra ones`,
    ]);
  }
  const tenant = named[0] ?? null;
  if (!tenant) {
    return { ...base, change: "create", reasons: ["the stream does not exist"], tenant };
  }
  if (tenant.destinationType !== "webhook") {
    throw new DeployInputError([
      `the event stream "${spec.name}" (${tenant.id}) has a ${tenant.destinationType ?? "unknown"} destination, which cannot be changed into a webhook: delete or rename it`,
    ]);
  }
  const reasons = eventStreamDifferences(tenant, base.endpoint, spec.subscriptions).map(
    (d) => d.found,
  );
  if (force && reasons.length === 0) reasons.push(force);
  return { ...base, change: reasons.length > 0 ? "update" : "none", reasons, tenant };
}

/**
 * How a stream read from the tenant differs from the declared endpoint and subscriptions: each
 * difference as what was found (a sentence) and what was expected.
 */
function eventStreamDifferences(
  tenant: TenantEventStream,
  endpoint: string,
  subscriptions: string[],
): { found: string; expected: string }[] {
  const out = [];
  if (tenant.status !== "enabled") {
    out.push({ found: `the status is ${tenant.status ?? "(none)"}`, expected: "enabled" });
  }
  if (tenant.endpoint !== endpoint) {
    out.push({ found: `the endpoint is ${tenant.endpoint ?? "(none)"}`, expected: endpoint });
  }
  if (!sameSet(tenant.subscriptions, subscriptions)) {
    out.push({
      found: `the subscriptions are [${tenant.subscriptions.join(", ")}]`,
      expected: `[${subscriptions.join(", ")}]`,
    });
  }
  if (tenant.authorizationMethod !== "bearer") {
    out.push({
      found: `the authorization method is ${tenant.authorizationMethod ?? "(none)"}`,
      expected: "bearer",
    });
  }
  return out;
}

/**
 * The verification of the stream: it exists, is a webhook, is enabled, posts the declared event
 * types to the declared endpoint, and authorizes with a bearer token. Returns the problems found.
 */
export function eventStreamProblems(
  plan: EventStreamPlan,
  streams: TenantEventStream[],
): { stream: TenantEventStream | null; problems: string[] } {
  const named = streams.filter((s) => s.name === plan.name);
  if (named.length !== 1) {
    const problem =
      named.length === 0
        ? `event stream "${plan.name}" is not in the tenant`
        : `${named.length} event streams are named "${plan.name}"`;
    return { stream: null, problems: [problem] };
  }
  const stream = named[0];
  const problems: string[] = [];
  if (stream.destinationType !== "webhook") {
    problems.push(
      `event stream "${plan.name}": the destination is ${stream.destinationType ?? "(none)"}, expected webhook`,
    );
  }
  for (const d of eventStreamDifferences(stream, plan.endpoint, plan.subscriptions)) {
    problems.push(`event stream "${plan.name}": ${d.found}, expected ${d.expected}`);
  }
  return { stream, problems };
}

function sameNames(a: string[], b: string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

/** Compares the tenant with what this run would deploy. */
export function planDeploy(
  spec: TenantSpec,
  bundle: LocalBundle,
  inputs: DeployInputs,
  fingerprint: string,
  tenant: TenantAction | undefined,
  currentBindings: TenantBinding[],
  force: boolean,
): DeployPlan {
  const reasons: string[] = [];
  const wantedSecrets = [...inputs.secretValues.keys()];
  const deployed = tenant?.deployed;
  if (tenant) {
    if (!deployed) reasons.push("no version is deployed");
    else {
      const tenantHeader = deployed.code.split("\n", 1)[0];
      if (tenantHeader !== bundle.header) reasons.push("the deployed code is a different build");
      const trailer = parseTrailer(deployed.code);
      if (tenantHeader === bundle.header && !sameFingerprint(trailer?.fingerprint, fingerprint)) {
        reasons.push("secret values or settings differ from the deployed version");
      }
      if (deployed.runtime !== RUNTIME) reasons.push(`the runtime is ${deployed.runtime}`);
      if (!sameNames(deployed.secretNames, wantedSecrets)) {
        reasons.push("the deployed secrets are not the declared ones");
      }
    }
    if (!tenant.allChangesDeployed) reasons.push("the draft has undeployed changes");
    if (
      !spec.supportedTriggers.every((t) =>
        tenant.supportedTriggers.some((x) => x.id === t.id && x.version === t.version),
      )
    ) {
      reasons.push("the supported triggers differ");
    }
    if (force && reasons.length === 0) reasons.push("--force");
  }
  const current = currentBindings.map((b) => ({
    actionName: b.actionName,
    displayName: b.displayName,
  }));
  const desired = planBindings(
    currentBindings,
    { actionName: spec.actionName, displayName: spec.bindingDisplayName },
    inputs.position,
  );
  return {
    action: {
      name: spec.actionName,
      change: !tenant ? "create" : reasons.length > 0 ? "update" : "none",
      reasons: tenant ? reasons : ["the Action does not exist"],
      localHeader: bundle.header,
      tenantHeader: deployed ? deployed.code.split("\n", 1)[0] : null,
      tenantVersion: deployed?.number ?? null,
      tenantCommit: deployed ? (parseTrailer(deployed.code)?.commit ?? null) : null,
    },
    secrets: [
      ...wantedSecrets.map((name) => ({ name, state: "set" as const })),
      ...inputs.omittedSecrets.map((name) => ({ name, state: "omitted" as const })),
    ],
    bindings: { change: !sameBindings(current, desired), current, desired },
  };
}

/** Human-readable plan; shows secret names only, never values. */
export function formatPlan(plan: DeployPlan, dryRun: boolean): string[] {
  const lines = [`Auth0 deploy plan${dryRun ? " (dry run: nothing will be written)" : ""}:`];
  const a = plan.action;
  lines.push(
    `  Action "${a.name}": ${a.change === "none" ? "unchanged" : a.change}${a.reasons.length && a.change !== "none" ? ` (${a.reasons.join("; ")})` : ""}`,
  );
  lines.push(`    local code:    ${a.localHeader}`);
  lines.push(
    `    deployed code: ${a.tenantHeader ?? "(none)"}${a.tenantVersion !== null ? ` (version ${a.tenantVersion}${a.tenantCommit ? `, commit ${a.tenantCommit}` : ""})` : ""}`,
  );
  lines.push(
    `    secrets: ${plan.secrets.map((s) => (s.state === "set" ? `${s.name}=****` : `${s.name} (unset, left out)`)).join(", ")}`,
  );
  const names = (list: PlannedBinding[]) =>
    list.length === 0 ? "(none)" : list.map((b) => b.actionName).join(" -> ");
  if (plan.bindings.change) {
    lines.push(`  ${TRIGGER_ID} bindings: ${names(plan.bindings.current)}`);
    lines.push(`                  becomes ${names(plan.bindings.desired)}`);
  } else {
    lines.push(`  ${TRIGGER_ID} bindings: unchanged (${names(plan.bindings.current)})`);
  }
  if (plan.eventStream) lines.push(...formatEventStreamPlan(plan.eventStream));
  return lines;
}

function formatEventStreamPlan(e: EventStreamPlan): string[] {
  if (e.change === "off") {
    return [
      `  Event stream "${e.name}": not deployed: ${e.tokenVariable} is unset, so real-time user events (created, updated, deleted) are off and the tenant's event streams are not read.`,
      `    To enable them, set ${e.tokenVariable} (openssl rand -base64 32) in the Convex deployment and in CI, then deploy again.`,
    ];
  }
  const lines = [
    e.change === "none"
      ? `  Event stream "${e.name}": unchanged (Auth0 never returns the bearer token: after changing ${e.tokenVariable}, deploy with --force-event-stream)`
      : `  Event stream "${e.name}": ${e.change} (${e.reasons.join("; ")})`,
  ];
  if (e.change !== "none") {
    lines.push(`    endpoint: ${e.endpoint}`);
    lines.push(`    subscriptions: ${e.subscriptions.join(", ")}`);
    lines.push(`    status: enabled, authorization: bearer ${e.tokenVariable}=****`);
  } else {
    lines.push(`    ${e.tenant?.id}: enabled, ${e.subscriptions.join(", ")} -> ${e.endpoint}`);
  }
  return lines;
}

/** The result of a verification read. */
export interface Verification {
  ok: boolean;
  problems: string[];
  actionId: string | null;
  version: number | null;
  header: string | null;
  commit: string | null;
  bindings: PlannedBinding[];
  /** The event stream as read, when this run deployed or checked one. */
  eventStream: TenantEventStream | null;
}

/** Re-reads the tenant and checks it holds exactly what was planned. */
export async function verifyDeploy(
  client: ManagementClient,
  inputs: DeployInputs,
  spec: TenantSpec,
  bundle: LocalBundle,
  fingerprint: string,
  desired: PlannedBinding[],
  eventStream?: EventStreamPlan,
): Promise<Verification> {
  const tenant = await findActionByName(client, spec.actionName);
  const bindings = (await listBindings(client, TRIGGER_ID)).map((b) => ({
    actionName: b.actionName,
    displayName: b.displayName,
  }));
  const problems: string[] = [];
  const deployed = tenant?.deployed;
  const header = deployed ? deployed.code.split("\n", 1)[0] : null;
  const trailer = deployed ? parseTrailer(deployed.code) : undefined;
  if (!tenant) problems.push(`Action "${spec.actionName}" is not in the tenant`);
  else if (!deployed) problems.push(`Action "${spec.actionName}" has no deployed version`);
  else {
    if (header !== bundle.header) {
      problems.push(
        `the deployed code starts with "${header}", not the local build header "${bundle.header}"`,
      );
    }
    if (!sameFingerprint(trailer?.fingerprint, fingerprint)) {
      problems.push("the deployed version was not made from this run's secrets and settings");
    }
    if (!deployed.deployed) problems.push("the Action's version is not marked deployed");
    if (deployed.status !== "built")
      problems.push(`the deployed version's status is ${deployed.status}, not built`);
    if (deployed.runtime !== RUNTIME)
      problems.push(`the deployed runtime is ${deployed.runtime}, not ${RUNTIME}`);
    if (!sameNames(deployed.secretNames, [...inputs.secretValues.keys()])) {
      problems.push(
        `the deployed secrets are [${deployed.secretNames.join(", ")}], expected [${[...inputs.secretValues.keys()].sort().join(", ")}]`,
      );
    }
    if (!tenant.allChangesDeployed) problems.push("the Action's draft has undeployed changes");
  }
  if (!bindings.some((b) => b.actionName === spec.actionName)) {
    problems.push(`Action "${spec.actionName}" is not bound to ${TRIGGER_ID}`);
  } else if (!sameBindings(bindings, desired)) {
    problems.push(
      `${TRIGGER_ID} bindings are ${bindings.map((b) => b.actionName).join(" -> ")}, expected ${desired.map((b) => b.actionName).join(" -> ")}`,
    );
  }
  let stream: TenantEventStream | null = null;
  if (eventStream && eventStream.change !== "off") {
    const checked = eventStreamProblems(eventStream, await listEventStreams(client));
    stream = checked.stream;
    problems.push(...checked.problems);
  }
  return {
    ok: problems.length === 0,
    problems,
    actionId: tenant?.id ?? null,
    version: deployed?.number ?? null,
    header,
    commit: trailer?.commit ?? null,
    bindings,
    eventStream: stream,
  };
}

/** The YAML a0deploy imports: only the sections that must change. */
function derivedTenant(
  spec: TenantSpec,
  inputs: DeployInputs,
  plan: DeployPlan,
  codeFile: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (plan.action.change !== "none") {
    out.actions = [
      {
        name: spec.actionName,
        code: codeFile,
        runtime: RUNTIME,
        dependencies: spec.dependencies,
        deployed: true,
        supported_triggers: spec.supportedTriggers,
        // Values stay ##KEYWORD## markers: a0deploy fills them from the mappings it is given.
        secrets: spec.secrets
          .filter((s) => inputs.secretValues.has(s.name))
          .map((s) => ({ name: s.name, value: `##${s.variable}##` })),
      },
    ];
  }
  if (plan.bindings.change) {
    out.triggers = {
      [TRIGGER_ID]: plan.bindings.desired.map((b) => ({
        action_name: b.actionName,
        display_name: b.displayName,
      })),
    };
  }
  const stream = plan.eventStream;
  if (stream && (stream.change === "create" || stream.change === "update")) {
    out.eventStreams = [
      {
        name: stream.name,
        status: "enabled",
        subscriptions: stream.subscriptions.map((event_type) => ({ event_type })),
        destination: {
          type: "webhook",
          configuration: {
            // Not secret, and already normalized (no doubled slash), so written as it is.
            webhook_endpoint: stream.endpoint,
            // Auth0 never returns it: every import of the stream sends it again.
            webhook_authorization: { method: "bearer", token: `##${stream.tokenVariable}##` },
          },
        },
      },
    ];
  }
  return out;
}

/** Replaces every occurrence of the given secrets in `text`. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out;
}

async function runA0deploy(
  dir: string,
  configPath: string,
  inputs: DeployInputs,
  spec: TenantSpec,
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve("auth0-deploy-cli/package.json")), "lib/index.js");
  // A minimal environment: a0deploy turns every variable into a keyword mapping, so only the
  // ones the YAML uses, its own settings and what Node needs to run are passed.
  const childEnv: Record<string, string> = {};
  for (const name of [
    "PATH",
    "HOME",
    "TMPDIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
  ]) {
    const v = env[name];
    if (v) childEnv[name] = v;
  }
  childEnv.AUTH0_DOMAIN = inputs.domain;
  childEnv.AUTH0_CLIENT_ID = inputs.clientId;
  childEnv.AUTH0_CLIENT_SECRET = inputs.clientSecret;
  for (const s of spec.secrets) {
    const value = inputs.secretValues.get(s.name);
    if (value !== undefined) childEnv[s.variable] = value;
  }
  if (spec.eventStream && inputs.eventsToken !== undefined) {
    childEnv[spec.eventStream.tokenVariable] = inputs.eventsToken;
  }
  const sensitive = confidentialValues(inputs);
  // a0deploy's logger always colours its output; CI logs read better without escape codes.
  // eslint-disable-next-line no-control-regex
  const clean = (line: string) => redact(line.replace(/\u001b\[[0-9;]*m/g, ""), sensitive);
  const child = spawn(
    process.execPath,
    [bin, "import", "--config_file", configPath, "--input_file", join(dir, "tenant.yaml")],
    { cwd: dir, env: childEnv, stdio: ["ignore", "pipe", "pipe"] },
  );
  const forward = (stream: NodeJS.ReadableStream) => {
    let buffered = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) out(`  a0deploy: ${clean(line)}`);
    });
    stream.on("end", () => {
      if (buffered.trim()) out(`  a0deploy: ${clean(buffered)}`);
    });
  };
  forward(child.stdout);
  forward(child.stderr);
  return new Promise((resolveCode) => {
    child.on("error", (err) => {
      out(`  a0deploy could not start: ${err.message}`);
      resolveCode(1);
    });
    child.on("close", (code) => resolveCode(code ?? 1));
  });
}

export interface DeployAuth0Options {
  /** Environment to read (process.env in the CLI). */
  env: Record<string, string | undefined>;
  dryRun?: boolean;
  /** Re-import the Action (and the event stream, when enabled) even when the tenant matches. */
  force?: boolean;
  /** Re-import only the event stream, e.g. to send a rotated AUTH0_EVENTS_TOKEN. */
  forceEventStream?: boolean;
  /** Overrides AUTH0_ACTION_BINDING_POSITION. */
  position?: string;
  tenantPath?: string;
  configPath?: string;
  /** Where progress lines go. */
  out?: (line: string) => void;
}

export interface DeployAuth0Result {
  exitCode: (typeof EXIT)[keyof typeof EXIT];
  outcome: "dry-run" | "no-op" | "deployed" | "invalid-input" | "failed" | "verification-failed";
  plan?: DeployPlan;
  verification?: Verification;
  problems?: string[];
}

/** Runs the Auth0 half of the deploy. Never throws; the result says what happened. */
export async function deployAuth0(options: DeployAuth0Options): Promise<DeployAuth0Result> {
  const out = options.out ?? ((line: string) => console.log(line));
  let spec: TenantSpec;
  let inputs: DeployInputs;
  let bundle: LocalBundle;
  try {
    spec = await loadTenantSpec(options.tenantPath ?? TENANT_YAML);
    inputs = readDeployInputs(options.env, spec, options.position);
    bundle = await loadBundle(spec.codePath);
  } catch (err) {
    const problems = err instanceof DeployInputError ? err.problems : [String(err)];
    for (const p of problems) out(`error: ${p}`);
    out("Nothing was deployed.");
    return { exitCode: EXIT.invalidInput, outcome: "invalid-input", problems };
  }
  const fingerprint = deployFingerprint(spec, bundle, inputs);

  // One client (one access token) for the plan's reads and the verification's.
  const client = createManagementClient(inputs);
  let plan: DeployPlan;
  try {
    const tenant = await findActionByName(client, spec.actionName);
    const current = await listBindings(client, TRIGGER_ID);
    plan = planDeploy(spec, bundle, inputs, fingerprint, tenant, current, options.force === true);
    if (spec.eventStream) {
      // Without the token the stream is off: its scopes may not even be granted, so no read.
      const streams = inputs.eventsToken === undefined ? undefined : await listEventStreams(client);
      const force = options.force
        ? "--force"
        : options.forceEventStream
          ? "--force-event-stream"
          : undefined;
      plan.eventStream = planEventStream(spec.eventStream, inputs, streams, force);
    }
  } catch (err) {
    const invalid = err instanceof DeployInputError;
    const problems = invalid ? err.problems : [safeMessage(err, inputs)];
    for (const p of problems) out(`error: ${p}`);
    out("Nothing was deployed.");
    return invalid
      ? { exitCode: EXIT.invalidInput, outcome: "invalid-input", problems }
      : { exitCode: EXIT.failed, outcome: "failed", problems };
  }
  for (const line of formatPlan(plan, options.dryRun === true)) out(line);
  if (options.dryRun) return { exitCode: EXIT.ok, outcome: "dry-run", plan };

  const streamChange =
    plan.eventStream?.change === "create" || plan.eventStream?.change === "update";
  const changes = plan.action.change !== "none" || plan.bindings.change || streamChange;
  if (changes) {
    const dir = await mkdtemp(join(tmpdir(), "deploy-auth0-"));
    try {
      const code = `${bundle.code.replace(/\n*$/, "\n")}// convex-auth0-users deploy commit=${inputs.commit} fingerprint=${fingerprint}\n`;
      await writeFile(join(dir, "post-login.js"), code);
      const doc = derivedTenant(spec, inputs, plan, "./post-login.js");
      await writeFile(
        join(dir, "tenant.yaml"),
        yaml.dump(doc, { quotingType: '"', forceQuotes: true, lineWidth: -1 }),
      );
      const config = JSON.parse(await readFile(options.configPath ?? DEPLOY_CONFIG, "utf8"));
      await writeFile(join(dir, "config.json"), JSON.stringify(config));
      out("Importing with auth0-deploy-cli...");
      const code2 = await runA0deploy(
        dir,
        join(dir, "config.json"),
        inputs,
        spec,
        options.env,
        out,
      );
      if (code2 !== 0) {
        const problems = [`a0deploy import failed (exit ${code2}); see its output above`];
        out(`error: ${problems[0]}`);
        return { exitCode: EXIT.failed, outcome: "failed", plan, problems };
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    out("The tenant already matches: nothing to import.");
  }

  let verification: Verification;
  try {
    verification = await verifyDeploy(
      client,
      inputs,
      spec,
      bundle,
      fingerprint,
      plan.bindings.desired,
      plan.eventStream,
    );
  } catch (err) {
    const problems = [`verification could not read the tenant: ${safeMessage(err, inputs)}`];
    out(`error: ${problems[0]}`);
    return { exitCode: EXIT.verificationFailed, outcome: "verification-failed", plan, problems };
  }
  if (!verification.ok) {
    out("Verification FAILED:");
    for (const p of verification.problems) out(`  - ${p}`);
    return {
      exitCode: EXIT.verificationFailed,
      outcome: "verification-failed",
      plan,
      verification,
      problems: verification.problems,
    };
  }
  out(
    `Verified: Action "${spec.actionName}" (${verification.actionId}) version ${verification.version} is deployed and built from commit ${verification.commit}.`,
  );
  out(`  code header matches the local bundle: ${verification.header}`);
  out(`  secrets: ${[...inputs.secretValues.keys()].sort().join(", ")}`);
  out(
    `  ${TRIGGER_ID} bindings: ${verification.bindings.map((b, i) => `${i + 1}. ${b.actionName}`).join(", ")}`,
  );
  const stream = verification.eventStream;
  if (stream) {
    out(
      `  event stream "${stream.name}" (${stream.id}): ${stream.status}, ${stream.subscriptions.join(", ")} -> ${stream.endpoint}, ${stream.authorizationMethod} token`,
    );
  } else if (plan.eventStream?.change === "off") {
    out(`  event stream: not deployed (${plan.eventStream.tokenVariable} is unset)`);
  }
  return {
    exitCode: EXIT.ok,
    outcome: changes ? "deployed" : "no-op",
    plan,
    verification,
  };
}

function confidentialValues(inputs: DeployInputs): string[] {
  const values = [inputs.clientSecret];
  if (inputs.eventsToken !== undefined) values.push(inputs.eventsToken);
  for (const [name, value] of inputs.secretValues) {
    if (CONFIDENTIAL_SECRETS.has(name)) values.push(value);
  }
  return values;
}

function safeMessage(err: unknown, inputs: DeployInputs): string {
  const text =
    err instanceof ManagementApiError || err instanceof Error ? err.message : String(err);
  return redact(text, confidentialValues(inputs));
}
