/**
 * Auth0 Post-Login Action (trigger post-login v3, runtime node22): reports every login to the
 * Convex deployment's `POST /auth0/upsert-user` route, so the `users` row exists and is current
 * before the app's first query, and puts the Organization and its roles in the ID token. The
 * user's metadata goes along (up to MAX_ACTION_METADATA_LENGTH) for the fields the app maps
 * from it; the deployment reads only those and stores nothing else of it.
 *
 * It FAILS OPEN: whatever Convex does (down, slow, an error, garbage), the handler resolves, the
 * login goes on and `api.access.deny` is never called; the browser's `auth0.store` backstop
 * provisions the row later. Each login writes exactly one log line saying what happened, and no
 * line ever holds the secret, the signed token or the body.
 *
 * Secrets, each read as a literal property access on the event's secrets object (never destructured
 * or by computed key), so the deploy check can list them from this source:
 * - CONVEX_HTTP_URL: the deployment's `https://<name>.convex.site` URL (not `.convex.cloud`).
 * - AUTH0_ACTION_SECRET: shared with the Convex deployment's env var of the same name.
 * - AUTH0_DOMAIN (optional): the tenant domain, used when `event.request.hostname` is missing.
 * - CLAIMS_NAMESPACE (optional): e.g. `https://myapp.example.com`; enables the org claims.
 * - CONVEX_TIMEOUT_MS (optional): budget for the whole call, retry included (default 2500).
 *
 * Built by scripts/build-action.ts into auth0-actions/dist/post-login.js (CommonJS).
 */
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";
import { profileFromAuth0User } from "../server/users/auth0Profile";
import { audienceFor, signRequest, UPSERT_USER_PATH } from "../server/http/signedRequest";
import { convexSiteOrigin } from "../server/http/siteUrl";
import { tokenIdentifier } from "../server/tokenIdentifier";

const TAG = "convex-auth0-users:";
/** Budget for the whole Convex call (signing, request, one retry), in ms. */
export const DEFAULT_TIMEOUT_MS = 2500;
// All Actions of a trigger share 20 s; never let this one take most of it.
const MAX_TIMEOUT_MS = 10_000;
const RETRY_DELAY_MS = 50;
/** Most of a reply the Action reads. The route's answers are under 1 KB; anything past this is a
 * broken or hostile host, and reading it whole would spend the memory every Action of the flow
 * shares (a gzip reply can inflate a thousandfold). */
export const MAX_REPLY_BYTES = 8 * 1024;
/** Longest metadata sent (the user's `app_metadata` and `user_metadata` as JSON, for the app's
 * mapped fields; the route reads only those). Auth0 keeps a profile near 10 kB; past this the
 * metadata stays home and those fields wait for an event, the log sync or the reconcile. */
export const MAX_ACTION_METADATA_LENGTH = 48 * 1024;
/** Most organization roles sent (the route accepts 100). */
const MAX_ORGANIZATION_ROLES = 100;
// Auth0 silently drops custom claims under these domains.
const RESERVED_CLAIM_HOSTS = /(^|\.)(auth0\.com|webtask\.io|webtask\.run)$/i;

interface Outcome {
  ok: boolean;
  message: string;
}

/** What one HTTP attempt gave. */
type Attempt =
  | { kind: "ok"; userId: string; created: boolean; refused: string[] }
  | { kind: "failed"; detail: string; retryable: boolean }
  | { kind: "timeout" };

/** What reading a reply gave: its text, or that it ran past {@link MAX_REPLY_BYTES}. */
type ReplyText = { text: string } | { tooLarge: true };

/**
 * The Action's entry point (`exports.onExecutePostLogin`). Never throws, never denies: the login
 * continues whatever happens here.
 */
export async function onExecutePostLogin(event: Event, api: PostLoginAPI): Promise<void> {
  const notes: string[] = [];
  // Values that must never reach a log line, whatever an error message contains.
  const redact: string[] = [];
  let outcome: Outcome;
  try {
    setOrganizationClaims(event, api, notes);
  } catch (err) {
    notes.push(`claims not set: ${describeError(err)}`);
  }
  try {
    outcome = await upsertUser(event, notes, redact);
  } catch (err) {
    outcome = { ok: false, message: `upsert failed: unexpected error: ${describeError(err)}` };
  }
  try {
    let line = `${TAG} ${outcome.message}`;
    if (notes.length > 0) line += ` [${notes.join("; ")}]`;
    for (const value of redact) if (value) line = line.split(value).join("[redacted]");
    if (outcome.ok) console.log(line);
    else console.error(line);
  } catch {
    // Logging must not be what breaks a login.
  }
}

