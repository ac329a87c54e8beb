/**
 * A local HTTPS emulator of the Auth0 Management API endpoints that auth0-deploy-cli and the
 * deploy script call for Actions: the client-credentials token, actions, action versions, deploy,
 * action modules, triggers and trigger bindings. It follows Auth0's documented behaviour where the
 * tools depend on it:
 * - every `/api/v2` call needs a bearer token from `POST /oauth/token` (client credentials, audience
 *   `https://{domain}/api/v2/`);
 * - lists page with `page` / `per_page` (at most 100) and answer `{ total, page, per_page, <items> }`;
 * - a created or updated Action is `pending` for a while before it is `built`, and deploying it
 *   before then fails with "must be in the 'built' state";
 * - secret values are write-only: reads return only `name` and `updated_at`;
 * - `PATCH /actions/triggers/{id}/bindings` replaces the trigger's whole list, and only deployed
 *   Actions that support the trigger can be bound;
 * - responses carry `x-ratelimit-*` headers, and past the per-second limit the answer is 429;
 * - event streams (`/event-streams`, paged with `from` / `take` and a `next` cursor) keep a
 *   webhook's credentials (bearer token, basic password, custom header value) write-only, accept
 *   only https endpoints, and cannot change their destination type.
 *
 * Every request is recorded. A route it does not know gets 404 and is listed in `unknownRoutes`,
 * so a test can fail when a tool calls something the emulator would silently skip.
 */
import { randomUUID, timingSafeEqual, createHash } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

interface StoredSecret {
  name: string;
  value: string;
  updated_at: string;
}

interface TriggerRef {
  id: string;
  version: string;
}

export interface StoredVersion {
  id: string;
  number: number;
  code: string;
  runtime: string;
  dependencies: unknown[];
  secrets: StoredSecret[];
  supported_triggers: TriggerRef[];
  created_at: string;
  /** Content of the draft this version was made from, to compute `all_changes_deployed`. */
  draftRevision: number;
}

/** An Action as the emulator stores it; secret values are kept so tests can check them. */
export interface StoredAction {
  id: string;
  name: string;
  code: string;
  runtime: string;
  dependencies: unknown[];
  secrets: StoredSecret[];
  supported_triggers: TriggerRef[];
  created_at: string;
  updated_at: string;
  /** Time (ms) at which the current draft finishes building. */
  builtAt: number;
  draftRevision: number;
  versions: StoredVersion[];
  deployedVersionId: string | null;
}

export interface StoredBinding {
  id: string;
  actionId: string;
  display_name: string;
  created_at: string;
  updated_at: string;
}

/** An event stream as the emulator stores it; the webhook credentials are kept for tests. */
export interface StoredEventStream {
  id: string;
  name: string;
  status: "enabled" | "disabled";
  subscriptions: { event_type: string }[];
  destination: { type: string; configuration: Record<string, unknown> };
  created_at: string;
  updated_at: string;
}

export interface EmulatorOptions {
  clientId: string;
  clientSecret: string;
  /** PEM key and certificate the HTTPS server presents. */
  tls: { key: string; cert: string };
  /** How long a created or updated Action stays `pending` (default 2,500 ms). */
  buildDelayMs?: number;
  /** Requests per second before 429 (default 50). */
  rateLimitPerSecond?: number;
}

export interface ManagementApiEmulator {
  /** `127.0.0.1:<port>`: what goes in AUTH0_DOMAIN. */
  domain: string;
  actions: Map<string, StoredAction>;
  bindings: Map<string, StoredBinding[]>;
  eventStreams: Map<string, StoredEventStream>;
  requests: RecordedRequest[];
  /** Routes called that the emulator does not implement, as `METHOD /path`. */
  unknownRoutes: string[];
  /** Requests that change the tenant (everything but GET and the token call). */
  writes(): RecordedRequest[];
  /** Creates an Action directly in the tenant (as a hand-made one would be) and deploys it. */
  seedDeployedAction(name: string, code: string): StoredAction;
  /** Replaces a trigger's bindings directly, by action name. */
  seedBindings(triggerId: string, list: { actionName: string; displayName: string }[]): void;
  /** The trigger's bound Actions, in order, as `{ name, displayName }`. */
  boundActions(triggerId: string): { name: string; displayName: string }[];
  findAction(name: string): StoredAction | undefined;
  /** The deployed version of an Action, if any. */
  deployedVersion(action: StoredAction): StoredVersion | undefined;
  /** Creates an event stream directly in the tenant (as one made in the dashboard would be). */
  seedEventStream(body: Record<string, unknown>): StoredEventStream;
  /** The stream of that name, if any. */
  findEventStream(name: string): StoredEventStream | undefined;
  /** Marks every Action as built now (to seed a tenant without waiting). */
  finishBuilds(): void;
  /** Changes the per-second request limit (past it: 429 with the rate-limit headers). */
  setRateLimit(perSecond: number): void;
  /** Called after each successful deploy, e.g. to simulate a tenant that changed behind our back. */
  afterDeploy: ((action: StoredAction, version: StoredVersion) => void) | undefined;
  close(): Promise<void>;
}

