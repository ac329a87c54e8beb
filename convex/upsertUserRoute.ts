/**
 * `POST /auth0/upsert-user`: the Post-Login Action's upsert, authenticated by a signed request
 * (see convex/signedRequest.ts). A rejected request writes nothing.
 */
import { v } from "convex/values";
import { httpAction } from "./_generated/server";
import { internal } from "./_generated/api";
import { UPSERT_USER_PATH } from "./signedRequest";
import { parseTokenIdentifier, TokenIdentifierError } from "./tokenIdentifier";
import {
  convexErrorCode,
  deploymentIssuers,
  MAX_CLOCK_SKEW_MS,
  TIMESTAMP_IN_FUTURE,
  upsertBodyFields,
  USER_DELETED,
} from "./users";
import { jsonError, readSignedJson, validateBody } from "./httpCommon";

/** Largest body `/auth0/upsert-user` accepts. A profile is well under 2 kB. */
export const MAX_UPSERT_BODY_BYTES = 16 * 1024;

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
    const code = convexErrorCode(err);
    if (code === USER_DELETED) {
      return jsonError(
        409,
        USER_DELETED,
        "This user was deleted in Auth0 after this profile was last updated; it is not stored again.",
      );
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
  return Response.json(result, { status: 200 });
});
