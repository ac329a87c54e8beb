import { httpRouter } from "convex/server";
import { v } from "convex/values";
import { validate } from "convex-helpers/validators";
import { env, httpAction } from "./_generated/server";
import { internal } from "./_generated/api";
import {
  audienceFor,
  constantTimeEqual,
  UPSERT_USER_PATH,
  verifySignedRequest,
} from "./signedRequest";
import { parseTokenIdentifier, TokenIdentifierError } from "./tokenIdentifier";
import { deploymentIssuers, isUserDeletedError, upsertBodyFields } from "./users";
import {
  describeValidationError,
  EVENTS_PATH,
  MAX_EVENT_BODY_BYTES,
  parseAuth0Event,
} from "./events";

/** Largest body `/auth0/upsert-user` accepts. A profile is well under 2 kB. */
export const MAX_UPSERT_BODY_BYTES = 16 * 1024;

const upsertBody = v.object(upsertBodyFields);

/** A JSON error as every route here returns it: a stable code and what to do about it. */
export function jsonError(status: number, error: string, message: string): Response {
  return Response.json({ error, message }, { status });
}

class BodyTooLarge extends Error {}

/** Reads a body, stopping as soon as it passes `limit` bytes. */
async function readBodyCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

/** The request's body, or the 413 to answer when it is over `limit` bytes. */
async function readBodyOr413(
  request: Request,
  limit: number,
  what: string,
): Promise<Uint8Array | Response> {
  try {
    return await readBodyCapped(request, limit);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      return jsonError(413, "body_too_large", `The ${what} is over ${limit} bytes.`);
    }
    throw err;
  }
}

/** Whether a Content-Type header names one of `allowed` (parameters such as charset ignored). */
function hasMediaType(value: string | null, allowed: string[]): boolean {
  return allowed.includes(value?.split(";")[0].trim().toLowerCase() ?? "");
}

/** The body parsed as UTF-8 JSON, or the 400 to answer. */
function parseJsonOr400(body: Uint8Array): { json: unknown } | Response {
  try {
    return { json: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) };
  } catch {
    return jsonError(400, "malformed_json", "The body is not valid JSON.");
  }
}

const SIGNATURE_MESSAGES: Record<string, string> = {
  missing_signature:
    "Send the request signed by the Post-Login Action: Authorization: Bearer <HS256 JWT>.",
  bad_signature:
    "The signature does not match AUTH0_ACTION_SECRET (or AUTH0_ACTION_SECRET_PREVIOUS): set the same secret in the Convex deployment and in the Action's secrets.",
  token_expired:
    "The signed request has expired: tokens live at most 60 s. Check the Action host's clock.",
  token_not_yet_valid: "The signed request is dated in the future: check clocks.",
  token_lifetime_too_long: "The signed request lives longer than 60 s; it is refused.",
  wrong_audience:
    "The signed request is for another deployment: CONVEX_HTTP_URL in the Action must be this deployment's .convex.site URL.",
  body_mismatch: "The body does not match the hash it was signed with.",
};

/**
 * A 500 `not_configured` naming every missing variable (and a malformed Auth0 domain), or null
 * when the deployment has what `route` needs. Logged without values.
 */
function configurationError(route: string, required: string[]): Response | null {
  const problems = required.filter((name) => !env[name]);
  let message =
    problems.length > 0
      ? `Set ${problems.join(", ")} in the Convex deployment's environment variables (npx convex env set NAME value).`
      : "";
  try {
    deploymentIssuers();
  } catch (err) {
    if (!(err instanceof TokenIdentifierError)) throw err;
    problems.push("AUTH0_DOMAIN/AUTH0_CUSTOM_DOMAIN");
    message += `${message ? " " : ""}AUTH0_DOMAIN and AUTH0_CUSTOM_DOMAIN must be bare domains: ${err.message}`;
  }
  if (problems.length === 0) return null;
  console.error(`${route}: not configured, missing or invalid ${problems.join(", ")}`);
  return jsonError(500, "not_configured", message);
}

/**
 * `POST /auth0/upsert-user`: the Post-Login Action's upsert, authenticated by a signed request
 * (see convex/signedRequest.ts). A rejected request writes nothing.
 */