const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 50;
const ACTION_FIELDS = new Set([
  "name",
  "supported_triggers",
  "code",
  "dependencies",
  "runtime",
  "secrets",
  "modules",
]);
const RUNTIMES = new Set(["node18", "node22"]);
const TRIGGERS = [
  { id: "post-login", version: "v3", status: "CURRENT", default_runtime: "node22" },
  { id: "post-login", version: "v2", status: "DEPRECATED", default_runtime: "node18" },
  { id: "credentials-exchange", version: "v2", status: "CURRENT", default_runtime: "node22" },
  { id: "pre-user-registration", version: "v2", status: "CURRENT", default_runtime: "node22" },
  { id: "post-user-registration", version: "v2", status: "CURRENT", default_runtime: "node22" },
  { id: "post-change-password", version: "v2", status: "CURRENT", default_runtime: "node22" },
  { id: "send-phone-message", version: "v2", status: "CURRENT", default_runtime: "node22" },
];

/** Query parameters each GET takes; anything else is a 400, as on Auth0. */
const GET_QUERY: [RegExp, string[]][] = [
  [
    /^\/api\/v2\/actions\/actions$/,
    ["triggerId", "actionName", "deployed", "page", "per_page", "installed"],
  ],
  [/^\/api\/v2\/actions\/actions\/[^/]+$/, []],
  [/^\/api\/v2\/actions\/actions\/[^/]+\/versions\/[^/]+$/, []],
  [/^\/api\/v2\/actions\/triggers$/, []],
  [/^\/api\/v2\/event-streams$/, ["from", "take"]],
  [/^\/api\/v2\/event-streams\/[^/]+$/, []],
];
const STREAM_FIELDS = new Set(["name", "subscriptions", "destination", "status"]);
const STREAM_EVENT_TYPES = new Set([
  "user.created",
  "user.updated",
  "user.deleted",
  "organization.created",
  "organization.updated",
  "organization.deleted",
  "organization.member.added",
  "organization.member.deleted",
  "organization.member.role.assigned",
  "organization.member.role.deleted",
  "organization.connection.added",
  "organization.connection.updated",
  "organization.connection.removed",
]);
/** What each webhook authorization method needs; the second field of each is write-only. */
const WEBHOOK_AUTH: Record<string, [string, string][]> = {
  bearer: [["token", "secret"]],
  basic: [
    ["username", "public"],
    ["password", "secret"],
  ],
  custom_header: [
    ["header_key", "public"],
    ["header_value", "secret"],
  ],
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison of two strings (hashed first so lengths do not leak). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function pageParams(query: Record<string, string>): { page: number; perPage: number } {
  const page = query.page === undefined ? 0 : Number(query.page);
  const perPage = query.per_page === undefined ? DEFAULT_PER_PAGE : Number(query.per_page);
  if (!Number.isInteger(page) || page < 0) {
    throw new HttpError(400, "Bad Request", "Query validation error: 'page' must be >= 0");
  }
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
    throw new HttpError(400, "Bad Request", `Query validation error: 'per_page' must be 1..100`);
  }
  return { page, perPage };
}

function paged<T>(items: T[], query: Record<string, string>, key: string) {
  const { page, perPage } = pageParams(query);
  return {
    total: items.length,
    page,
    per_page: perPage,
    [key]: items.slice(page * perPage, (page + 1) * perPage),
  };
}

function validateTriggers(value: unknown): TriggerRef[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "Bad Request", "Payload validation error: 'supported_triggers'");
  }
  return value.map((t) => {
    const known = TRIGGERS.find((k) => k.id === t?.id && k.version === t?.version);
    if (!known) {
      throw new HttpError(400, "Bad Request", `Unknown trigger ${t?.id} ${t?.version}`);
    }
    return { id: known.id, version: known.version };
  });
}

