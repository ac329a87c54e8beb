/**
 * `POST /auth0/events`: the Auth0 Event Stream webhook (parsing and applying are in
 * server/events/events.ts).
 *
 * Authenticated by `Authorization: Bearer <AUTH0_EVENTS_TOKEN>` (or `AUTH0_EVENTS_TOKEN_PREVIOUS`
 * while rotating), compared in constant time, once the token meets the secret rule
 * (server/http/routeSecrets.ts: a weak or shared token makes the route answer `not_configured`).
 * Status codes follow Auth0's delivery rules: 401/413/415/400 fail the delivery at once and
 * write nothing; 200 acknowledges (applied, duplicate, superseded, ignored, or recorded as failed
 * for good); 500 makes Auth0 retry.
 */
import { httpAction } from "../builders";
import { deploymentVariable } from "../deploymentVariables";
import { internal } from "../api";
import {
  constantTimeEqual,
  configurationError,
  hasMediaType,
  jsonError,
  logSafe,
  parseJsonOr400,
  readBodyOr413,
  weakSecretError,
} from "../http";
import { MAX_EVENT_BODY_BYTES, parseAuth0Event } from "./events";

export const auth0EventsRoute = httpAction(async (ctx, request) => {
  const tokens = [
    deploymentVariable("AUTH0_EVENTS_TOKEN"),
    deploymentVariable("AUTH0_EVENTS_TOKEN_PREVIOUS"),
  ].filter((s): s is string => typeof s === "string" && s !== "");
  const misconfigured = configurationError("auth0/events", ["AUTH0_EVENTS_TOKEN", "AUTH0_DOMAIN"]);
  if (misconfigured) return misconfigured;
  const weak = weakSecretError(
    "auth0/events",
    "AUTH0_EVENTS_TOKEN",
    "the event stream's bearer authorization",
  );
  if (weak) return weak;

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
    result = await ctx.runMutation(internal.auth0.ingestEvent, event);
  } catch (err) {
    // Transient (or a bug, or the host app's onUserDeleted hook failing): Auth0 retries on 5xx.
    const reason = err instanceof Error ? err.message.split("\n")[0] : "unknown";
    console.error(
      `auth0/events: event ${logSafe(event.eventId)} (${logSafe(event.type, 64)}) not processed: ${logSafe(reason, 300)}`,
    );
    return jsonError(
      500,
      "processing_failed",
      "The event could not be processed now; Auth0 will deliver it again.",
    );
  }
  if (result.outcome === "failed" && !result.duplicate) {
    console.warn(
      `auth0/events: event ${logSafe(event.eventId)} (${logSafe(event.type, 64)}) recorded as failed; see npx convex run auth0:eventFailures`,
    );
  }
  return Response.json({ eventId: event.eventId, ...result }, { status: 200 });
});
