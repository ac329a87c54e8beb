/**
 * The doctor's checks of the Auth0 tenant, through the Management API (read-only, except the
 * redelivery asked for with --redeliver): the Action is there, deployed, carries the local build
 * and runs at login; the event stream is enabled, subscribed and aimed at this deployment, with
 * no failed delivery left behind.
 */
import type { ManagementClient } from "auth0";
import type { CheckResult } from "../convexPing";
import {
  findActionByName,
  listBindings,
  listEventStreams,
  listFailedDeliveries,
  ManagementApiError,
  redeliverFailed,
  type FailedDelivery,
} from "../managementApi";
import { eventStreamDifferences, streamSubscriptions } from "../deploy/plan";
import { TRIGGER_ID, type TenantSpec } from "../deploy/spec";

export interface TenantCheckOptions {
  spec: TenantSpec;
  /** The local bundle's first line, or undefined when it is not built. */
  localHeader: string | undefined;
  /** The deployment origin from CONVEX_HTTP_URL, when valid. */
  origin: string | undefined;
  /** AUTH0_EVENTS_TOKEN is set: the stream is expected. */
  eventsExpected: boolean;
  /** AUTH0_EVENTS_ORGANIZATIONS=true: the stream also carries organization events. */
  organizationEvents: boolean;
  redeliver: boolean;
}

const TITLES = {
  exists: "the Action exists in the tenant",
  deployed: "the Action is deployed and built",
  build: "the deployed Action is the local build",
  bound: `the Action is bound to ${TRIGGER_ID} (it runs at login)`,
  stream: "the event stream is enabled, subscribed and aimed at this deployment",
  deliveries: "the event stream has no failed deliveries",
} as const;
type Id = keyof typeof TITLES;

const result = (id: Id, status: CheckResult["status"], detail: string): CheckResult => ({
  id: id === "stream" || id === "deliveries" ? `stream.${id}` : `action.${id}`,
  title: TITLES[id],
  status,
  detail,
});

/** Runs the tenant checks; a Management API failure fails the check it happened in. */
export async function tenantChecks(
  client: ManagementClient,
  o: TenantCheckOptions,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const name = o.spec.actionName;
  let action;
  try {
    action = await findActionByName(client, name);
  } catch (err) {
    return [
      result("exists", "fail", message(err)),
      ...(["deployed", "build", "bound", "stream", "deliveries"] as Id[]).map((id) =>
        result(id, "skip", "the tenant could not be read"),
      ),
    ];
  }
  if (!action) {
    out.push(result("exists", "fail", `no Action named "${name}": deploy it (npm run deploy)`));
    out.push(result("deployed", "skip", "the Action does not exist"));
    out.push(result("build", "skip", "the Action does not exist"));
  } else {
    out.push(result("exists", "pass", `${name} (${action.id})`));
    const v = action.deployed;
    if (!v || !v.deployed || v.status !== "built") {
      out.push(
        result(
          "deployed",
          "fail",
          !v
            ? "no version is deployed: npm run deploy:auth0 (or Deploy in the Dashboard)"
            : `the deployed version is ${v.status ?? "in no state"}: wait for the build, or deploy again`,
        ),
      );
    } else out.push(result("deployed", "pass", `version ${v.number ?? "?"}`));
    const header = v?.code.split("\n", 1)[0];
    if (!v) out.push(result("build", "skip", "no deployed version"));
    else if (o.localHeader === undefined) {
      out.push(result("build", "skip", "no local build to compare: npm run build"));
    } else if (header !== o.localHeader) {
      out.push(
        result(
          "build",
          "fail",
          `the tenant runs "${header}", this checkout builds "${o.localHeader}": deploy this version (npm run deploy:auth0)`,
        ),
      );
    } else out.push(result("build", "pass", header));
  }
  try {
    const bindings = await listBindings(client, TRIGGER_ID);
    const at = bindings.findIndex((b) => b.actionName === name);
    out.push(
      at === -1
        ? result(
            "bound",
            "fail",
            `not bound: logins never run it. npm run deploy:auth0 binds it (or Dashboard -> Actions -> Flows -> Login)`,
          )
        : result("bound", "pass", `position ${at + 1} of ${bindings.length}`),
    );
  } catch (err) {
    out.push(result("bound", "fail", message(err)));
  }
  out.push(...(await streamChecks(client, o)));
  return out;
}

async function streamChecks(client: ManagementClient, o: TenantCheckOptions) {
  const declared = o.spec.eventStream;
  if (!declared || !o.eventsExpected) {
    const why = "AUTH0_EVENTS_TOKEN is unset: real-time events are off";
    return [result("stream", "skip", why), result("deliveries", "skip", why)];
  }
  let stream;
  try {
    stream = (await listEventStreams(client)).find((s) => s.name === declared.name);
  } catch (err) {
    return [
      result("stream", "fail", message(err)),
      result("deliveries", "skip", "the streams could not be read"),
    ];
  }
  if (!stream) {
    return [
      result("stream", "fail", `no event stream named "${declared.name}": npm run deploy:auth0`),
      result("deliveries", "skip", "the stream does not exist"),
    ];
  }
  const out: CheckResult[] = [];
  const endpoint = o.origin ? `${o.origin}${declared.endpointPath}` : undefined;
  const differences = eventStreamDifferences(
    stream,
    endpoint ?? stream.endpoint ?? "",
    streamSubscriptions(declared, o.organizationEvents),
  );
  if (differences.length > 0) {
    const disabled = stream.status !== "enabled";
    out.push(
      result(
        "stream",
        "fail",
        `${differences.map((d) => `${d.found}, expected ${d.expected}`).join("; ")}. ${
          disabled
            ? "Auth0 disables a stream whose deliveries keep failing: fix the cause (failed deliveries below), then npm run deploy:auth0 re-enables it"
            : "npm run deploy:auth0 puts it back"
        }`,
      ),
    );
  } else out.push(result("stream", "pass", `${stream.id} -> ${stream.endpoint}`));
  out.push(await deliveriesCheck(client, stream.id, o.redeliver));
  return out;
}

async function deliveriesCheck(client: ManagementClient, streamId: string, redeliver: boolean) {
  let failed: FailedDelivery[];
  try {
    failed = await listFailedDeliveries(client, streamId);
  } catch (err) {
    if (err instanceof ManagementApiError && err.status === 403) {
      return result(
        "deliveries",
        "skip",
        "the Management API client lacks read:event_deliveries: grant it to list failed deliveries",
      );
    }
    return result("deliveries", "fail", message(err));
  }
  if (failed.length === 0) return result("deliveries", "pass", "none");
  if (redeliver) {
    try {
      await redeliverFailed(client, streamId);
      const left = await listFailedDeliveries(client, streamId);
      if (left.length === 0) {
        return result("deliveries", "pass", `redelivered ${failed.length}; none failed again`);
      }
      failed = left;
    } catch (err) {
      return result("deliveries", "fail", message(err));
    }
  }
  const examples = failed
    .slice(0, 3)
    .map((d) => `${d.eventType} ${d.eventId}: ${d.lastError ?? "no error recorded"}`)
    .join("; ");
  return result(
    "deliveries",
    "fail",
    `${failed.length} failed (${examples}). Fix the cause, then ${
      redeliver ? "redeliver again" : "npm run doctor -- --redeliver"
    }; redeliveries are deduplicated`,
  );
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}
