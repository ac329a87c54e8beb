/**
 * `POST /auth0/ping`: proves that a request signed exactly like the Action's upsert (same secret,
 * this deployment's audience, body hash, expiry) would be accepted, and writes nothing. The deploy
 * ends with it and `npm run doctor` runs it, so "verified" means logins will sync.
 *
 * Body: `{ issuer?, subject? }`. With both, the answer holds the `tokenIdentifier` this deployment
 * computes for them, so a caller can check that the shared builder makes the same key on its side.
 * The answer names variables and issuers, and when the last event arrived: nothing secret.
 */
import { v } from "convex/values";
import { internal } from "../api";
import { httpAction } from "../builders";
import { deploymentVariable } from "../deploymentVariables";
import { jsonError, readSignedJson, validateBody, audienceFor, UPSERT_USER_PATH } from "../http";
import { normalizeIssuer, tokenIdentifier, TokenIdentifierError } from "../tokenIdentifier";
import { deploymentIssuers } from "../users";

export const PING_PATH = "/auth0/ping";

const pingBody = v.object({ issuer: v.optional(v.string()), subject: v.optional(v.string()) });

/** What the ping answers (200). */
export interface PingAnswer {
  ok: true;
  /** Which secret verified the request: rotate away from "previous". */
  secret: "current" | "previous";
  /** The audience the upsert route expects: the Action's CONVEX_HTTP_URL must produce it. */
  upsertAudience: string;
  /** Normalized issuers this deployment trusts (AUTH0_DOMAIN, AUTH0_CUSTOM_DOMAIN). */
  issuers: string[];
  canonicalIssuer: string;
  /** Which optional or browser-side variables are set on the deployment. */
  variables: {
    AUTH0_CLIENT_ID: boolean;
    AUTH0_CUSTOM_DOMAIN: boolean;
    AUTH0_EVENTS_TOKEN: boolean;
    AUTH0_SYNC_SECRET: boolean;
  };
  /** With `issuer` and `subject` in the body: the key this deployment computes, and whether it
   * trusts the issuer. */
  sample?: { tokenIdentifier: string; issuerTrusted: boolean };
  /** The event stream as this deployment sees it (see `auth0.eventsHealth`). */
  events: { lastEventReceivedAt: number | null; failuresLast24h: number };
}

const isSet = (name: string) => (deploymentVariable(name) ?? "").trim() !== "";

export const pingRoute = httpAction(async (ctx, request) => {
  const signed = await readSignedJson(request, {
    route: "auth0/ping",
    path: PING_PATH,
    secretVariable: "AUTH0_ACTION_SECRET",
    signerSecretPlace: "the Action's secrets",
    signerUrlVariable: "CONVEX_HTTP_URL",
    required: ["AUTH0_DOMAIN"],
    maxBodyBytes: 4096,
  });
  if (signed instanceof Response) return signed;
  const checked = validateBody(pingBody, signed.json, "ping body");
  if (checked instanceof Response) return checked;
  const { issuer, subject } = checked.value;

  const issuers = deploymentIssuers();
  let sample: PingAnswer["sample"];
  if (issuer !== undefined && subject !== undefined) {
    try {
      sample = {
        tokenIdentifier: tokenIdentifier(issuer, subject),
        issuerTrusted: issuers.includes(normalizeIssuer(issuer)),
      };
    } catch (err) {
      if (!(err instanceof TokenIdentifierError)) throw err;
      return jsonError(400, "invalid_body", err.message);
    }
  }
  const health = await ctx.runQuery(internal.auth0.eventsHealth, {});
  const answer: PingAnswer = {
    ok: true,
    secret: signed.usedPreviousSecret ? "previous" : "current",
    upsertAudience: audienceFor(deploymentVariable("CONVEX_SITE_URL")!, UPSERT_USER_PATH),
    issuers,
    canonicalIssuer: normalizeIssuer(deploymentVariable("AUTH0_DOMAIN")!),
    variables: {
      AUTH0_CLIENT_ID: isSet("AUTH0_CLIENT_ID"),
      AUTH0_CUSTOM_DOMAIN: isSet("AUTH0_CUSTOM_DOMAIN"),
      AUTH0_EVENTS_TOKEN: isSet("AUTH0_EVENTS_TOKEN"),
      AUTH0_SYNC_SECRET: isSet("AUTH0_SYNC_SECRET"),
    },
    ...(sample ? { sample } : {}),
    events: {
      lastEventReceivedAt: health.lastEventReceivedAt,
      failuresLast24h: health.failuresLast24h,
    },
  };
  return Response.json(answer);
});
