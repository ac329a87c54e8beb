import { httpRouter } from "convex/server";
import { v } from "convex/values";
import { validate, ValidationError } from "convex-helpers/validators";
import { env, httpAction } from "./_generated/server";
import { internal } from "./_generated/api";
import { audienceFor, UPSERT_USER_PATH, verifySignedRequest } from "./signedRequest";
import { parseTokenIdentifier, TokenIdentifierError } from "./tokenIdentifier";
import { deploymentIssuers, upsertBodyFields } from "./users";

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

function isJsonContentType(value: string | null): boolean {
  const mediaType = value?.split(";")[0].trim().toLowerCase();
  return mediaType === "application/json";
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
 * `POST /auth0/upsert-user`: the Post-Login Action's upsert, authenticated by a signed request
 * (see convex/signedRequest.ts). A rejected request writes nothing.
 */
export const upsertUserRoute = httpAction(async (ctx, request) => {
  const secrets = [env.AUTH0_ACTION_SECRET, env.AUTH0_ACTION_SECRET_PREVIOUS].filter(
    (s): s is string => typeof s === "string" && s !== "",
  );
  const missing = [
    !env.AUTH0_ACTION_SECRET && "AUTH0_ACTION_SECRET",
    !env.AUTH0_DOMAIN && "AUTH0_DOMAIN",
    !env.CONVEX_SITE_URL && "CONVEX_SITE_URL",
  ].filter(Boolean);
  if (missing.length > 0) {
    console.error(`auth0/upsert-user: not configured, missing ${missing.join(", ")}`);
    return jsonError(
      500,
      "not_configured",
      `Set ${missing.join(", ")} in the Convex deployment's environment variables (npx convex env set NAME value).`,
    );
  }

  if (!isJsonContentType(request.headers.get("content-type"))) {
    return jsonError(
      415,
      "unsupported_media_type",
      "Send the body as Content-Type: application/json.",
    );
  }

  let body: Uint8Array;
  try {
    body = await readBodyCapped(request, MAX_UPSERT_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      return jsonError(413, "body_too_large", `The body is over ${MAX_UPSERT_BODY_BYTES} bytes.`);
    }
    throw err;
  }

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

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return jsonError(400, "malformed_json", "The body is not valid JSON.");
  }
  try {
    validate(upsertBody, parsed, { throw: true });
  } catch (err) {
    const detail =
      err instanceof ValidationError
        ? `${err.path ? `${err.path}: ` : ""}expected ${err.expected}, got ${err.got}`
        : "the body does not match the expected shape";
    return jsonError(400, "invalid_body", `Invalid upsert body (${detail}).`);
  }
  const args = parsed as typeof upsertBody.type;

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

  const result = await ctx.runMutation(internal.users.upsertFromAuth0, { ...args, login: true });
  return Response.json(result, { status: 200 });
});

const http = httpRouter();

http.route({ path: UPSERT_USER_PATH, method: "POST", handler: upsertUserRoute });

export default http;