/**
 * Sets `<ns>/org_id`, `<ns>/org_name` (the display name, else the slug) and `<ns>/roles` on the ID
 * token for an Organization login when CLAIMS_NAMESPACE is set. Roles come from the event (the Organization's member roles), so no
 * Management API call is needed during login.
 */
function setOrganizationClaims(event: Event, api: PostLoginAPI, notes: string[]): void {
  const rawNamespace = event.secrets.CLAIMS_NAMESPACE;
  const organization = event.organization;
  if (!rawNamespace || !organization) return;
  const namespace = rawNamespace.trim().replace(/\/+$/, "");
  if (namespace === "") {
    notes.push("CLAIMS_NAMESPACE is blank: org claims not set");
    return;
  }
  let host: string | undefined;
  try {
    host = new URL(namespace).hostname;
  } catch {
    host = undefined; // a plain prefix is allowed
  }
  if (host && RESERVED_CLAIM_HOSTS.test(host)) {
    notes.push(
      `CLAIMS_NAMESPACE is on ${host}, where Auth0 drops custom claims: use your own domain`,
    );
    return;
  }
  const roles = event.authorization?.roles ?? [];
  api.idToken.setCustomClaim(`${namespace}/org_id`, organization.id);
  // Apps written for this setup read org_name as the name people see; Auth0's own `org_name`
  // claim (a tenant setting) is the slug.
  const displayName = organization.display_name?.trim() ? organization.display_name : undefined;
  api.idToken.setCustomClaim(`${namespace}/org_name`, displayName ?? organization.name);
  api.idToken.setCustomClaim(`${namespace}/roles`, [...roles]);
}

