/**
 * Which Auth0 tenant a command talks to, checked against the tenant the Convex deployment trusts,
 * before any listing, per-user check or write. A shell holding another tenant's credentials (dev
 * credentials in a prod shell, a copied `.env.local`) would otherwise see every Convex user
 * "gone" (that tenant answers 404) and delete them all.
 *
 * Two proofs: the configured AUTH0_DOMAIN must be Convex's canonical issuer (its AUTH0_DOMAIN),
 * and the Management API access token the command then uses must have been issued by that tenant
 * (Auth0 signs it with `iss` = `https://<tenant domain>/`). Every call is made with a token whose
 * issuer was checked: a renewed token is checked again.
 */
import { decodeJwt } from "jose";
import { normalizeIssuer, TokenIdentifierError } from "../../../server/tokenIdentifier";
import type { ManagementCredentials } from "../managementApi";
import { managementFailure, ReconcileError } from "./errors";

/** A tenant mismatch: the command stops (exit 2) before reading or writing anything. */
export class WrongTenantError extends ReconcileError {
  constructor(message: string) {
    super(message);
    this.name = "WrongTenantError";
  }
}

const hostOf = (issuer: string) => issuer.replace(/^https:\/\//, "").replace(/\/$/, "");

/** `https://host/`, or undefined when `value` is not a bare Auth0 domain or issuer. */
function issuerOrUndefined(value: string): string | undefined {
  try {
    return normalizeIssuer(value);
  } catch (err) {
    if (err instanceof TokenIdentifierError) return undefined;
    throw err;
  }
}

/** Refuses when the configured domain is not the tenant Convex trusts (its canonical issuer). */
export function checkConfiguredTenant(configuredDomain: string, canonicalIssuer: string): void {
  const configured = issuerOrUndefined(configuredDomain);
  const trusted = issuerOrUndefined(canonicalIssuer);
  if (!trusted) {
    throw new ReconcileError(
      "Convex sent no usable canonical issuer (its AUTH0_DOMAIN): nothing was read or written",
    );
  }
  if (configured !== trusted) {
    throw new WrongTenantError(
      `wrong tenant: AUTH0_DOMAIN here is ${configured ? hostOf(configured) : "(malformed)"}, but this Convex deployment trusts ${hostOf(trusted)} (its AUTH0_DOMAIN). Nothing was read or written. Use the credentials of ${hostOf(trusted)}, or point CONVEX_SITE_URL at the deployment of ${hostOf(configured ?? "the other tenant")}`,
    );
  }
}

/** Refuses a Management API token that another tenant issued. */
export function checkTokenIssuer(accessToken: string, canonicalIssuer: string): void {
  let iss: unknown;
  try {
    iss = decodeJwt(accessToken).iss;
  } catch {
    throw new WrongTenantError(
      "the Management API access token is not a JWT, so the tenant that issued it cannot be checked: nothing was read or written",
    );
  }
  const issuer = typeof iss === "string" ? issuerOrUndefined(iss) : undefined;
  if (issuer !== canonicalIssuer) {
    throw new WrongTenantError(
      `wrong tenant: the Management API token for AUTH0_DOMAIN was issued by ${typeof iss === "string" ? hostOf(iss) : "no tenant (no iss)"}, but this Convex deployment trusts ${hostOf(canonicalIssuer)}. Nothing was read or written`,
    );
  }
}

interface TokenReply {
  access_token?: unknown;
  expires_in?: unknown;
}

/**
 * A token supplier for the ManagementClient: fetches a client-credentials token, checks its
 * issuer, and keeps it until a minute before it expires. Call it once before anything else so a
 * wrong tenant stops the command at once.
 */
export function verifiedTokenSupplier(
  credentials: ManagementCredentials,
  canonicalIssuer: string,
  fetchImpl: typeof fetch,
): () => Promise<string> {
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    let response: Response;
    try {
      response = await fetchImpl(`https://${credentials.domain}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "client_credentials",
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
          audience: `https://${credentials.domain}/api/v2/`,
        }),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new ReconcileError(
        `could not reach Auth0 at AUTH0_DOMAIN (${credentials.domain}): ${cause ?? String(err)}`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as TokenReply;
    if (!response.ok || typeof body.access_token !== "string") {
      throw managementFailure(
        Object.assign(new Error(`token request answered ${response.status}`), {
          statusCode: response.status,
          body,
        }),
        "getting a Management API token",
      );
    }
    checkTokenIssuer(body.access_token, canonicalIssuer);
    const lifetimeS = typeof body.expires_in === "number" ? body.expires_in : 3600;
    cached = {
      token: body.access_token,
      renewAt: Date.now() + Math.max(lifetimeS - 60, 1) * 1000,
    };
    return cached.token;
  };
}
