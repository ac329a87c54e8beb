/**
 * What a deploy would change, computed from one read of the tenant. The binding list a0deploy
 * writes REPLACES the trigger's list, so it is computed from the tenant's current one: every other
 * bound Action keeps its place and display name, and ours goes where configured (default last).
 * The Action is re-imported only when {@link actionDifferences} finds a difference. Secret values
 * are write-only in Auth0, so the deployed code ends with a trailer holding an HMAC (keyed by
 * AUTH0_ACTION_SECRET) over the bundle hash, runtime and every secret value: comparing it tells
 * whether anything changed without ever reading a secret back.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { ORGANIZATION_EVENT_TYPES } from "../../../server/events/organizationEvents";
import type { TenantAction, TenantBinding, TenantEventStream } from "../managementApi";
import type { BindingPosition, DeployInputs, LocalBundle } from "./inputs";
import {
  DeployInputError,
  ENDPOINT_VARIABLE,
  RUNTIME,
  TRIGGER_ID,
  type EventStreamSpec,
  type TenantSpec,
} from "./spec";

/** The last line the deploy appends to the code it imports. */
export const TRAILER_PATTERN =
  /^\/\/ convex-auth0-users deploy commit=(\S+) fingerprint=([0-9a-f]{64})$/;

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

export function sameBindings(a: PlannedBinding[], b: PlannedBinding[]): boolean {
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

/**
 * The event types the stream subscribes to: tenant.yaml's (the user events), and the organization
 * events when organizations are synced (AUTH0_EVENTS_ORGANIZATIONS=true).
 */
export function streamSubscriptions(spec: EventStreamSpec, organizations: boolean): string[] {
  const extra = organizations
    ? ORGANIZATION_EVENT_TYPES.filter((t) => !spec.subscriptions.includes(t))
    : [];
  return [...spec.subscriptions, ...extra];
}

/** The same event types, in any order. */
const sameSet = (a: string[], b: string[]) =>
  JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());

/** The stream's endpoint: CONVEX_HTTP_URL (without trailing slashes) and the declared path. */
export function eventStreamEndpoint(spec: EventStreamSpec, inputs: DeployInputs): string {
  const site = (inputs.secretValues.get(ENDPOINT_VARIABLE) ?? "").replace(/\/+$/, "");
  return `${site}${spec.endpointPath}`;
}

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
    subscriptions: streamSubscriptions(spec, inputs.organizationEvents),
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
  const reasons = eventStreamDifferences(tenant, base.endpoint, base.subscriptions).map(
    (d) => d.found,
  );
  if (force && reasons.length === 0) reasons.push(force);
  return { ...base, change: reasons.length > 0 ? "update" : "none", reasons, tenant };
}

/**
 * How a stream read from the tenant differs from the declared endpoint and subscriptions: each
 * difference as what was found (a sentence) and what was expected. The plan and the verification
 * both use it.
 */
export function eventStreamDifferences(
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

/** One way the tenant differs from this run's Action: `reason` for the plan, `detail` (with what
 * was expected) for the verification. */
export interface Difference {
  reason: string;
  detail: string;
}

const sameNames = (a: string[], b: string[]) =>
  JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/**
 * Every way the tenant's Action differs from what this run deploys. The plan re-imports when the
 * list is not empty; the verification fails when, after the import, it still is not.
 */
export function actionDifferences(
  spec: TenantSpec,
  bundle: LocalBundle,
  inputs: DeployInputs,
  fingerprint: string,
  tenant: TenantAction | undefined,
): Difference[] {
  const name = spec.actionName;
  if (!tenant) {
    return [
      { reason: "the Action does not exist", detail: `Action "${name}" is not in the tenant` },
    ];
  }
  const out: Difference[] = [];
  const wantedSecrets = [...inputs.secretValues.keys()];
  const deployed = tenant.deployed;
  if (!deployed) {
    out.push({
      reason: "no version is deployed",
      detail: `Action "${name}" has no deployed version`,
    });
  } else {
    const header = deployed.code.split("\n", 1)[0];
    if (header !== bundle.header) {
      out.push({
        reason: "the deployed code is a different build",
        detail: `the deployed code starts with "${header}", not the local build header "${bundle.header}"`,
      });
    } else if (!sameFingerprint(parseTrailer(deployed.code)?.fingerprint, fingerprint)) {
      out.push({
        reason: "secret values or settings differ from the deployed version",
        detail: "the deployed version was not made from this run's secrets and settings",
      });
    }
    if (!deployed.deployed) {
      out.push({
        reason: "the version is not marked deployed",
        detail: "the Action's version is not marked deployed",
      });
    }
    if (deployed.status !== "built") {
      out.push({
        reason: `the deployed version is ${deployed.status ?? "(no status)"}`,
        detail: `the deployed version's status is ${deployed.status}, not built`,
      });
    }
    if (deployed.runtime !== RUNTIME) {
      out.push({
        reason: `the runtime is ${deployed.runtime}`,
        detail: `the deployed runtime is ${deployed.runtime}, not ${RUNTIME}`,
      });
    }
    if (!sameNames(deployed.secretNames, wantedSecrets)) {
      out.push({
        reason: "the deployed secrets are not the declared ones",
        detail: `the deployed secrets are [${deployed.secretNames.join(", ")}], expected [${[...wantedSecrets].sort().join(", ")}]`,
      });
    }
  }
  if (!tenant.allChangesDeployed) {
    out.push({
      reason: "the draft has undeployed changes",
      detail: "the Action's draft has undeployed changes",
    });
  }
  const triggersMatch = spec.supportedTriggers.every((t) =>
    tenant.supportedTriggers.some((x) => x.id === t.id && x.version === t.version),
  );
  if (!triggersMatch) {
    const list = (ts: { id: string; version: string }[]) =>
      ts.map((t) => `${t.id} ${t.version}`).join(", ");
    out.push({
      reason: "the supported triggers differ",
      detail: `the supported triggers are [${list(tenant.supportedTriggers)}], expected [${list(spec.supportedTriggers)}]`,
    });
  }
  return out;
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
  const reasons = actionDifferences(spec, bundle, inputs, fingerprint, tenant).map((d) => d.reason);
  if (tenant && force && reasons.length === 0) reasons.push("--force");
  const deployed = tenant?.deployed;
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
      reasons,
      localHeader: bundle.header,
      tenantHeader: deployed ? deployed.code.split("\n", 1)[0] : null,
      tenantVersion: deployed?.number ?? null,
      tenantCommit: deployed ? (parseTrailer(deployed.code)?.commit ?? null) : null,
    },
    secrets: [
      ...[...inputs.secretValues.keys()].map((name) => ({ name, state: "set" as const })),
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
