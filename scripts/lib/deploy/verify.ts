/**
 * The verification after an import: the tenant is read again and must hold exactly what was
 * planned (the same differences the plan computes, now none), and the Convex deployment must
 * accept a request signed the way the Action will sign it (server/login/pingRoute.ts). Only then is a
 * deploy "verified".
 */
import type { ManagementClient } from "auth0";
import { normalizeIssuer } from "../../../server/tokenIdentifier";
import { checkConvexSide, type CheckResult } from "../convexPing";
import {
  findActionByName,
  listBindings,
  listEventStreams,
  type TenantEventStream,
} from "../managementApi";
import type { DeployInputs, LocalBundle } from "./inputs";
import {
  actionDifferences,
  eventStreamDifferences,
  parseTrailer,
  sameBindings,
  type EventStreamPlan,
  type PlannedBinding,
} from "./plan";
import { TRIGGER_ID, type TenantSpec } from "./spec";

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
  /** The Convex deployment's checks, through the signed ping. */
  convex: CheckResult[];
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

/** Re-reads the tenant and checks it holds exactly what was planned. */
export async function verifyTenant(
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
  const problems = actionDifferences(spec, bundle, inputs, fingerprint, tenant).map(
    (d) => d.detail,
  );
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
  const deployed = tenant?.deployed;
  return {
    ok: problems.length === 0,
    problems,
    actionId: tenant?.id ?? null,
    version: deployed?.number ?? null,
    header: deployed ? deployed.code.split("\n", 1)[0] : null,
    commit: deployed ? (parseTrailer(deployed.code)?.commit ?? null) : null,
    bindings,
    eventStream: stream,
    convex: [],
  };
}

/**
 * The deploy's last step: the signed ping, with the secret and URL just written into the Action.
 * Returns every check; the failed ones are the deploy's problems.
 */
export async function verifyConvex(inputs: DeployInputs): Promise<CheckResult[]> {
  const { checks } = await checkConvexSide({
    origin: new URL(inputs.secretValues.get("CONVEX_HTTP_URL") ?? "").origin,
    secret: inputs.secretValues.get("AUTH0_ACTION_SECRET") ?? "",
    actionIssuer: normalizeIssuer(inputs.domain),
  });
  return checks;
}
