/**
 * The configuration every reconcile command needs, read from the environment (and `.env.local`,
 * loaded by the caller) and checked before any call: every missing or malformed variable is named
 * at once, and no value is ever echoed.
 */
import { normalizeIssuer, TokenIdentifierError } from "../../../server/tokenIdentifier";
import type { ManagementCredentials } from "../managementApi";
import { convexSiteOrigin } from "../signedPost";

export interface SyncConfig {
  /** The machine-to-machine app with `read:users` only (not the deploy's credentials). */
  auth0: ManagementCredentials;
  convex: {
    /** The deployment's `.convex.site` origin. */
    origin: string;
    /** AUTH0_SYNC_SECRET: signs the sync routes' requests. */
    secret: string;
  };
}

/** The variables, for error messages and the README. */
export const SYNC_VARIABLES = [
  "AUTH0_DOMAIN",
  "AUTH0_M2M_CLIENT_ID",
  "AUTH0_M2M_CLIENT_SECRET",
  "AUTH0_SYNC_SECRET",
  "CONVEX_SITE_URL",
] as const;

/** The deployment's HTTP origin: CONVEX_SITE_URL, else derived from CONVEX_URL (`.convex.cloud`). */
function siteUrl(env: NodeJS.ProcessEnv): { value?: string; variable: string } {
  const site = env.CONVEX_SITE_URL?.trim();
  if (site) return { value: site, variable: "CONVEX_SITE_URL" };
  const cloud = env.CONVEX_URL?.trim();
  if (cloud) {
    try {
      const url = new URL(cloud);
      if (url.hostname.endsWith(".convex.cloud")) {
        url.hostname = url.hostname.replace(/\.convex\.cloud$/, ".convex.site");
        return { value: url.origin, variable: "CONVEX_URL" };
      }
    } catch {
      // reported below as not derivable
    }
  }
  return { variable: "CONVEX_SITE_URL" };
}

/** Reads and checks the configuration; `problems` names every missing or malformed variable. */
export function readSyncConfig(
  env: NodeJS.ProcessEnv,
): { config: SyncConfig } | { problems: string[] } {
  const problems: string[] = [];
  const required = [
    "AUTH0_DOMAIN",
    "AUTH0_M2M_CLIENT_ID",
    "AUTH0_M2M_CLIENT_SECRET",
    "AUTH0_SYNC_SECRET",
  ];
  const missing: string[] = required.filter((name) => !env[name]?.trim());
  const site = siteUrl(env);
  if (!site.value) missing.push("CONVEX_SITE_URL");
  if (missing.length > 0) {
    problems.push(
      `missing ${missing.join(", ")}: set them in the environment or in .env.local (see .env.local.example)`,
    );
  }

  let domain = "";
  const rawDomain = env.AUTH0_DOMAIN?.trim();
  if (rawDomain) {
    try {
      domain = new URL(normalizeIssuer(rawDomain)).host;
    } catch (err) {
      if (!(err instanceof TokenIdentifierError)) throw err;
      problems.push(
        "AUTH0_DOMAIN must be your tenant's domain, e.g. tenant.us.auth0.com (no path, query or credentials)",
      );
    }
  }
  let origin = "";
  if (site.value) {
    const checked = convexSiteOrigin(site.value, site.variable);
    if ("problem" in checked) problems.push(checked.problem);
    else origin = checked.origin;
  }
  const secret = env.AUTH0_SYNC_SECRET?.trim() ?? "";
  if (secret && secret.length < 32) {
    problems.push("AUTH0_SYNC_SECRET is shorter than 32 characters: use openssl rand -base64 32");
  }
  if (problems.length > 0) return { problems };
  return {
    config: {
      auth0: {
        domain,
        clientId: env.AUTH0_M2M_CLIENT_ID!.trim(),
        clientSecret: env.AUTH0_M2M_CLIENT_SECRET!.trim(),
      },
      convex: { origin, secret },
    },
  };
}