function validateSecrets(value: unknown, now: string): StoredSecret[] {
  if (!Array.isArray(value)) {
    throw new HttpError(400, "Bad Request", "Payload validation error: 'secrets' must be an array");
  }
  if (value.length > 30) throw new HttpError(400, "Bad Request", "At most 30 secrets");
  const names = new Set<string>();
  return value.map((s) => {
    if (typeof s?.name !== "string" || !/^[A-Za-z0-9_]+$/.test(s.name)) {
      throw new HttpError(400, "Bad Request", "Payload validation error: secret 'name'");
    }
    if (typeof s.value !== "string") {
      throw new HttpError(400, "Bad Request", `Payload validation error: secret ${s.name} 'value'`);
    }
    if (names.has(s.name)) throw new HttpError(400, "Bad Request", `Duplicate secret ${s.name}`);
    names.add(s.name);
    return { name: s.name, value: s.value, updated_at: now };
  });
}

function invalid(message: string): HttpError {
  return new HttpError(400, "Bad Request", `Payload validation error: ${message}`, "invalid_body");
}

function onlyFields(value: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw invalid(`'Additional properties not allowed: ${key}' on property ${where}.`);
    }
  }
}

/** Checks a webhook destination as Auth0 documents it; returns the configuration to store. */
function validateWebhookDestination(value: unknown): StoredEventStream["destination"] {
  const destination = (value ?? {}) as Record<string, unknown>;
  if (typeof value !== "object" || value === null) throw invalid("'destination' is required");
  onlyFields(destination, ["type", "configuration"], "destination");
  if (destination.type !== "webhook") {
    // The emulator implements webhook destinations only (all this project deploys).
    throw invalid(`destination.type ${String(destination.type)} is not supported here`);
  }
  const configuration = (destination.configuration ?? {}) as Record<string, unknown>;
  onlyFields(
    configuration,
    ["webhook_endpoint", "webhook_authorization"],
    "destination.configuration",
  );
  const endpoint = configuration.webhook_endpoint;
  if (typeof endpoint !== "string" || !/^https:\/\/.+/.test(endpoint)) {
    throw invalid("'webhook_endpoint' must match pattern ^https://.*");
  }
  const auth = (configuration.webhook_authorization ?? {}) as Record<string, unknown>;
  const fields = WEBHOOK_AUTH[String(auth.method)];
  if (!fields)
    throw invalid("'webhook_authorization.method' must be basic, bearer or custom_header");
  onlyFields(auth, ["method", ...fields.map(([f]) => f)], "webhook_authorization");
  for (const [field] of fields) {
    if (typeof auth[field] !== "string" || auth[field] === "") {
      throw invalid(`'webhook_authorization.${field}' is required`);
    }
  }
  return {
    type: "webhook",
    configuration: { webhook_endpoint: endpoint, webhook_authorization: { ...auth } },
  };
}

function validateSubscriptions(value: unknown): { event_type: string }[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid("'subscriptions' must be an array of at least 1 item");
  }
  return value.map((s) => {
    if (typeof s?.event_type !== "string" || !STREAM_EVENT_TYPES.has(s.event_type)) {
      throw invalid(`unknown event_type ${String(s?.event_type)}`);
    }
    onlyFields(s, ["event_type"], "subscriptions");
    return { event_type: s.event_type };
  });
}

/** A stream as Auth0 returns it: the webhook's credentials are never included. */
function streamOut(stream: StoredEventStream) {
  const auth = stream.destination.configuration.webhook_authorization as Record<string, unknown>;
  const readable = Object.fromEntries(
    (WEBHOOK_AUTH[String(auth.method)] ?? [])
      .filter(([, kind]) => kind === "public")
      .map(([field]) => [field, auth[field]]),
  );
  return {
    id: stream.id,
    name: stream.name,
    subscriptions: stream.subscriptions.map((s) => ({ ...s })),
    destination: {
      type: stream.destination.type,
      configuration: {
        webhook_endpoint: stream.destination.configuration.webhook_endpoint,
        webhook_authorization: { method: auth.method, ...readable },
      },
    },
    status: stream.status,
    created_at: stream.created_at,
    updated_at: stream.updated_at,
  };
}

