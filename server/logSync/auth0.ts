/**
 * The log sync's Management API client (see server/logSync/logSync.ts): a client-credentials token, and
 * GET calls that keep within Auth0's rate limits (a 429 waits until `x-ratelimit-reset`; a call
 * seen with no requests left waits before the next one) and within the run's time budget. Plain
 * code on `fetch`; nothing here logs or returns the token or the client secret.
 */
import { decodeJwt } from "jose";

/** The log sync's machine-to-machine application and its tenant. */
export interface LogSyncConfig {
  /** Tenant domain, e.g. `tenant.us.auth0.com` (never a custom domain). */
  domain: string;
  clientId: string;
  clientSecret: string;
}

/** Thrown when the run's time is up (waiting for a rate limit included): stop, resume next run. */
export class OutOfTime extends Error {
  constructor() {
    super("the run's time budget is spent");
    this.name = "OutOfTime";
  }
}

/** A failed call, with a message safe to store and show. */
export class Auth0CallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "Auth0CallError";
  }
}

/** A cached token: `scope` lists what the application was granted. */
export interface LogSyncToken {
  accessToken: string;
  scope: string;
  expiresAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a 429 (or an exhausted window) asks to wait, from Auth0's headers. */
function resetWait(response: Response, now: number): number {
  const retryAfter = Number(response.headers.get("retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const reset = Number(response.headers.get("x-ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now) + 50;
  return 1000;
}

/** `https://{domain}`, refusing anything but a bare host. */
export function tenantOrigin(domain: string): string {
  const host = domain
    .trim()
    .replace(/^https:\/\//, "")
    .replace(/\/$/, "");
  if (host === "" || /[/?#@\s]/.test(host)) {
    throw new Auth0CallError(
      "AUTH0_DOMAIN must be the tenant's bare domain, e.g. tenant.us.auth0.com",
    );
  }
  return `https://${host}`;
}

/** The `iss` of a Management API access token, undefined when it is not a readable JWT. */
export function tokenIssuer(accessToken: string): string | undefined {
  try {
    const iss = decodeJwt(accessToken).iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks `https://{domain}/oauth/token` for a Management API token (client credentials), waiting
 * out a 429 within `deadline` (the SDKs do not retry this call). The benches ask for theirs with
 * it too; `variables` names where the credentials come from, for the refusal's message.
 */
export async function requestToken(
  config: LogSyncConfig,
  deadline: number,
  variables = "AUTH0_LOGS_CLIENT_ID / AUTH0_LOGS_CLIENT_SECRET",
): Promise<LogSyncToken> {
  const origin = tenantOrigin(config.domain);
  for (;;) {
    const started = Date.now();
    const response = await fetch(`${origin}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "client_credentials",
        client_id: config.clientId,
        client_secret: config.clientSecret,
        audience: `${origin}/api/v2/`,
      }),
    });
    if (response.status === 429) {
      const wait = resetWait(response, Date.now());
      if (Date.now() + wait > deadline) throw new OutOfTime();
      await sleep(wait);
      continue;
    }
    const json = (await response.json().catch(() => null)) as {
      access_token?: unknown;
      expires_in?: unknown;
      scope?: unknown;
      error_description?: unknown;
    } | null;
    if (response.status !== 200 || typeof json?.access_token !== "string") {
      const why =
        typeof json?.error_description === "string"
          ? json.error_description.slice(0, 200)
          : "no details";
      throw new Auth0CallError(
        `Auth0 refused the client-credentials token (${response.status}: ${why}): check ${variables} and that the application is authorized for the Management API`,
        response.status,
      );
    }
    const lifetime = typeof json.expires_in === "number" ? json.expires_in * 1000 : 3_600_000;
    return {
      accessToken: json.access_token,
      scope: typeof json.scope === "string" ? json.scope : "",
      // Renewed a minute early, so a token never expires during a run.
      expiresAt: started + lifetime - 60_000,
    };
  }
}

/** A GET answer: the status and the parsed body. */
export interface Auth0Answer {
  status: number;
  json: unknown;
  /** When the answer arrived (ms): a 404's time is the deletion time. */
  at: number;
}

/** GET calls to one tenant with one token, counted, paced and bounded by `deadline`. */
export class ManagementReader {
  /** Management API calls made (429s included). */
  calls = 0;
  private readonly origin: string;
  private notBefore = 0;

  constructor(
    domain: string,
    private readonly accessToken: string,
    private readonly deadline: number,
  ) {
    this.origin = tenantOrigin(domain);
  }

  /** Whether `ms` more fit in the run. */
  hasTime(ms = 0): boolean {
    return Date.now() + ms < this.deadline;
  }

  /**
   * GETs `path` (with `query`). Answers 2xx and 404; throws {@link Auth0CallError} for other
   * statuses and {@link OutOfTime} when a wait would pass the deadline.
   */
  async get(path: string, query: Record<string, string> = {}): Promise<Auth0Answer> {
    const qs = new URLSearchParams(query).toString();
    const url = `${this.origin}${path}${qs ? `?${qs}` : ""}`;
    for (;;) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) {
        if (Date.now() + wait > this.deadline) throw new OutOfTime();
        await sleep(wait);
      }
      if (!this.hasTime()) throw new OutOfTime();
      this.calls += 1;
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${this.accessToken}`, accept: "application/json" },
      });
      const at = Date.now();
      if (response.headers.get("x-ratelimit-remaining") === "0") {
        this.notBefore = at + resetWait(response, at);
      }
      if (response.status === 429) {
        await response.body?.cancel();
        this.notBefore = at + resetWait(response, at);
        continue;
      }
      const json: unknown = await response.json().catch(() => null);
      if ((response.status >= 200 && response.status < 300) || response.status === 404) {
        return { status: response.status, json, at };
      }
      const body = (json ?? {}) as { message?: unknown; errorCode?: unknown };
      const message = typeof body.message === "string" ? body.message.slice(0, 200) : "no details";
      const hint =
        response.status === 403 ? " (the log sync's application lacks a scope it needs)" : "";
      throw new Auth0CallError(
        `Auth0 answered ${response.status} on GET ${path}: ${message}${hint}`,
        response.status,
      );
    }
  }
}
