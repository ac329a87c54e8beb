/**
 * The tenant check on the Management API token (scripts/lib/reconcile/tenant.ts): a token whose
 * issuer cannot be read as this tenant's (not a JWT, no `iss`, a malformed one, another tenant's)
 * stops the command (WrongTenantError: exit 2) before any call is made with it.
 */
import { describe, expect, test } from "vitest";
import { WrongTenantError, verifiedTokenSupplier } from "../../scripts/lib/reconcile/tenant";

const DOMAIN = "tenant.eu.auth0.com";
const ISSUER = `https://${DOMAIN}/`;

/** An unsigned JWT with `payload` (the check reads the issuer; the API verifies signatures). */
const jwt = (payload: Record<string, unknown>) =>
  [{ alg: "RS256", typ: "JWT" }, payload]
    .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
    .join(".") + ".c2lnbmF0dXJl";

/** The token the supplier gets, given by a stand-in for Auth0's /oauth/token. */
const supplier = (accessToken: string) =>
  verifiedTokenSupplier(
    { domain: DOMAIN, clientId: "id", clientSecret: "secret" },
    ISSUER,
    (async () => Response.json({ access_token: accessToken, expires_in: 3600 })) as typeof fetch,
  );

describe("a Management API token without a usable issuer is refused", () => {
  test.each([
    ["not a JWT", "opaque-token-value"],
    ["a JWT without iss", jwt({ sub: "client@clients", aud: `${ISSUER}api/v2/` })],
    ["iss not a string", jwt({ iss: 42 })],
    ["iss not a URL", jwt({ iss: "not a domain at all" })],
    ["iss empty", jwt({ iss: "" })],
    ["iss of another tenant", jwt({ iss: "https://other.eu.auth0.com/" })],
    ["iss with a path", jwt({ iss: `${ISSUER}evil/` })],
    ["three parts that are not JSON", "a.b.c"],
  ])("%s", async (_, token) => {
    await expect(supplier(token)()).rejects.toBeInstanceOf(WrongTenantError);
  });

  test("this tenant's token is accepted (with or without the trailing slash)", async () => {
    expect(await supplier(jwt({ iss: ISSUER }))()).toBe(jwt({ iss: ISSUER }));
    expect(await supplier(jwt({ iss: `https://${DOMAIN}` }))()).toBe(
      jwt({ iss: `https://${DOMAIN}` }),
    );
  });
});
