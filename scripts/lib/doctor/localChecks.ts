/**
 * The doctor's checks that need no network: which variables each part of the setup needs, whether
 * the routes' secrets meet the secret rule, and whether CONVEX_HTTP_URL is a URL the Action can
 * call.
 */
import {
  ROUTE_SECRETS,
  routeSecretProblems,
  SECRET_RULE,
  type RouteSecretVariable,
} from "../../../server/http/routeSecrets";
import { convexSiteOrigin, isConvexCloudSite } from "../../../server/http/siteUrl";
import { normalizeIssuer, TokenIdentifierError } from "../../../server/tokenIdentifier";
import type { CheckResult } from "../convexPing";

/** Each part of the setup and the variables it needs in `.env.local` or the environment. */
export const PARTS = [
  {
    id: "env.action",
    title: "the Action's variables are set",
    required: true,
    variables: ["AUTH0_DOMAIN", "CONVEX_HTTP_URL", "AUTH0_ACTION_SECRET"],
    why: "",
  },
  {
    id: "env.management",
    title: "Management API credentials are set (tenant checks)",
    required: false,
    variables: ["AUTH0_DEPLOY_CLIENT_ID", "AUTH0_DEPLOY_CLIENT_SECRET"],
    why: "without them the Action, its binding and the event stream cannot be read",
  },
  {
    id: "env.events",
    title: "the event stream's token is set",
    required: false,
    variables: ["AUTH0_EVENTS_TOKEN"],
    why: "real-time events are optional; without the token they are off",
  },
  {
    id: "env.reconcile",
    title: "the reconcile's variables are set",
    required: false,
    variables: ["AUTH0_M2M_CLIENT_ID", "AUTH0_M2M_CLIENT_SECRET", "AUTH0_SYNC_SECRET"],
    why: "check-sync and sync are optional",
  },
] as const;

const isSet = (env: NodeJS.ProcessEnv, name: string) => (env[name] ?? "").trim() !== "";

/**
 * One line per part: pass when all its variables are set; fail when a required part, or an
 * optional part that is half set, misses some (named); skip when an optional part is unset.
 */
export function variableChecks(env: NodeJS.ProcessEnv): CheckResult[] {
  return PARTS.map((part) => {
    const missing = part.variables.filter((name) => !isSet(env, name));
    const base = { id: part.id, title: part.title };
    if (missing.length === 0) {
      return { ...base, status: "pass", detail: part.variables.join(", ") };
    }
    if (!part.required && missing.length === part.variables.length) {
      return { ...base, status: "skip", detail: `${missing.join(", ")} unset: ${part.why}` };
    }
    return {
      ...base,
      status: "fail",
      detail: `missing ${missing.join(", ")}: set them in .env.local or the environment (see .env.local.example)`,
    };
  });
}

/**
 * Every route secret set here (and its `_PREVIOUS`) meets the rule the routes enforce
 * (server/http/routeSecrets.ts, the same code): fail naming each variable that breaks it, never a
 * value; skip when none is set.
 */
export function secretsCheck(env: NodeJS.ProcessEnv): CheckResult {
  const base = { id: "secrets", title: "the routes' secrets are random, long and distinct" };
  const variables = Object.keys(ROUTE_SECRETS) as RouteSecretVariable[];
  const read = (name: string) => env[name]?.trim();
  const set = variables.flatMap((v) => [v, `${v}_PREVIOUS`]).filter((name) => read(name));
  if (set.length === 0) {
    return { ...base, status: "skip", detail: `${variables.join(", ")} unset` };
  }
  const problems = variables.flatMap((v) => routeSecretProblems(v, read));
  if (problems.length === 0) return { ...base, status: "pass", detail: set.join(", ") };
  return {
    ...base,
    status: "fail",
    detail: `${[...new Set(problems)].join("; ")}. Convex refuses such a secret (the route answers not_configured). The rule: ${SECRET_RULE}; set the new value here and with npx convex env set (and where the sender keeps it: the Action's secrets, the event stream)`,
  };
}

/** CONVEX_HTTP_URL is the deployment's `.convex.site` URL (a loopback stand-in is allowed). */
export function convexUrlCheck(env: NodeJS.ProcessEnv): CheckResult & { origin?: string } {
  const base = { id: "convexUrl", title: "CONVEX_HTTP_URL is a .convex.site URL" };
  const raw = env.CONVEX_HTTP_URL?.trim();
  if (!raw) return { ...base, status: "skip", detail: "CONVEX_HTTP_URL is unset" };
  const checked = convexSiteOrigin(raw, "CONVEX_HTTP_URL");
  if ("problem" in checked) return { ...base, status: "fail", detail: checked.problem };
  const local = !isConvexCloudSite(checked.origin);
  return {
    ...base,
    status: "pass",
    detail: local
      ? `${checked.origin} (not a .convex.site host: a local stand-in or a proxy)`
      : checked.origin,
    origin: checked.origin,
  };
}

/** AUTH0_DOMAIN is a bare domain; returns it normalized for the checks that use it. */
export function domainCheck(env: NodeJS.ProcessEnv): CheckResult & { issuer?: string } {
  const base = { id: "auth0Domain", title: "AUTH0_DOMAIN is a tenant domain" };
  const raw = env.AUTH0_DOMAIN?.trim();
  if (!raw) return { ...base, status: "skip", detail: "AUTH0_DOMAIN is unset" };
  try {
    const issuer = normalizeIssuer(raw);
    return { ...base, status: "pass", detail: issuer, issuer };
  } catch (err) {
    if (!(err instanceof TokenIdentifierError)) throw err;
    return {
      ...base,
      status: "fail",
      detail:
        "AUTH0_DOMAIN must be a bare domain such as tenant.us.auth0.com (no path, query or credentials)",
    };
  }
}
