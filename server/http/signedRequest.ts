/**
 * The signed, short-lived request the Post-Login Action sends to `POST /auth0/upsert-user`.
 *
 * Instead of a static bearer secret (which, once leaked from a log, works forever), the Action sends
 * an HS256 JWT signed with `AUTH0_ACTION_SECRET` that lives at most a minute, names the route it is
 * for, and carries the SHA-256 of the exact body. The route checks all of it. Both sides import this
 * file so they agree on the claim names and limits. No Convex or Node imports (Web Crypto only).
 */
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";

/** Route path of the Action's upsert. */
export const UPSERT_USER_PATH = "/auth0/upsert-user";
/** Claim carrying the base64url SHA-256 of the request body. */
export const BODY_HASH_CLAIM = "body_sha256";
/** Longest life a token may have (`exp - iat`), in seconds. */
export const MAX_TOKEN_LIFETIME_S = 60;
/** Clock skew tolerated between Auth0 and Convex, in seconds. */
export const CLOCK_SKEW_S = 5;
/** Issuer claim the Action puts in its tokens. */
export const SIGNER_ISSUER = "auth0-post-login-action";

const encoder = new TextEncoder();

/** base64url SHA-256 of a body, as the Action signs it and the route recomputes it. */
export async function sha256Base64Url(body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  let bin = "";
  for (const b of digest) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The audience a token for `path` on a Convex site must name: the route's absolute URL. */
export function audienceFor(siteUrl: string, path: string = UPSERT_USER_PATH): string {
  return new URL(path, siteUrl).href;
}

/**
 * Signs a request body for the route at `audience`. The result goes in `Authorization: Bearer`.
 *
 * @param secret AUTH0_ACTION_SECRET.
 * @param body The exact string that will be sent as the body.
 * @param audience {@link audienceFor} the Convex site URL.
 * @param lifetimeS Token life in seconds, at most {@link MAX_TOKEN_LIFETIME_S}.
 */
export async function signRequest(
  secret: string,
  body: string,
  audience: string,
  lifetimeS = 30,
  nowS: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  return new SignJWT({ [BODY_HASH_CLAIM]: await sha256Base64Url(body) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(SIGNER_ISSUER)
    .setAudience(audience)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + Math.min(lifetimeS, MAX_TOKEN_LIFETIME_S))
    .sign(encoder.encode(secret));
}

/** Why a signed request was refused; the codes are safe to return and to log. */
export type SignatureFailure =
  | "missing_signature"
  | "bad_signature"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_lifetime_too_long"
  | "wrong_audience"
  | "body_mismatch";

export type VerifyResult =
  | {
      ok: true;
      usedPreviousSecret: boolean;
      /** The token's `iat` (seconds): when the signer made the request. */
      issuedAt: number;
    }
  | { ok: false; reason: SignatureFailure };

/** Compares two strings without an early exit, so timing does not reveal where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  let diff = ab.length ^ bb.length;
  const n = Math.max(ab.length, bb.length);
  for (let i = 0; i < n; i++) diff |= (ab[i] ?? 0) ^ (bb[i] ?? 0);
  return diff === 0;
}

/**
 * Verifies the `Authorization` header of a request against the current secret and, while a
 * rotation is under way, the previous one. HMAC checks run through Web Crypto's `verify`, which
 * compares in constant time; the body hash is compared with {@link constantTimeEqual}.
 */
export async function verifySignedRequest(opts: {
  authorization: string | null;
  body: Uint8Array;
  audience: string;
  secrets: string[];
  nowS?: number;
}): Promise<VerifyResult> {
  const match = /^Bearer\s+(\S+)$/i.exec(opts.authorization?.trim() ?? "");
  if (!match) return { ok: false, reason: "missing_signature" };
  const token = match[1];
  const nowS = opts.nowS ?? Math.floor(Date.now() / 1000);

  for (let i = 0; i < opts.secrets.length; i++) {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, encoder.encode(opts.secrets[i]), {
        algorithms: ["HS256"],
        issuer: SIGNER_ISSUER,
        audience: opts.audience,
        requiredClaims: ["iat", "exp", BODY_HASH_CLAIM],
        clockTolerance: CLOCK_SKEW_S,
        currentDate: new Date(nowS * 1000),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue; // try the next secret
      if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: "token_expired" };
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        if (err.claim === "aud") return { ok: false, reason: "wrong_audience" };
        if (err.claim === "nbf" || err.claim === "iat") {
          return { ok: false, reason: "token_not_yet_valid" };
        }
      }
      return { ok: false, reason: "bad_signature" };
    }
    // jose accepts an `aud` array that merely contains ours; a token for this route names only it.
    if (payload.aud !== opts.audience) return { ok: false, reason: "wrong_audience" };
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (iat > nowS + CLOCK_SKEW_S) return { ok: false, reason: "token_not_yet_valid" };
    if (exp - iat > MAX_TOKEN_LIFETIME_S) return { ok: false, reason: "token_lifetime_too_long" };
    const claimed = payload[BODY_HASH_CLAIM];
    if (
      typeof claimed !== "string" ||
      !constantTimeEqual(claimed, await sha256Base64Url(opts.body))
    ) {
      return { ok: false, reason: "body_mismatch" };
    }
    return { ok: true, usedPreviousSecret: i > 0, issuedAt: iat };
  }
  return { ok: false, reason: "bad_signature" };
}
