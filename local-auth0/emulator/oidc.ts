/**
 * The tenant as an OpenID Connect issuer: discovery (`/.well-known/openid-configuration`) and the
 * signing keys (`/.well-known/jwks.json`), answered on the tenant domain and on any custom domain
 * in front of it, each naming itself as the issuer, as Auth0 does. ID tokens are RS256, with a
 * `kid` the JWKS lists, `iss` = `https://<the domain used>/`, `aud` = the application's client id.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import type { EmulatorResource } from "./common";

export interface OidcState {
  resource: EmulatorResource;
  /** The public keys, as the JWKS endpoint serves them. */
  jwks: { keys: JWK[] };
  /**
   * Signs an ID token for `sub`, issued by `host` (the tenant domain, or the custom domain the
   * login went through), with the profile claims and any custom claims the Actions set.
   */
  issueIdToken(opts: {
    host: string;
    audience: string;
    sub: string;
    claims: Record<string, unknown>;
    lifetimeS?: number;
  }): Promise<string>;
  /**
   * Signs a Management API access token as Auth0 issues one for client credentials: RS256, `iss`
   * `https://<tenant domain>/`, `sub` `<client_id>@clients`, `aud` the API, `azp`, `scope`, `gty`.
   */
  issueAccessToken(opts: {
    tenantDomain: string;
    audience: string;
    clientId: string;
    scopes: string[];
    lifetimeS: number;
  }): Promise<string>;
}

/** Creates the issuer's key pair and routes. */
export async function createOidc(): Promise<OidcState> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = `emulator-${Date.now().toString(36)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const jwks = { keys: [jwk] };

  const resource: EmulatorResource = {
    getQuery: [],
    route: () => undefined,
    publicRoute(req) {
      if (req.method !== "GET") return undefined;
      const base = `https://${req.host}`;
      if (req.path === "/.well-known/openid-configuration") {
        return [
          200,
          {
            issuer: `${base}/`,
            authorization_endpoint: `${base}/authorize`,
            token_endpoint: `${base}/oauth/token`,
            userinfo_endpoint: `${base}/userinfo`,
            jwks_uri: `${base}/.well-known/jwks.json`,
            response_types_supported: ["code", "id_token", "code id_token"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["RS256"],
            scopes_supported: ["openid", "profile", "email", "offline_access"],
          },
        ];
      }
      if (req.path === "/.well-known/jwks.json") return [200, jwks];
      return undefined;
    },
  };

  return {
    resource,
    jwks,
    async issueIdToken({ host, audience, sub, claims, lifetimeS = 36_000 }) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid })
        .setIssuer(`https://${host}/`)
        .setSubject(sub)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetimeS)
        .sign(privateKey);
    },
    async issueAccessToken({ tenantDomain, audience, clientId, scopes, lifetimeS }) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ azp: clientId, scope: scopes.join(" "), gty: "client-credentials" })
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid })
        .setIssuer(`https://${tenantDomain}/`)
        .setSubject(`${clientId}@clients`)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetimeS)
        .sign(privateKey);
    },
  };
}