/** Starts the emulator on 127.0.0.1 (random port). */
export async function startManagementApiEmulator(
  options: EmulatorOptions,
): Promise<ManagementApiEmulator> {
  const buildDelayMs = options.buildDelayMs ?? 2_500;
  let rateLimit = options.rateLimitPerSecond ?? 50;
  const actions = new Map<string, StoredAction>();
  const bindings = new Map<string, StoredBinding[]>();
  const eventStreams = new Map<string, StoredEventStream>();
  const requests: RecordedRequest[] = [];
  const unknownRoutes: string[] = [];
  const tokens = new Set<string>();
  let domain = "";
  let windowStart = 0;
  let windowCount = 0;

  const status = (a: StoredAction) => (Date.now() >= a.builtAt ? "built" : "pending");
  const deployedVersion = (a: StoredAction) => a.versions.find((v) => v.id === a.deployedVersionId);
  const secretsOut = (list: StoredSecret[]) =>
    list.map((s) => ({ name: s.name, updated_at: s.updated_at }));
  const versionOut = (a: StoredAction, v: StoredVersion) => ({
    id: v.id,
    action_id: a.id,
    code: v.code,
    dependencies: v.dependencies,
    deployed: v.id === a.deployedVersionId,
    runtime: v.runtime,
    secrets: secretsOut(v.secrets),
    status: "built",
    number: v.number,
    errors: [],
    built_at: v.created_at,
    created_at: v.created_at,
    updated_at: v.created_at,
    supported_triggers: v.supported_triggers,
  });
  const actionOut = (a: StoredAction) => {
    const deployed = deployedVersion(a);
    return {
      id: a.id,
      name: a.name,
      supported_triggers: a.supported_triggers,
      all_changes_deployed: deployed !== undefined && deployed.draftRevision === a.draftRevision,
      created_at: a.created_at,
      updated_at: a.updated_at,
      code: a.code,
      dependencies: a.dependencies,
      runtime: a.runtime,
      secrets: secretsOut(a.secrets),
      ...(deployed ? { deployed_version: versionOut(a, deployed) } : {}),
      status: status(a),
      ...(status(a) === "built" ? { built_at: new Date(a.builtAt).toISOString() } : {}),
    };
  };
  const bindingOut = (triggerId: string, b: StoredBinding) => {
    const a = actions.get(b.actionId);
    return {
      id: b.id,
      trigger_id: triggerId,
      display_name: b.display_name,
      created_at: b.created_at,
      updated_at: b.updated_at,
      action: a ? actionOut(a) : undefined,
    };
  };
  const getAction = (id: string) => {
    const a = actions.get(id);
    if (!a) throw new HttpError(404, "Not Found", "The action does not exist.");
    return a;
  };
  const findAction = (name: string) => [...actions.values()].find((a) => a.name === name);

  function createAction(body: Record<string, unknown>): StoredAction {
    for (const key of Object.keys(body)) {
      if (!ACTION_FIELDS.has(key)) {
        throw new HttpError(
          400,
          "Bad Request",
          `Payload validation error: 'Additional properties not allowed: ${key}'.`,
        );
      }
    }
    if (typeof body.name !== "string" || body.name.length === 0) {
      throw new HttpError(400, "Bad Request", "Payload validation error: 'name' is required");
    }
    if (findAction(body.name)) {
      throw new HttpError(409, "Conflict", "An action with this name already exists.");
    }
    const now = new Date().toISOString();
    const runtime = (body.runtime as string | undefined) ?? "node22";
    if (!RUNTIMES.has(runtime))
      throw new HttpError(400, "Bad Request", `Unknown runtime ${runtime}`);
    const action: StoredAction = {
      id: randomUUID(),
      name: body.name,
      code: typeof body.code === "string" ? body.code : "",
      runtime,
      dependencies: Array.isArray(body.dependencies) ? body.dependencies : [],
      secrets: body.secrets === undefined ? [] : validateSecrets(body.secrets, now),
      supported_triggers: validateTriggers(body.supported_triggers),
      created_at: now,
      updated_at: now,
      builtAt: Date.now() + buildDelayMs,
      draftRevision: 1,
      versions: [],
      deployedVersionId: null,
    };
    actions.set(action.id, action);
    return action;
  }

  function updateAction(a: StoredAction, body: Record<string, unknown>): void {
    for (const key of Object.keys(body)) {
      if (!ACTION_FIELDS.has(key)) {
        throw new HttpError(
          400,
          "Bad Request",
          `Payload validation error: 'Additional properties not allowed: ${key}'.`,
        );
      }
    }
    const now = new Date().toISOString();
    if (body.name !== undefined) {
      if (typeof body.name !== "string" || !body.name)
        throw new HttpError(400, "Bad Request", "Bad name");
      const other = findAction(body.name);
      if (other && other.id !== a.id) throw new HttpError(409, "Conflict", "Name already used.");
      a.name = body.name;
    }
    if (body.code !== undefined) {
      if (typeof body.code !== "string") throw new HttpError(400, "Bad Request", "Bad code");
      a.code = body.code;
    }
    if (body.runtime !== undefined) {
      if (!RUNTIMES.has(body.runtime as string))
        throw new HttpError(400, "Bad Request", "Bad runtime");
      a.runtime = body.runtime as string;
    }
    if (body.dependencies !== undefined) a.dependencies = body.dependencies as unknown[];
    if (body.supported_triggers !== undefined) {
      a.supported_triggers = validateTriggers(body.supported_triggers);
    }
    // The list sent replaces the Action's secrets; values are write-only.
    if (body.secrets !== undefined) a.secrets = validateSecrets(body.secrets, now);
    a.updated_at = now;
    a.draftRevision += 1;
    a.builtAt = Date.now() + buildDelayMs;
  }

  function deployAction(a: StoredAction) {
    if (status(a) !== "built") {
      throw new HttpError(
        400,
        "Bad Request",
        "An action must be in the 'built' state before it can be deployed.",
        "invalid_body",
      );
    }
    const now = new Date().toISOString();
    const version: StoredVersion = {
      id: randomUUID(),
      number: a.versions.length + 1,
      code: a.code,
      runtime: a.runtime,
      dependencies: structuredClone(a.dependencies),
      secrets: a.secrets.map((s) => ({ ...s })),
      supported_triggers: a.supported_triggers.map((t) => ({ ...t })),
      created_at: now,
      draftRevision: a.draftRevision,
    };
    a.versions.push(version);
    a.deployedVersionId = version.id;
    emulator.afterDeploy?.(a, version);
    return versionOut(a, version);
  }

  function updateBindings(triggerId: string, body: Record<string, unknown>) {
    const trigger = TRIGGERS.find((t) => t.id === triggerId && t.status === "CURRENT");
    if (!trigger) throw new HttpError(404, "Not Found", `Unknown trigger ${triggerId}`);
    if (!Array.isArray(body.bindings)) {
      throw new HttpError(400, "Bad Request", "Payload validation error: 'bindings' is required");
    }
    const now = new Date().toISOString();
    const old = bindings.get(triggerId) ?? [];
    const next: StoredBinding[] = body.bindings.map((entry: Record<string, unknown>) => {
      const ref = entry?.ref as { type?: string; value?: string } | undefined;
      let action: StoredAction | undefined;
      if (ref?.type === "action_name") action = findAction(String(ref.value));
      else if (ref?.type === "action_id") action = actions.get(String(ref.value));
      else throw new HttpError(400, "Bad Request", "Payload validation error: 'ref.type'");
      if (!action) {
        throw new HttpError(404, "Not Found", `The action ${String(ref.value)} does not exist.`);
      }
      const version = deployedVersion(action);
      if (!version) {
        throw new HttpError(400, "Bad Request", `The action ${action.name} has not been deployed.`);
      }
      if (!version.supported_triggers.some((t) => t.id === triggerId)) {
        throw new HttpError(
          400,
          "Bad Request",
          `The action ${action.name} does not support ${triggerId}.`,
        );
      }
      const kept = old.find((b) => b.actionId === action.id);
      return {
        id: kept?.id ?? randomUUID(),
        actionId: action.id,
        display_name: typeof entry.display_name === "string" ? entry.display_name : action.name,
        created_at: kept?.created_at ?? now,
        updated_at: now,
      };
    });
    if (new Set(next.map((b) => b.actionId)).size !== next.length) {
      throw new HttpError(400, "Bad Request", "An action can be bound only once per trigger.");
    }
    bindings.set(triggerId, next);
    return { bindings: next.map((b) => bindingOut(triggerId, b)) };
  }

  function createEventStream(body: Record<string, unknown>): StoredEventStream {
    onlyFields(body, [...STREAM_FIELDS], "body");
    const name = body.name;
    if (typeof name !== "string" || name.length < 1 || name.length > 128) {
      throw invalid("'name' must be a string of 1 to 128 characters");
    }
    const status = body.status ?? "enabled";
    if (status !== "enabled" && status !== "disabled") throw invalid("'status'");
    const now = new Date().toISOString();
    const stream: StoredEventStream = {
      id: `est_${randomUUID().replace(/-/g, "").slice(0, 22)}`,
      name,
      status,
      subscriptions: validateSubscriptions(body.subscriptions),
      destination: validateWebhookDestination(body.destination),
      created_at: now,
      updated_at: now,
    };
    eventStreams.set(stream.id, stream);
    return stream;
  }

  function updateEventStream(stream: StoredEventStream, body: Record<string, unknown>) {
    onlyFields(body, [...STREAM_FIELDS], "body");
    // Validate everything before changing anything.
    const next = { ...stream };
    if (body.name !== undefined) {
      if (typeof body.name !== "string" || body.name.length < 1 || body.name.length > 128) {
        throw invalid("'name' must be a string of 1 to 128 characters");
      }
      next.name = body.name;
    }
    if (body.status !== undefined) {
      if (body.status !== "enabled" && body.status !== "disabled") throw invalid("'status'");
      next.status = body.status;
    }
    if (body.subscriptions !== undefined) {
      next.subscriptions = validateSubscriptions(body.subscriptions);
    }
    if (body.destination !== undefined) {
      const type = (body.destination as { type?: unknown } | null)?.type;
      if (type !== undefined && type !== stream.destination.type) {
        throw invalid("a destination's type cannot be changed");
      }
      next.destination = validateWebhookDestination({ type: "webhook", ...body.destination });
    }
    next.updated_at = new Date().toISOString();
    eventStreams.set(stream.id, next);
    return next;
  }

  function listEventStreams(query: Record<string, string>) {
    const take = query.take === undefined ? 50 : Number(query.take);
    if (!Number.isInteger(take) || take < 1 || take > 100) {
      throw new HttpError(400, "Bad Request", "Query validation error: 'take' must be 1..100");
    }
    // The cursor is opaque to clients; here it is the base64url of the next offset.
    const from =
      query.from === undefined ? 0 : Number(Buffer.from(query.from, "base64url").toString());
    if (!Number.isInteger(from) || from < 0) {
      throw new HttpError(400, "Bad Request", "Query validation error: 'from' is not a cursor");
    }
    const all = [...eventStreams.values()];
    const page = all.slice(from, from + take).map(streamOut);
    const more = from + take < all.length;
    return {
      eventStreams: page,
      ...(more ? { next: Buffer.from(String(from + take)).toString("base64url") } : {}),
    };
  }

  function route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): [number, unknown] {
    // Like Auth0, refuse query parameters an endpoint does not take (e.g. include_totals on the
    // Actions lists), instead of ignoring them.
    const allowed = GET_QUERY.find(([re]) => re.test(path))?.[1] ?? ["page", "per_page"];
    const extra = method === "GET" ? Object.keys(query).filter((k) => !allowed.includes(k)) : [];
    if (extra.length > 0) {
      throw new HttpError(
        400,
        "Bad Request",
        `Query validation error: 'Additional properties not allowed: ${extra.join(",")}'.`,
        "invalid_query_string",
      );
    }
    const input = (body ?? {}) as Record<string, unknown>;
    const m = (re: RegExp) => re.exec(path);
    let match: RegExpExecArray | null;
    if (method === "GET" && path === "/api/v2/actions/actions") {
      let list = [...actions.values()];
      if (query.actionName) list = list.filter((a) => a.name === query.actionName);
      if (query.triggerId) {
        list = list.filter((a) => a.supported_triggers.some((t) => t.id === query.triggerId));
      }
      if (query.deployed === "true") list = list.filter((a) => a.deployedVersionId !== null);
      return [200, paged(list.map(actionOut), query, "actions")];
    }
    if (method === "POST" && path === "/api/v2/actions/actions") {
      return [201, actionOut(createAction(input))];
    }
    if ((match = m(/^\/api\/v2\/actions\/actions\/([^/]+)$/))) {
      const a = getAction(decodeURIComponent(match[1]));
      if (method === "GET") return [200, actionOut(a)];
      if (method === "PATCH") {
        updateAction(a, input);
        return [200, actionOut(a)];
      }
      if (method === "DELETE") {
        const bound = [...bindings.values()].some((list) => list.some((b) => b.actionId === a.id));
        if (bound && query.force !== "true") {
          throw new HttpError(400, "Bad Request", "The action is bound; delete with force=true.");
        }
        for (const [trigger, list] of bindings) {
          bindings.set(
            trigger,
            list.filter((b) => b.actionId !== a.id),
          );
        }
        actions.delete(a.id);
        return [204, undefined];
      }
    }
    if (method === "POST" && (match = m(/^\/api\/v2\/actions\/actions\/([^/]+)\/deploy$/))) {
      return [200, deployAction(getAction(decodeURIComponent(match[1])))];
    }
    if (method === "GET" && (match = m(/^\/api\/v2\/actions\/actions\/([^/]+)\/versions$/))) {
      const a = getAction(decodeURIComponent(match[1]));
      const list = [...a.versions].reverse().map((v) => versionOut(a, v));
      return [200, paged(list, query, "versions")];
    }
    if (
      method === "GET" &&
      (match = m(/^\/api\/v2\/actions\/actions\/([^/]+)\/versions\/([^/]+)$/))
    ) {
      const a = getAction(decodeURIComponent(match[1]));
      const v = a.versions.find((x) => x.id === decodeURIComponent(match![2]));
      if (!v) throw new HttpError(404, "Not Found", "The version does not exist.");
      return [200, versionOut(a, v)];
    }
    if (method === "GET" && path === "/api/v2/actions/modules") {
      return [200, paged([], query, "modules")];
    }
    if (method === "GET" && path === "/api/v2/actions/triggers") {
      return [
        200,
        {
          triggers: TRIGGERS.map((t) => ({
            ...t,
            runtimes: ["node18", "node22"],
            compatible_triggers: [],
            binding_policy: "trigger-bound",
          })),
        },
      ];
    }
    if ((match = m(/^\/api\/v2\/actions\/triggers\/([^/]+)\/bindings$/))) {
      const triggerId = decodeURIComponent(match[1]);
      if (method === "GET") {
        if (!TRIGGERS.some((t) => t.id === triggerId)) {
          throw new HttpError(404, "Not Found", `Unknown trigger ${triggerId}`);
        }
        const list = (bindings.get(triggerId) ?? []).map((b) => bindingOut(triggerId, b));
        return [200, paged(list, query, "bindings")];
      }
      if (method === "PATCH") return [200, updateBindings(triggerId, input)];
    }
    if (path === "/api/v2/event-streams") {
      if (method === "GET") return [200, listEventStreams(query)];
      if (method === "POST") return [201, streamOut(createEventStream(input))];
    }
    if ((match = m(/^\/api\/v2\/event-streams\/([^/]+)$/))) {
      const id = decodeURIComponent(match[1]);
      const stream = eventStreams.get(id);
      if (stream && method === "GET") return [200, streamOut(stream)];
      if (stream && method === "PATCH") return [200, streamOut(updateEventStream(stream, input))];
      if (stream && method === "DELETE") {
        eventStreams.delete(id);
        return [204, undefined];
      }
      if (!stream && ["GET", "PATCH", "DELETE"].includes(method)) {
        throw new HttpError(404, "Not Found", "The event stream does not exist.");
      }
    }
    unknownRoutes.push(`${method} ${path}`);
    throw new HttpError(404, "Not Found", `No route ${method} ${path} in the emulator.`);
  }

  function token(body: Record<string, unknown>): [number, unknown] {
    const ok =
      body.grant_type === "client_credentials" &&
      typeof body.client_id === "string" &&
      typeof body.client_secret === "string" &&
      sameSecret(body.client_id, options.clientId) &&
      sameSecret(body.client_secret, options.clientSecret);
    if (!ok) {
      return [401, { error: "access_denied", error_description: "Unauthorized" }];
    }
    if (body.audience !== `https://${domain}/api/v2/`) {
      return [403, { error: "access_denied", error_description: "Service not found" }];
    }
    const accessToken = randomUUID();
    tokens.add(accessToken);
    return [
      200,
      {
        access_token: accessToken,
        token_type: "Bearer",
        expires_in: 86400,
        scope:
          "read:actions create:actions update:actions read:event_streams create:event_streams update:event_streams",
      },
    ];
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", `https://${domain}`);
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? "GET";
    const text = await readBody(req);
    let body: unknown = undefined;
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      body: undefined,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    const send = (statusCode: number, payload: unknown) => {
      record.status = statusCode;
      const nowS = Math.floor(Date.now() / 1000);
      if (nowS !== windowStart) {
        windowStart = nowS;
        windowCount = 0;
      }
      res.setHeader("x-ratelimit-limit", String(rateLimit));
      res.setHeader("x-ratelimit-remaining", String(Math.max(0, rateLimit - windowCount)));
      res.setHeader("x-ratelimit-reset", String(windowStart + 1));
      if (payload === undefined) {
        res.writeHead(statusCode).end();
      } else {
        res.writeHead(statusCode, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(payload));
      }
    };
    const nowS = Math.floor(Date.now() / 1000);
    if (nowS !== windowStart) {
      windowStart = nowS;
      windowCount = 0;
    }
    windowCount += 1;
    if (windowCount > rateLimit) {
      res.setHeader("retry-after", "1");
      send(429, {
        statusCode: 429,
        error: "Too Many Requests",
        message: "Global limit has been reached",
        errorCode: "too_many_requests",
      });
      return;
    }
    try {
      if (text) {
        const type = req.headers["content-type"] ?? "";
        body = type.includes("application/x-www-form-urlencoded")
          ? Object.fromEntries(new URLSearchParams(text))
          : JSON.parse(text);
      }
    } catch {
      send(400, { statusCode: 400, error: "Bad Request", message: "Invalid JSON" });
      return;
    }
    record.body = body;
    if (method === "POST" && url.pathname === "/oauth/token") {
      const [code, payload] = token((body ?? {}) as Record<string, unknown>);
      send(code, payload);
      return;
    }
    if (!url.pathname.startsWith("/api/v2/")) {
      unknownRoutes.push(`${method} ${url.pathname}`);
      send(404, { statusCode: 404, error: "Not Found", message: "Not found" });
      return;
    }
    const auth = req.headers.authorization ?? "";
    const bearer = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!tokens.has(bearer)) {
      send(401, {
        statusCode: 401,
        error: "Unauthorized",
        message: "Missing or invalid token",
        errorCode: "invalid_token",
      });
      return;
    }
    try {
      const [code, payload] = route(method, url.pathname, query, body);
      send(code, payload);
    } catch (err) {
      if (err instanceof HttpError) {
        send(err.status, {
          statusCode: err.status,
          error: err.error,
          message: err.message,
          ...(err.errorCode ? { errorCode: err.errorCode } : {}),
        });
      } else {
        send(500, { statusCode: 500, error: "Internal Server Error", message: String(err) });
      }
    }
  }

  const server: Server = createServer(
    { key: options.tls.key, cert: options.tls.cert },
    (req, res) => {
      handle(req, res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  domain = `127.0.0.1:${address.port}`;

  const emulator: ManagementApiEmulator = {
    afterDeploy: undefined,
    domain,
    actions,
    bindings,
    eventStreams,
    requests,
    unknownRoutes,
    writes: () => requests.filter((r) => r.method !== "GET" && r.path !== "/oauth/token"),
    seedDeployedAction(name, code) {
      const a = createAction({
        name,
        code,
        runtime: "node22",
        supported_triggers: [{ id: "post-login", version: "v3" }],
      });
      a.builtAt = Date.now();
      deployAction(a);
      return a;
    },
    seedBindings(triggerId, list) {
      const now = new Date().toISOString();
      bindings.set(
        triggerId,
        list.map((entry) => {
          const a = findAction(entry.actionName);
          if (!a) throw new Error(`seedBindings: no action ${entry.actionName}`);
          return {
            id: randomUUID(),
            actionId: a.id,
            display_name: entry.displayName,
            created_at: now,
            updated_at: now,
          };
        }),
      );
    },
    boundActions(triggerId) {
      return (bindings.get(triggerId) ?? []).map((b) => ({
        name: actions.get(b.actionId)?.name ?? "(deleted)",
        displayName: b.display_name,
      }));
    },
    findAction,
    deployedVersion,
    seedEventStream: (body) => createEventStream(body),
    findEventStream: (name) => [...eventStreams.values()].find((s) => s.name === name),
    setRateLimit(perSecond) {
      rateLimit = perSecond;
    },
    finishBuilds() {
      for (const a of actions.values()) a.builtAt = Math.min(a.builtAt, Date.now());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return emulator;
}
