/**
 * `POST /auth0/upsert-user`: the Post-Login Action's upsert, authenticated by a signed request
 * (see server/http/signedRequest.ts). A rejected request writes nothing.
 */
import { v } from "convex/values";
import { httpAction } from "../builders";
import { internal } from "../api";
import { UPSERT_USER_PATH, jsonError, readSignedJson, validateBody } from "../http";
import { parseTokenIdentifier, TokenIdentifierError } from "../tokenIdentifier";
import {
  upsertBodyFields,
  convexErrorCode,
  deploymentIssuers,
  MAX_CLOCK_SKEW_MS,
  TIMESTAMP_IN_FUTURE,
  USER_DELETED,
} from "../users";
import { VALUE_TOO_LONG } from "../limits";

/** Most roles a login may report for its organization. */
export const MAX_LOGIN_ROLES = 100;

/** Largest body `/auth0/upsert-user` accepts. A profile is well under 2 kB; the user's metadata
 * (for the app's mapped fields) is sent up to the Action's MAX_ACTION_METADATA_LENGTH. */
export const MAX_UPSERT_BODY_BYTES = 64 * 1024;

const upsertBody = v.object(upsertBodyFields);

export const upsertUserRoute = httpAction(async (ctx, request) => {
  const signed = await readSignedJson(request, {
    route: "auth0/upsert-user",
    path: UPSERT_USER_PATH,
    secretVariable: "AUTH0_ACTION_SECRET",
    signerSecretPlace: "the Action's secrets",
    signerUrlVariable: "CONVEX_HTTP_URL in the Action",
    required: ["AUTH0_DOMAIN"],
    maxBodyBytes: MAX_UPSERT_BODY_BYTES,
  });
  if (signed instanceof Response) return signed;
  const checked = validateBody(upsertBody, signed.json, "upsert body");
  if (checked instanceof Response) return checked;
  const args = checked.value;
  const org = args.organization;
  if (
    org &&
    (org.id === "" ||
      org.id.length > 256 ||
      org.name.length > 256 ||
      (org.displayName?.length ?? 0) > 256 ||
      org.roles.length > MAX_LOGIN_ROLES ||
      org.roles.some((r) => r === "" || r.length > 256))
  ) {
    return jsonError(
      400,
      "invalid_body",
      `organization: id, name and displayName must be 1 to 256 characters, and roles at most ${MAX_LOGIN_ROLES} non-empty names.`,
    );
  }

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
    result = await ctx.runMutation(internal.auth0.upsertFromAuth0, {
      ...args,
      login: true,
      // The token's iat has second resolution; the login read Auth0 at or after it.
      loginAt: signed.issuedAt * 1000,
    });
  } catch (err) {
    const code = convexErrorCode(err);
    if (code === USER_DELETED) {
      return jsonError(
        409,
        USER_DELETED,
        "This user was deleted in Auth0 after this profile was last updated; it is not stored again.",
      );
    }
    if (code === VALUE_TOO_LONG) {
      const message = (err as { data?: { message?: string } }).data?.message ?? "too long";
      return jsonError(400, VALUE_TOO_LONG, `A value is over its cap: ${message}.`);
    }
    if (code === TIMESTAMP_IN_FUTURE) {
      return jsonError(
        400,
        TIMESTAMP_IN_FUTURE,
        `auth0UpdatedAt lies in the future (beyond the ${MAX_CLOCK_SKEW_MS / 60_000}-minute clock skew this deployment allows): it cannot order updates. Check the clock of whatever produced the profile.`,
      );
    }
    throw err;
  }
  // With `refusedMetadata` when the app's metadata fields refused a value: the Action logs them.
  return Response.json(result, { status: 200 });
});
