/**
 * What `auth0-actions/tenant.yaml` declares, read and policed: one post-login Action whose secrets
 * all map from `##VARIABLE##` keywords, its binding, and the optional Event Stream. The YAML stays
 * usable with a plain `a0deploy import`; `npm run deploy` reads it here and imports a derived copy.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import yaml from "js-yaml";

const ROOT = resolve(import.meta.dirname, "../../..");
/** The auth0-deploy-cli YAML this project owns (the package's copy, once installed). */
export const TENANT_YAML = resolve(ROOT, "auth0-actions/tenant.yaml");

/**
 * The tenant.yaml the deploy and the doctor read: the app's own `auth0-actions/tenant.yaml` in
 * `cwd` (init copies it there for the app to edit) when there is one, else the package's.
 */
export function tenantYamlPath(cwd = process.cwd()): string {
  const app = resolve(cwd, "auth0-actions/tenant.yaml");
  return existsSync(app) ? app : TENANT_YAML;
}

/**
 * The Action's code file named by `code` in the tenant.yaml at `path`: next to that file, or, when
 * an app's copy names a bundle the app does not have (`./dist/post-login.js`), the package's
 * built one.
 */
function actionCodePath(path: string, code: string): string {
  const local = resolve(dirname(path), code);
  if (existsSync(local) || resolve(path) === TENANT_YAML) return local;
  const packaged = resolve(dirname(TENANT_YAML), code);
  return existsSync(packaged) ? packaged : local;
}
/** auth0-deploy-cli settings: what the import may touch. */
export const DEPLOY_CONFIG = resolve(ROOT, "auth0-actions/deploy-config.json");
export const TRIGGER_ID = "post-login";
export const RUNTIME = "node22";
/** Deploy credentials: never the source of an Action secret or the stream's token. */
export const CREDENTIAL_NAMES = new Set(["AUTH0_CLIENT_SECRET", "AUTH0_DEPLOY_CLIENT_SECRET"]);

/** Exit codes of the deploy commands. */
export const EXIT = { ok: 0, failed: 1, invalidInput: 2, verificationFailed: 3 } as const;

/** A problem with the inputs, found before anything was called or written. */
export class DeployInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "DeployInputError";
  }
}

/** The event types the receiver at /auth0/events handles; the stream must subscribe to all. */
export const REQUIRED_EVENT_TYPES = ["user.created", "user.updated", "user.deleted"] as const;
/** The variable the stream's endpoint is built from (already validated as the .convex.site URL). */
export const ENDPOINT_VARIABLE = "CONVEX_HTTP_URL";

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
    codePath: actionCodePath(path, action.code as string),
    supportedTriggers: supportedTriggers.map((t) => ({ id: t.id, version: t.version })),
    dependencies: Array.isArray(action.dependencies) ? action.dependencies : [],
    secrets,
    bindingDisplayName,
    ...(eventStream ? { eventStream } : {}),
  };
}