/** Reads the configuration, signs the body and sends it, within one time budget. */
async function upsertUser(event: Event, notes: string[], redact: string[]): Promise<Outcome> {
  const siteUrl = event.secrets.CONVEX_HTTP_URL;
  const secret = event.secrets.AUTH0_ACTION_SECRET;
  if (secret) redact.push(secret);
  const missing = [!siteUrl && "CONVEX_HTTP_URL", !secret && "AUTH0_ACTION_SECRET"].filter(Boolean);
  if (missing.length > 0) {
    return fail(`missing secret ${missing.join(" and ")}: add it to the Action; user not synced`);
  }

  const site = convexSiteOrigin(siteUrl, "CONVEX_HTTP_URL");
  if ("problem" in site) return fail(`${site.problem}; user not synced`);
  if (secret.length < 32) notes.push("AUTH0_ACTION_SECRET is shorter than 32 characters");
  const timeoutMs = parseTimeout(event.secrets.CONVEX_TIMEOUT_MS, notes);

  let key: string;
  try {
    // The domain of this login (custom or canonical) is the `iss` of the tokens it yields.
    key = tokenIdentifier(
      event.request?.hostname || event.secrets.AUTH0_DOMAIN,
      event.user.user_id,
    );
  } catch (err) {
    return fail(`cannot build the user's tokenIdentifier: ${describeError(err)}`);
  }
  const org = event.organization;
  const profile = profileFromAuth0User(event.user, "all");
  if ((profile.metadataJson?.length ?? 0) > MAX_ACTION_METADATA_LENGTH) {
    notes.push(`metadata not sent: over ${MAX_ACTION_METADATA_LENGTH} characters`);
    delete profile.metadataJson;
  }
  const body = JSON.stringify({
    tokenIdentifier: key,
    ...profile,
    // During an organization login, event.authorization.roles holds that organization's roles.
    ...(org?.id && org.name
      ? {
          organization: {
            id: org.id,
            name: org.name,
            ...(org.display_name ? { displayName: org.display_name } : {}),
            roles: [...(event.authorization?.roles ?? [])].slice(0, MAX_ORGANIZATION_ROLES),
          },
        }
      : {}),
  });
  const endpoint = audienceFor(site.origin, UPSERT_USER_PATH);

  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    // One token serves the retry too: it lives 30 s, far beyond the budget.
    const jwt = await signRequest(secret, body, endpoint);
    redact.push(jwt);
    let attempts = 0;
    for (;;) {
      attempts++;
      const result = controller.signal.aborted
        ? ({ kind: "timeout" } as const)
        : await attempt(endpoint, jwt, body, controller.signal);
      const suffix = attempts > 1 ? ` after ${attempts} attempts` : "";
      if (result.kind === "ok") {
        if (result.refused.length > 0) {
          notes.push(`metadata refused by Convex: ${result.refused.join("; ")}`);
        }
        const state = result.created ? "created" : "existing";
        return { ok: true, message: `upserted ${result.userId} (${state})${suffix}` };
      }
      if (result.kind === "timeout") {
        return fail(`upsert failed: timed out after ${timeoutMs} ms${suffix}`);
      }
      const budgetLeft = timeoutMs - (Date.now() - started);
      if (result.retryable && attempts === 1 && budgetLeft > RETRY_DELAY_MS) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        continue;
      }
      return fail(`upsert failed: ${result.detail}${suffix}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** One POST. Network errors and 5xx are retryable; everything else is final. */
async function attempt(
  endpoint: string,
  jwt: string,
  body: string,
  signal: AbortSignal,
): Promise<Attempt> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: {
        authorization: `Bearer ${jwt}`,
        "content-type": "application/json",
        // A compressed reply costs inflating; the route's answers are tiny.
        "accept-encoding": "identity",
      },
      body,
      signal,
      // A redirect would carry the bearer token elsewhere; report it instead.
      redirect: "manual",
    });
  } catch (err) {
    if (signal.aborted) return { kind: "timeout" };
    return { kind: "failed", detail: `network error: ${networkCause(err)}`, retryable: true };
  }
  const status = response.status;
  try {
    const read = await readReply(response);
    if ("tooLarge" in read) {
      return {
        kind: "failed",
        detail: `HTTP ${status}, reply over ${MAX_REPLY_BYTES} bytes: not read (is CONVEX_HTTP_URL this deployment?)`,
        retryable: status >= 500,
      };
    }
    text = read.text;
  } catch (err) {
    if (signal.aborted) return { kind: "timeout" };
    return {
      kind: "failed",
      detail: `HTTP ${status}, reading the reply failed: ${networkCause(err)}`,
      retryable: true,
    };
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const reply =
    typeof json === "object" && json !== null ? (json as Record<string, unknown>) : null;
  // Whatever the server echoes, the token is cut out before any text is shortened.
  const echo = (value: string, max: number) => clean(value, max, [jwt]);
  if (status >= 200 && status < 300) {
    if (reply && typeof reply.userId === "string" && typeof reply.created === "boolean") {
      const refused = Array.isArray(reply.refusedMetadata)
        ? (reply.refusedMetadata as { field?: unknown; reason?: unknown }[])
            .slice(0, 10)
            .map((r) => echo(`${String(r?.field)} (${String(r?.reason)})`, 200))
        : [];
      return { kind: "ok", userId: echo(reply.userId, 64), created: reply.created, refused };
    }
    const what = json === undefined ? "non-JSON" : "JSON without userId";
    return {
      kind: "failed",
      detail: `Convex replied with ${what} (HTTP ${status})`,
      retryable: false,
    };
  }
  let detail = `HTTP ${status}`;
  if (reply && typeof reply.error === "string") detail += ` ${echo(reply.error, 64)}`;
  if (reply && typeof reply.message === "string") detail += `: ${echo(reply.message, 300)}`;
  if (!reply) detail += " (non-JSON reply)";
  if (status >= 300 && status < 400) {
    detail += ": CONVEX_HTTP_URL redirects; set it to the deployment's final .convex.site URL";
  }
  return { kind: "failed", detail, retryable: status >= 500 };
}

/**
 * Reads at most {@link MAX_REPLY_BYTES} of a reply, chunk by chunk, and cancels the rest: a body
 * that is inflated as it streams is never inflated past the cap.
 */
async function readReply(response: Response): Promise<ReplyText> {
  if (!response.body) return { text: "" };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_REPLY_BYTES) {
      void reader.cancel().catch(() => {});
      return { tooLarge: true };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder().decode(bytes) };
}

function parseTimeout(raw: string | undefined, notes: string[]): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS) {
    notes.push(
      `CONVEX_TIMEOUT_MS must be an integer from 1 to ${MAX_TIMEOUT_MS}; using ${DEFAULT_TIMEOUT_MS}`,
    );
    return DEFAULT_TIMEOUT_MS;
  }
  return ms;
}

function fail(message: string): Outcome {
  return { ok: false, message };
}

/** The useful part of a fetch failure: undici puts the socket error in `cause`. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.message === "string") return clean(cause.message, 200);
  if (cause && typeof cause.code === "string") return clean(cause.code, 64);
  return describeError(err);
}

function describeError(err: unknown): string {
  if (err instanceof Error) return clean(`${err.name}: ${err.message}`, 300);
  return clean(String(err), 300);
}

/**
 * One line, bounded: text from elsewhere must not forge or flood log lines. `redact` values are
 * cut out first, so truncation can never leave part of one behind.
 */
function clean(text: string, max: number, redact: string[] = []): string {
  let out = text;
  for (const value of redact) if (value) out = out.split(value).join("[redacted]");
  // eslint-disable-next-line no-control-regex
  const flat = out.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
