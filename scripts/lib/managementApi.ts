/**
 * Access to the Auth0 Management API through the official `auth0` SDK (client-credentials token,
 * retries on 429/5xx honouring the rate-limit headers, pagination): the client every command
 * builds, and the read-only calls the deploy makes (its writes are auth0-deploy-cli's job).
 */
import { ManagementClient } from "auth0";

/** Credentials of the machine-to-machine application the deploy uses. */
export interface ManagementCredentials {
  /** Tenant domain, e.g. `tenant.us.auth0.com` (the SDK always calls `https://{domain}`). */
  domain: string;
  clientId: string;
  clientSecret: string;
}

/** The facts about one Action that the deploy compares and verifies. */
export interface TenantAction {
  id: string;
  name: string;
  status: string | undefined;
  runtime: string | undefined;
  allChangesDeployed: boolean;
  /** Secret names of the draft (values are write-only in Auth0). */
  secretNames: string[];
  supportedTriggers: { id: string; version: string }[];
  deployed:
    | {
        id: string;
        number: number | undefined;
        deployed: boolean;
        status: string | undefined;
        code: string;
        runtime: string | undefined;
        secretNames: string[];
      }
    | undefined;
}

/** One trigger binding, in the trigger's order. */
export interface TenantBinding {
  actionId: string;
  actionName: string;
  displayName: string;
}

/**
 * The readable facts about one event stream. Auth0 never returns a webhook's credentials (the
 * bearer token), so only the authorization method is known.
 */
export interface TenantEventStream {
  id: string;
  name: string;
  status: string | undefined;
  subscriptions: string[];
  destinationType: string | undefined;
  endpoint: string | undefined;
  authorizationMethod: string | undefined;
}

/** Thrown for a failed Management API call, with a message safe to print. */
export class ManagementApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status Auth0 answered, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "ManagementApiError";
  }
}

const TOKEN_ATTEMPTS = 5;
const MAX_WAIT_MS = 60_000;

/** How long a 429 asks to wait: `Retry-After` seconds, else until `X-RateLimit-Reset`. */
function rateLimitWait(response: Response, attempt: number): number {
  const retryAfter = Number(response.headers.get("retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter > 0)
    return Math.min(retryAfter * 1000, MAX_WAIT_MS);
  const reset = Number(response.headers.get("x-ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) {
    return Math.min(Math.max(reset * 1000 - Date.now(), 0) + 100, MAX_WAIT_MS);
  }
  return Math.min(1000 * 2 ** attempt, MAX_WAIT_MS);
}

/**
 * The request budget the tenant last announced (`x-ratelimit-limit`, `-remaining`, `-reset`),
 * spent locally as requests leave, so concurrent callers queue for the next window instead of
 * collecting 429s (on a Free-plan tenant, 2 requests/s, a long listing paces itself).
 */
class RateBudget {
  private limit = 0;
  private remaining = Infinity;
  private resetMs = 0;
  /** The window was assumed (the last one ended), not announced. */
  private assumed = false;

  /** Waits until the budget allows one more request, and spends it. */
  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (now >= this.resetMs && this.limit > 0) {
        // The window has passed: assume a full budget until the next answer says otherwise.
        this.remaining = this.limit;
        this.resetMs = now + 1000;
        this.assumed = true;
      }
      if (this.remaining > 0) {
        this.remaining--;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(this.resetMs - now + 20, MAX_WAIT_MS)));
    }
  }

  /** Takes the tenant's word from an answer's headers (never more than was spent locally since). */
  update(response: Response): void {
    const limit = Number(response.headers.get("x-ratelimit-limit"));
    const remaining = Number(response.headers.get("x-ratelimit-remaining"));
    const reset = Number(response.headers.get("x-ratelimit-reset"));
    if (!(limit > 0) || !Number.isFinite(remaining) || !(reset > 0)) return;
    const now = Date.now();
    const resetMs = Math.min(reset * 1000, now + MAX_WAIT_MS);
    // An answer about a window that is over, or older than the one known, says nothing new.
    if (resetMs <= now || (!this.assumed && resetMs < this.resetMs)) return;
    const left = response.status === 429 ? 0 : remaining;
    // Requests still on their way are not in the tenant's count yet: keep the lower figure.
    const sameWindow = this.assumed || resetMs === this.resetMs;
    this.remaining = sameWindow ? Math.min(this.remaining, left) : left;
    this.limit = limit;
    this.resetMs = resetMs;
    this.assumed = false;
  }
}