export const upsertUserRoute = httpAction(async (ctx, request) => {
  const secrets = [env.AUTH0_ACTION_SECRET, env.AUTH0_ACTION_SECRET_PREVIOUS].filter(
    (s): s is string => typeof s === "string" && s !== "",
  );
  const misconfigured = configurationError("auth0/upsert-user", [
    "AUTH0_ACTION_SECRET",
    "AUTH0_DOMAIN",
    "CONVEX_SITE_URL",
  ]);
  if (misconfigured) return misconfigured;

  if (!hasMediaType(request.headers.get("content-type"), ["application/json"])) {
    return jsonError(
      415,
      "unsupported_media_type",
      "Send the body as Content-Type: application/json.",
    );
  }

  const body = await readBodyOr413(request, MAX_UPSERT_BODY_BYTES, "body");
  if (body instanceof Response) return body;

  const verified = await verifySignedRequest({
    authorization: request.headers.get("authorization"),
    body,
    audience: audienceFor(env.CONVEX_SITE_URL!, UPSERT_USER_PATH),
    secrets,
  });
  if (!verified.ok) {
    console.warn(`auth0/upsert-user: rejected (${verified.reason})`);
    return jsonError(401, verified.reason, SIGNATURE_MESSAGES[verified.reason]);
  }
  if (verified.usedPreviousSecret) {
    console.warn(
      "auth0/upsert-user: request signed with AUTH0_ACTION_SECRET_PREVIOUS; finish the rotation by updating the Action's secret",
    );
  }

  const parsed = parseJsonOr400(body);
  if (parsed instanceof Response) return parsed;
  try {
    validate(upsertBody, parsed.json, { throw: true });
  } catch (err) {
    return jsonError(400, "invalid_body", `Invalid upsert body (${describeValidationError(err)}).`);
  }
  const args = parsed.json as typeof upsertBody.type;

  let issuer: string;
  try {
    issuer = parseTokenIdentifier(args.tokenIdentifier).issuer;
  } catch (err) {
    return jsonError(
      400,
      "invalid_token_identifier",
      err instanceof TokenIdentifierError ? err.message : "tokenIdentifier is invalid.",
    );
  }
  const issuers = deploymentIssuers();
  if (!issuers.includes(issuer)) {
    return jsonError(
      400,
      "unknown_issuer",
      `The issuer ${issuer} is not AUTH0_DOMAIN or AUTH0_CUSTOM_DOMAIN of this deployment: set AUTH0_CUSTOM_DOMAIN if users sign in through it.`,
    );
  }

  let result;
  try {
    result = await ctx.runMutation(internal.users.upsertFromAuth0, { ...args, login: true });
  } catch (err) {
    if (isUserDeletedError(err)) {
      return jsonError(
        409,
        "user_deleted",
        "This user was deleted in Auth0 after this profile was last updated; it is not stored again.",
      );
    }
    throw err;
  }
  return Response.json(result, { status: 200 });
});

/**
 * `POST /auth0/events`: the Auth0 Event Stream webhook (see convex/events.ts).
 *
 * Authenticated by `Authorization: Bearer <AUTH0_EVENTS_TOKEN>` (or `AUTH0_EVENTS_TOKEN_PREVIOUS`
 * while rotating), compared in constant time. Status codes follow Auth0's delivery rules: 401/413/
 * 415/400 fail the delivery at once and write nothing; 200 acknowledges (applied, duplicate,
 * superseded, ignored, or recorded as failed for good); 500 makes Auth0 retry.
 */
export const auth0EventsRoute = httpAction(async (ctx, request) => {
  const tokens = [env.AUTH0_EVENTS_TOKEN, env.AUTH0_EVENTS_TOKEN_PREVIOUS].filter(
    (s): s is string => typeof s === "string" && s !== "",
  );
  const misconfigured = configurationError("auth0/events", ["AUTH0_EVENTS_TOKEN", "AUTH0_DOMAIN"]);
  if (misconfigured) return misconfigured;

  const presented = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization")?.trim() ?? "");
  if (!presented) {
    return jsonError(
      401,
      "missing_token",
      "Send Authorization: Bearer <AUTH0_EVENTS_TOKEN>: set it as the event stream's bearer authorization.",
    );
  }
  // Compare with every configured token, without stopping at the first match.
  const matches = tokens.map((token) => constantTimeEqual(presented[1], token));
  if (!matches.includes(true)) {
    console.warn("auth0/events: rejected (bad_token)");
    return jsonError(
      401,
      "bad_token",
      "The bearer token is not AUTH0_EVENTS_TOKEN (or AUTH0_EVENTS_TOKEN_PREVIOUS): set the same value on the event stream and in the Convex deployment.",
    );
  }
  if (!matches[0]) {
    console.warn(
      "auth0/events: request authorized with AUTH0_EVENTS_TOKEN_PREVIOUS; finish the rotation by updating the event stream's token",
    );
  }

  // Absent is tolerated: Auth0 sends JSON whatever the header says.
  const contentType = request.headers.get("content-type");
  if (
    contentType !== null &&
    !hasMediaType(contentType, ["application/json", "application/cloudevents+json"])
  ) {
    return jsonError(
      415,
      "unsupported_media_type",
      "Send the event as Content-Type: application/json (or application/cloudevents+json).",
    );
  }
  const body = await readBodyOr413(request, MAX_EVENT_BODY_BYTES, "event");
  if (body instanceof Response) return body;
  const json = parseJsonOr400(body);
  if (json instanceof Response) return json;
  const parsed = parseAuth0Event(json.json);
  if (!parsed.ok) return jsonError(400, parsed.error, parsed.message);

  const { event } = parsed;
  let result;
  try {
    result = await ctx.runMutation(internal.events.ingest, event);
  } catch (err) {
    // Transient (or a bug, or the host app's onUserDeleted hook failing): Auth0 retries on 5xx.
    const reason = err instanceof Error ? err.message.split("\n")[0].slice(0, 300) : "unknown";
    console.error(`auth0/events: event ${event.eventId} (${event.type}) not processed: ${reason}`);
    return jsonError(
      500,
      "processing_failed",
      "The event could not be processed now; Auth0 will deliver it again.",
    );
  }
  if (result.outcome === "failed" && !result.duplicate) {
    console.warn(
      `auth0/events: event ${event.eventId} (${event.type}) recorded as failed; see npx convex run events:failures`,
    );
  }
  return Response.json({ eventId: event.eventId, ...result }, { status: 200 });
});

const http = httpRouter();

http.route({ path: UPSERT_USER_PATH, method: "POST", handler: upsertUserRoute });
http.route({ path: EVENTS_PATH, method: "POST", handler: auth0EventsRoute });

export default http;
