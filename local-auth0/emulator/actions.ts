/**
 * Actions in the Management API emulator: actions, versions, deploy, modules, triggers and trigger
 * bindings, as auth0-deploy-cli and the deploy script use them.
 * - a created or updated Action is `pending` for a while before it is `built`, and deploying it
 *   before then fails with "must be in the 'built' state";
 * - secret values are write-only: reads return only `name` and `updated_at`;
 * - `PATCH /actions/triggers/{id}/bindings` replaces the trigger's whole list, and only deployed
 *   Actions that support the trigger can be bound.
 */
import { randomUUID } from "node:crypto";
import { HttpError, paged, requireScope, type EmulatorResource } from "./common";

export interface StoredSecret {
  name: string;
  value: string;
  updated_at: string;
}

export interface TriggerRef {
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
];

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

export interface ActionsState {
  resource: EmulatorResource;
  actions: Map<string, StoredAction>;
  bindings: Map<string, StoredBinding[]>;
  findAction(name: string): StoredAction | undefined;
  deployedVersion(action: StoredAction): StoredVersion | undefined;
  seedDeployedAction(name: string, code: string): StoredAction;
  seedBindings(triggerId: string, list: { actionName: string; displayName: string }[]): void;
  boundActions(triggerId: string): { name: string; displayName: string }[];
  finishBuilds(): void;
}

/** The Actions area of a tenant. `afterDeploy` is read at each deploy (tests may set it late). */
export function createActions(options: {
  buildDelayMs: number;
  afterDeploy: () => ((action: StoredAction, version: StoredVersion) => void) | undefined;
}): ActionsState {
  const { buildDelayMs } = options;
  const actions = new Map<string, StoredAction>();
  const bindings = new Map<string, StoredBinding[]>();

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
    options.afterDeploy()?.(a, version);
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

  const resource: EmulatorResource = {
    getQuery: GET_QUERY,
    route(req) {
      const { method, path, query, body } = req;
      if (!path.startsWith("/api/v2/actions/")) return undefined;
      requireScope(
        req,
        method === "GET"
          ? "read:actions"
          : method === "POST" && path === "/api/v2/actions/actions"
            ? "create:actions"
            : method === "DELETE"
              ? "delete:actions"
              : "update:actions",
      );
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
          const bound = [...bindings.values()].some((list) =>
            list.some((b) => b.actionId === a.id),
          );
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
      return undefined;
    },
  };

  return {
    resource,
    actions,
    bindings,
    findAction,
    deployedVersion,
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
    finishBuilds() {
      for (const a of actions.values()) a.builtAt = Math.min(a.builtAt, Date.now());
    },
  };
}