/**
 * The SDK retries Management API calls on 429 but not its own client-credentials token request;
 * the token endpoint is rate limited too, so that one call is retried here, honouring the headers.
 * Every request first waits for the tenant's announced budget ({@link RateBudget}). `onRequest`
 * sees every request sent, retries included.
 */
export function fetchRetryingToken(onRequest?: (url: string) => void): typeof fetch {
  const budget = new RateBudget();
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    for (let attempt = 0; ; attempt++) {
      await budget.take();
      onRequest?.(url);
      const response = await fetch(input, init);
      budget.update(response);
      const isToken = new URL(url).pathname.endsWith("/oauth/token");
      if (!isToken || response.status !== 429 || attempt === TOKEN_ATTEMPTS - 1) return response;
      await response.body?.cancel();
      await new Promise((r) => setTimeout(r, rateLimitWait(response, attempt)));
    }
  };
}

/**
 * Builds a ManagementClient for a machine-to-machine application. `onRequest` sees every HTTP
 * request the SDK sends (retries included), for commands that report their call counts. `token`
 * replaces the SDK's own token request (the reconcile checks which tenant issued its token).
 */
export function createManagementClient(
  credentials: ManagementCredentials,
  options: { onRequest?: (url: string) => void; token?: () => Promise<string> } = {},
): ManagementClient {
  if (options.token) {
    return new ManagementClient({
      domain: credentials.domain,
      token: options.token,
      maxRetries: 4,
      fetch: fetchRetryingToken(options.onRequest),
    });
  }
  return new ManagementClient({
    domain: credentials.domain,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    maxRetries: 4,
    fetch: fetchRetryingToken(options.onRequest),
  });
}

/**
 * When Auth0 refused the Management API's audience because AUTH0_DOMAIN is a custom domain (the
 * token endpoint answers 403 "Service not found: https://<custom>/api/v2/"), says so: otherwise
 * the error reads as if the credentials were wrong.
 */
export function customDomainProblem(err: unknown): string | undefined {
  const body = (err as { body?: { error_description?: unknown } }).body;
  const description = typeof body?.error_description === "string" ? body.error_description : "";
  const m = /^Service not found: https:\/\/([^/\s]+)\/api\/v2\/?$/.exec(description);
  if (!m) return undefined;
  return `AUTH0_DOMAIN (${m[1]}) is a custom domain: Auth0's Management API is served only from the tenant's own domain (e.g. tenant.us.auth0.com; Auth0 Dashboard -> Settings -> Custom Domains lists both). Set AUTH0_DOMAIN to the tenant domain, and AUTH0_CUSTOM_DOMAIN in Convex for the custom one`;
}

function describe(err: unknown, what: string): ManagementApiError {
  const custom = customDomainProblem(err);
  if (custom) return new ManagementApiError(`${what}: ${custom}`);
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 401 || status === 403) {
    return new ManagementApiError(
      `${what}: Auth0 answered ${status}. Check that AUTH0_DEPLOY_CLIENT_ID / AUTH0_DEPLOY_CLIENT_SECRET belong to a machine-to-machine application authorized for the Auth0 Management API with read:actions, create:actions and update:actions, and for the event stream read:event_streams, create:event_streams and update:event_streams (the read: scopes alone for a dry run)`,
      status,
    );
  }
  const first = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new ManagementApiError(`${what}: ${status ? `HTTP ${status} ` : ""}${first}`, status);
}

