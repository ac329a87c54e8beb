/**
 * The Convex side of a setup, checked the way a login would use it: a request signed with the
 * Action's secret for the Action's URL, sent to the deployment's `POST /auth0/ping`. The deploy
 * ends with it and `npm run doctor` prints it, so each misconfiguration is named by the one check
 * it breaks, with what to do.
 */
import type { PingAnswer } from "../../server/login/pingRoute";
import { PING_PATH } from "../../server/login/pingRoute";
import { normalizeIssuer, tokenIdentifier } from "../../server/tokenIdentifier";
import { signedPost, SignedPostError } from "./signedPost";

/** One line of a check report. A skipped check never counts as passed. */
export interface CheckResult {
  /** Stable name, for --json and tests. */
  id: string;
  title: string;
  /** `warn`: something to fix that does not fail the doctor (unless --strict). */
  status: "pass" | "fail" | "skip" | "warn";
  /** Pass: what was found. Fail and warn: what to do. Skip: why. */
  detail: string;
  /** Places in the app's code the check names (`file:line:col`), when it names any. */
  places?: string[];
}

/** The subject the checks ask Convex to build a key for. */
export const SAMPLE_SUBJECT = "auth0|convex-auth0-users-check";

const pass = (id: string, title: string, detail: string): CheckResult => ({
  id,
  title,
  status: "pass",
  detail,
});
const fail = (id: string, title: string, detail: string): CheckResult => ({
  id,
  title,
  status: "fail",
  detail,
});

const TITLES = {
  reach: "Convex answers the signed ping",
  secret: "AUTH0_ACTION_SECRET is the same in the Action and in Convex",
  origin: "CONVEX_HTTP_URL is this deployment's own origin",
  configured: "Convex has AUTH0_DOMAIN and AUTH0_ACTION_SECRET",
  clientId: "Convex has AUTH0_CLIENT_ID (ID tokens from the browser verify)",
  issuer: "Convex trusts the issuer the Action uses",
  key: "the shared builder and Convex make the same tokenIdentifier",
} as const;

/**
 * Pings the deployment at `origin` with `secret`, as the Action at `CONVEX_HTTP_URL` would, and
 * reports one check per thing that must hold for logins to sync. `actionIssuer` is the domain the
 * Action falls back to (AUTH0_DOMAIN). Checks that cannot run because an earlier one failed are
 * reported as skipped.
 */
export async function checkConvexSide(opts: {
  origin: string;
  secret: string;
  actionIssuer: string;
  timeoutMs?: number;
}): Promise<{ checks: CheckResult[]; answer?: PingAnswer }> {
  const issuer = normalizeIssuer(opts.actionIssuer);
  const skipped = (ids: (keyof typeof TITLES)[], why: string): CheckResult[] =>
    ids.map((id) => ({ id, title: TITLES[id], status: "skip", detail: why }));
  const later: (keyof typeof TITLES)[] = ["clientId", "issuer", "key"];

  let reply;
  try {
    reply = await signedPost({
      origin: opts.origin,
      path: PING_PATH,
      secret: opts.secret,
      body: { issuer, subject: SAMPLE_SUBJECT },
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
  } catch (err) {
    const why = err instanceof SignedPostError ? err.message : String(err);
    return {
      checks: [
        fail(
          "reach",
          TITLES.reach,
          `${why}. Check CONVEX_HTTP_URL: the deployment's HTTP Actions URL (https://<name>.convex.site)`,
        ),
        ...skipped(["secret", "origin", ...later], "Convex did not answer"),
      ],
    };
  }
  const json = (reply.json ?? {}) as { error?: string; message?: string };
  if (reply.status === 404) {
    return {
      checks: [
        fail(
          "reach",
          TITLES.reach,
          `${PING_PATH} answered 404: this module's convex/ is not deployed there (npx convex deploy), or CONVEX_HTTP_URL points somewhere else`,
        ),
        ...skipped(["secret", "origin", ...later], "the ping route is not deployed"),
      ],
    };
  }
  if (reply.status !== 200) {
    const message = typeof json.message === "string" ? json.message.slice(0, 300) : "";
    const reached = pass("reach", TITLES.reach, `HTTP ${reply.status} ${json.error ?? ""}`.trim());
    const configured = pass("configured", TITLES.configured, "set");
    if (json.error === "bad_signature") {
      return {
        checks: [
          reached,
          configured,
          fail(
            "secret",
            TITLES.secret,
            "Convex refused the signature: set the same value in both (npx convex env set AUTH0_ACTION_SECRET <value>, and the CI secret / Action secret)",
          ),
          ...skipped(["origin", ...later], "the signature was refused"),
        ],
      };
    }
    if (json.error === "wrong_audience") {
      return {
        checks: [
          reached,
          configured,
          pass("secret", TITLES.secret, "the signature verified"),
          fail(
            "origin",
            TITLES.origin,
            "the deployment's CONVEX_SITE_URL differs from CONVEX_HTTP_URL (another deployment, or a proxy in front): use the deployment's own .convex.site URL",
          ),
          ...skipped(later, "the audience was refused"),
        ],
      };
    }
    if (json.error === "not_configured") {
      return {
        checks: [
          reached,
          fail("configured", TITLES.configured, message || "Convex is missing variables"),
          ...skipped(["secret", "origin", ...later], "Convex is not configured"),
        ],
      };
    }
    return {
      checks: [
        fail(
          "reach",
          TITLES.reach,
          `HTTP ${reply.status} ${json.error ?? "(no JSON error)"}${message ? `: ${message}` : ""}`,
        ),
        ...skipped(["secret", "origin", ...later], "the ping failed"),
      ],
    };
  }

  const answer = reply.json as PingAnswer;
  const checks: CheckResult[] = [
    pass("reach", TITLES.reach, `${opts.origin}${PING_PATH} answered 200`),
    pass("configured", TITLES.configured, "set"),
    pass(
      "secret",
      TITLES.secret,
      answer.secret === "previous"
        ? "verified with AUTH0_ACTION_SECRET_PREVIOUS: Convex is mid-rotation; finish it by setting the new secret in Convex"
        : "the signature verified with Convex's current secret",
    ),
    pass("origin", TITLES.origin, `audience ${answer.upsertAudience}`),
  ];
  checks.push(
    answer.variables?.AUTH0_CLIENT_ID
      ? pass("clientId", TITLES.clientId, "set")
      : fail(
          "clientId",
          TITLES.clientId,
          "AUTH0_CLIENT_ID is not set in the Convex deployment: auth0.store and auth0.current cannot verify ID tokens (npx convex env set AUTH0_CLIENT_ID <your app's Client ID>)",
        ),
  );
  const trusted = answer.sample?.issuerTrusted === true;
  checks.push(
    trusted
      ? pass("issuer", TITLES.issuer, `${issuer} is one of [${answer.issuers.join(", ")}]`)
      : fail(
          "issuer",
          TITLES.issuer,
          `the Action signs users in under ${issuer}, but Convex trusts [${answer.issuers.join(", ")}]: set AUTH0_DOMAIN (the tenant domain) the same on both sides, and AUTH0_CUSTOM_DOMAIN in Convex when you use one`,
        ),
  );
  const local = tokenIdentifier(issuer, SAMPLE_SUBJECT);
  checks.push(
    answer.sample?.tokenIdentifier === local
      ? pass("key", TITLES.key, local)
      : fail(
          "key",
          TITLES.key,
          `Convex computes ${answer.sample?.tokenIdentifier ?? "(nothing)"} where this checkout computes ${local}: deploy Convex and the Action from the same version of server/tokenIdentifier.ts`,
        ),
  );
  return { checks, answer };
}
