/**
 * The one place where the identity key of a user is built and read.
 *
 * Convex sets `identity.tokenIdentifier` to `${iss}|${sub}`, copying `iss` verbatim from the verified
 * ID token. Auth0's `iss` is `https://<domain>/` (scheme and trailing slash included), so every part
 * of this project (Convex functions, the Post-Login Action, the React hook) builds the key here, from
 * whatever form of the domain it has at hand, and gets the byte-identical string Convex computes.
 *
 * No Convex or Node imports: the Action bundle and the browser import this file too.
 */

/** Thrown for an issuer, subject or identifier that cannot form a valid key. */
export class TokenIdentifierError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenIdentifierError";
  }
}

/**
 * Normalizes an Auth0 domain or issuer to the `iss` Auth0 puts in its tokens.
 *
 * `tenant.auth0.com`, `https://tenant.auth0.com` and `https://TENANT.auth0.com/` all give
 * `https://tenant.auth0.com/`.
 */
export function normalizeIssuer(issuer: string): string {
  if (typeof issuer !== "string" || issuer.trim() === "") {
    throw new TokenIdentifierError(
      "Auth0 issuer is empty: set AUTH0_DOMAIN to your tenant's domain, e.g. tenant.us.auth0.com",
    );
  }
  const raw = issuer.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TokenIdentifierError(
      `Auth0 issuer "${raw}" is not a domain or URL: expected e.g. tenant.us.auth0.com`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TokenIdentifierError(`Auth0 issuer "${raw}" must be an https URL or a bare domain`);
  }
  if (url.search || url.hash || url.username || url.password || raw.includes("|")) {
    throw new TokenIdentifierError(
      `Auth0 issuer "${raw}" must be a bare domain, without path, query or credentials`,
    );
  }
  // URL lower-cases the host; a path other than "/" is not an Auth0 issuer.
  if (url.pathname !== "/") {
    throw new TokenIdentifierError(
      `Auth0 issuer "${raw}" must be a bare domain, without path, query or credentials`,
    );
  }
  return `${url.protocol}//${url.host}/`;
}

/**
 * Builds the key Convex computes for an Auth0 ID token: `${iss}|${sub}`.
 *
 * @param issuer Auth0 domain or issuer in any of its usual forms (see {@link normalizeIssuer}).
 * @param subject The Auth0 user id (`event.user.user_id`, the token's `sub`), kept verbatim:
 *   it may itself contain `|`, as in `samlp|conn|user`.
 * @example tokenIdentifier("tenant.auth0.com", "auth0|123") // "https://tenant.auth0.com/|auth0|123"
 */
export function tokenIdentifier(issuer: string, subject: string): string {
  const iss = normalizeIssuer(issuer);
  if (typeof subject !== "string" || subject === "") {
    throw new TokenIdentifierError("Auth0 subject (user_id) is empty");
  }
  return `${iss}|${subject}`;
}

/** The two halves of a token identifier. */
export interface ParsedTokenIdentifier {
  /** Normalized issuer, `https://<domain>/`. */
  issuer: string;
  /** Auth0 user id, verbatim. */
  subject: string;
}

/**
 * Splits a key built by {@link tokenIdentifier} back into issuer and subject.
 *
 * The issuer contains no `|`, so the first `|` is the separator and the rest is the subject.
 * Throws {@link TokenIdentifierError} unless the issuer part is already in normalized form, so
 * that a key which Convex would never produce is refused instead of stored.
 */
export function parseTokenIdentifier(value: string): ParsedTokenIdentifier {
  if (typeof value !== "string") {
    throw new TokenIdentifierError("tokenIdentifier must be a string");
  }
  const sep = value.indexOf("|");
  if (sep <= 0 || sep === value.length - 1) {
    throw new TokenIdentifierError(
      `tokenIdentifier must look like "https://<auth0-domain>/|<user_id>"`,
    );
  }
  const issuer = value.slice(0, sep);
  const subject = value.slice(sep + 1);
  let normalized: string;
  try {
    normalized = normalizeIssuer(issuer);
  } catch {
    throw new TokenIdentifierError(
      `tokenIdentifier must look like "https://<auth0-domain>/|<user_id>"`,
    );
  }
  if (normalized !== issuer) {
    throw new TokenIdentifierError(
      `tokenIdentifier issuer "${issuer}" is not in Auth0's form; expected "${normalized}"`,
    );
  }
  return { issuer, subject };
}

/**
 * The issuers this deployment accepts, normalized: the canonical Auth0 domain and, when set, the
 * custom domain. A user who signs in through both has two token identifiers but one `users` row.
 */
export function configuredIssuers(domain?: string, customDomain?: string): string[] {
  const issuers: string[] = [];
  for (const d of [domain, customDomain]) {
    if (d && d.trim() !== "") {
      const iss = normalizeIssuer(d);
      if (!issuers.includes(iss)) issuers.push(iss);
    }
  }
  return issuers;
}