/** Finds an Action by its exact name (all pages), with its draft and deployed version. */
export async function findActionByName(
  client: ManagementClient,
  name: string,
): Promise<TenantAction | undefined> {
  let id: string | undefined;
  try {
    const page = await client.actions.list({ actionName: name, per_page: 100 });
    for await (const action of page) {
      if (action.name === name && action.id) {
        id = action.id;
        break;
      }
    }
  } catch (err) {
    throw describe(err, `listing Actions named "${name}"`);
  }
  if (!id) return undefined;
  try {
    const a = await client.actions.get(id);
    const v = a.deployed_version;
    return {
      id,
      name: a.name ?? name,
      status: a.status,
      runtime: a.runtime,
      allChangesDeployed: a.all_changes_deployed === true,
      secretNames: (a.secrets ?? []).map((s) => s.name ?? "").sort(),
      supportedTriggers: (a.supported_triggers ?? []).map((t) => ({
        id: String(t.id),
        version: String(t.version),
      })),
      deployed:
        v && v.id
          ? {
              id: v.id,
              number: v.number,
              deployed: v.deployed === true,
              status: v.status,
              code: v.code ?? "",
              runtime: v.runtime,
              secretNames: (v.secrets ?? []).map((s) => s.name ?? "").sort(),
            }
          : undefined,
    };
  } catch (err) {
    throw describe(err, `reading Action ${id}`);
  }
}

/** Lists a trigger's bindings in order (all pages). */
export async function listBindings(
  client: ManagementClient,
  triggerId: "post-login",
): Promise<TenantBinding[]> {
  const out: TenantBinding[] = [];
  try {
    const page = await client.actions.triggers.bindings.list(triggerId, { per_page: 100 });
    for await (const binding of page) {
      out.push({
        actionId: binding.action?.id ?? "",
        actionName: binding.action?.name ?? "",
        displayName: binding.display_name ?? binding.action?.name ?? "",
      });
    }
  } catch (err) {
    throw describe(err, `listing the ${triggerId} trigger's bindings`);
  }
  return out;
}

/** Lists every event stream in the tenant (all pages), webhook details included. */
export async function listEventStreams(client: ManagementClient): Promise<TenantEventStream[]> {
  const out: TenantEventStream[] = [];
  try {
    const page = await client.eventStreams.list();
    for await (const stream of page) {
      const destination = stream.destination as
        { type?: string; configuration?: Record<string, unknown> } | undefined;
      const configuration = destination?.configuration ?? {};
      const authorization = configuration.webhook_authorization as { method?: string } | undefined;
      out.push({
        id: stream.id ?? "",
        name: stream.name ?? "",
        status: stream.status,
        subscriptions: (stream.subscriptions ?? []).map((s) => String(s.event_type ?? "")),
        destinationType: destination?.type,
        endpoint:
          typeof configuration.webhook_endpoint === "string"
            ? configuration.webhook_endpoint
            : undefined,
        authorizationMethod: authorization?.method,
      });
    }
  } catch (err) {
    throw describe(err, "listing the tenant's event streams");
  }
  return out;
}

/** A failed delivery of an event stream, as `npm run doctor` reports it. */
export interface FailedDelivery {
  eventId: string;
  eventType: string;
  attempts: number;
  lastAttemptAt: string | undefined;
  lastError: string | undefined;
}

/** Lists a stream's failed deliveries (all pages; needs `read:event_deliveries`). */
export async function listFailedDeliveries(
  client: ManagementClient,
  streamId: string,
): Promise<FailedDelivery[]> {
  const out: FailedDelivery[] = [];
  try {
    const page = await client.eventStreams.deliveries.list(streamId, {
      statuses: "failed",
      take: 100,
    });
    for await (const delivery of page) {
      const last = delivery.attempts?.[delivery.attempts.length - 1];
      out.push({
        eventId: delivery.id,
        eventType: String(delivery.event_type),
        attempts: delivery.attempts?.length ?? 0,
        lastAttemptAt: last?.timestamp,
        lastError: last?.error_message,
      });
    }
  } catch (err) {
    throw describe(err, `listing the failed deliveries of event stream ${streamId}`);
  }
  return out;
}

/** Asks Auth0 to redeliver every failed delivery of a stream (needs `update:event_deliveries`). */
export async function redeliverFailed(client: ManagementClient, streamId: string): Promise<void> {
  try {
    await client.eventStreams.redeliveries.create(streamId, { statuses: ["failed"] });
  } catch (err) {
    throw describe(err, `redelivering the failed events of event stream ${streamId}`);
  }
}
