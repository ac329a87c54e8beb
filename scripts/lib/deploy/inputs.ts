/**
 * The inputs of one deploy, checked before any network call: every missing or malformed variable
 * is named at once (values are never printed), and the built bundle exists, carries its build
 * header, fits Auth0's 100 kB limit and holds no keyword markers. Also the helpers that keep the
 * confidential values out of every line printed.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { routeSecretProblems, SECRET_RULE } from "../../../server/http/routeSecrets";
import { convexSiteOrigin } from "../../../server/http/siteUrl";
import { ManagementApiError } from "../managementApi";
import { DeployInputError, type TenantSpec } from "./spec";

const ROOT = resolve(import.meta.dirname, "../../..");
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
// A plain `a0deploy import` of tenant.yaml replaces these in Action code too.
const KEYWORD_MARKER = /##[A-Za-z0-9_]+##|@@[A-Za-z0-9_]+@@/;
/** Action secrets that are confidential (the others are settings): scrubbed from any output. */
const CONFIDENTIAL_SECRETS = new Set(["AUTH0_ACTION_SECRET"]);

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
  /** AUTH0_EVENTS_ORGANIZATIONS=true: the stream also carries the organization events. */
  organizationEvents: boolean;
}

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
    const checked = convexSiteOrigin(site, "CONVEX_HTTP_URL");
    if ("problem" in checked) problems.push(checked.problem);
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
    if (site !== undefined && !site.startsWith("https://")) {
      problems.push(
        `${variable} is set, but Auth0 delivers events only to https endpoints and CONVEX_HTTP_URL is not https`,
      );
    }
  }
  // The secrets this deploy sends (the Action's, the stream's) meet the rule the routes enforce.
  const secretProblems = deployedSecretProblems(
    secretValues.get("AUTH0_ACTION_SECRET"),
    eventsToken,
    get,
  );
  if (secretProblems.length > 0) {
    problems.push(...secretProblems.map((p) => `${p} (${SECRET_RULE})`));
  }
  const orgEvents = get("AUTH0_EVENTS_ORGANIZATIONS");
  if (orgEvents !== undefined && orgEvents !== "true" && orgEvents !== "false") {
    problems.push("AUTH0_EVENTS_ORGANIZATIONS must be true or false");
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
    organizationEvents: orgEvents === "true",
  };
}

/**
 * The secret rule's problems (server/http/routeSecrets.ts) with the Action's secret and the stream's
 * token as this deploy will set them; the other route secrets and the `_PREVIOUS` values are
 * read from the environment, so none may equal them either.
 */
function deployedSecretProblems(
  actionSecret: string | undefined,
  eventsToken: string | undefined,
  get: (name: string) => string | undefined,
): string[] {
  const read = (name: string) =>
    name === "AUTH0_ACTION_SECRET"
      ? actionSecret
      : name === "AUTH0_EVENTS_TOKEN"
        ? eventsToken
        : get(name);
  return [
    ...(actionSecret !== undefined ? routeSecretProblems("AUTH0_ACTION_SECRET", read) : []),
    ...(eventsToken !== undefined ? routeSecretProblems("AUTH0_EVENTS_TOKEN", read) : []),
  ];
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

/** Replaces every occurrence of the given secrets in `text`. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out;
}

export function confidentialValues(inputs: DeployInputs): string[] {
  const values = [inputs.clientSecret];
  if (inputs.eventsToken !== undefined) values.push(inputs.eventsToken);
  for (const [name, value] of inputs.secretValues) {
    if (CONFIDENTIAL_SECRETS.has(name)) values.push(value);
  }
  return values;
}

export function safeMessage(err: unknown, inputs: DeployInputs): string {
  const text =
    err instanceof ManagementApiError || err instanceof Error ? err.message : String(err);
  return redact(text, confidentialValues(inputs));
}
