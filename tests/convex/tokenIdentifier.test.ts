import { convexTest } from "convex-test";
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet } from "jose";
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import schema from "../../convex/schema";
import {
  configuredIssuers,
  normalizeIssuer,
  parseTokenIdentifier,
  tokenIdentifier,
  TokenIdentifierError,
} from "../../server/tokenIdentifier";

const modules = import.meta.glob("../../convex/**/*.*s");

describe("tokenIdentifier builder", () => {
  test("every usual form of the Auth0 domain gives Auth0's iss, trailing slash included", () => {
    const expected = "https://tenant.us.auth0.com/|auth0|65f0c0ffee";
    for (const issuer of [
      "tenant.us.auth0.com",
      "https://tenant.us.auth0.com",
      "https://tenant.us.auth0.com/",
      "  https://Tenant.US.auth0.com/  ",
    ]) {
      expect(tokenIdentifier(issuer, "auth0|65f0c0ffee")).toBe(expected);
    }
  });

  test("subjects containing | are kept verbatim", () => {
    expect(tokenIdentifier("tenant.auth0.com", "google-oauth2|1234")).toBe(
      "https://tenant.auth0.com/|google-oauth2|1234",
    );
    expect(tokenIdentifier("login.example.com", "samlp|conn|user")).toBe(
      "https://login.example.com/|samlp|conn|user",
    );
  });

  test("an empty issuer or subject is refused with a clear error", () => {
    expect(() => tokenIdentifier("", "auth0|1")).toThrow(/issuer is empty.*AUTH0_DOMAIN/);
    expect(() => tokenIdentifier("   ", "auth0|1")).toThrow(TokenIdentifierError);
    expect(() => tokenIdentifier("tenant.auth0.com", "")).toThrow(/subject.*empty/);
  });

  test("issuers with a path, query or credentials are refused", () => {
    for (const bad of [
      "https://tenant.auth0.com/api/v2/",
      "https://tenant.auth0.com/?x=1",
      "https://user:pw@tenant.auth0.com/",
      "ftp://tenant.auth0.com/",
      "tenant.auth0.com|x",
    ]) {
      expect(() => normalizeIssuer(bad), bad).toThrow(TokenIdentifierError);
    }
  });

  test("the parser inverts the builder, splitting at the first |", () => {
    const id = tokenIdentifier("tenant.auth0.com", "samlp|conn|user");
    expect(parseTokenIdentifier(id)).toEqual({
      issuer: "https://tenant.auth0.com/",
      subject: "samlp|conn|user",
    });
  });

  test("the parser refuses identifiers Convex would never produce for Auth0", () => {
    for (const bad of [
      "",
      "auth0|123",
      "https://tenant.auth0.com/|",
      "|auth0|1",
      "https://tenant.auth0.com|auth0|1",
      "tenant.auth0.com/|auth0|1",
      "no-separator",
    ]) {
      expect(() => parseTokenIdentifier(bad), bad).toThrow(TokenIdentifierError);
    }
  });

  test("configured issuers: canonical and custom domain, normalized, without duplicates", () => {
    expect(configuredIssuers("tenant.auth0.com", "https://login.example.com")).toEqual([
      "https://tenant.auth0.com/",
      "https://login.example.com/",
    ]);
    expect(configuredIssuers("tenant.auth0.com", "https://tenant.auth0.com/")).toEqual([
      "https://tenant.auth0.com/",
    ]);
    expect(configuredIssuers(undefined, "")).toEqual([]);
  });
});

describe("equivalence with the identifier Convex derives from a real Auth0 ID token", () => {
  async function mintAuth0IdToken(domain: string, sub: string) {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
    const iss = `https://${domain}/`;
    const token = await new SignJWT({
      name: "Ada Lovelace",
      nickname: "ada",
      email: "ada@example.com",
      email_verified: true,
      picture: "https://cdn.example.com/ada.png",
      updated_at: "2026-11-01T10:00:00.000Z",
    })
      .setProtectedHeader({ alg: "RS256", kid: "test-key", typ: "JWT" })
      .setIssuer(iss)
      .setSubject(sub)
      .setAudience("client-id-123")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(privateKey);
    return { token, jwks: createLocalJWKSet({ keys: [jwk] }), iss };
  }

  for (const sub of ["auth0|65f0c0ffee", "google-oauth2|1234", "samlp|conn|user"]) {
    test(`verified iss|sub equals the builder for ${sub}`, async () => {
      const { token, jwks } = await mintAuth0IdToken("tenant.us.auth0.com", sub);
      // Convex verifies the token against the provider's JWKS, then joins the verified iss and sub.
      const { payload } = await jwtVerify(token, jwks, {
        issuer: "https://tenant.us.auth0.com/",
        audience: "client-id-123",
        algorithms: ["RS256"],
      });
      const convexIdentifier = `${payload.iss}|${payload.sub}`;
      for (const form of [
        "tenant.us.auth0.com",
        "https://tenant.us.auth0.com",
        "https://tenant.us.auth0.com/",
      ]) {
        expect(tokenIdentifier(form, sub)).toBe(convexIdentifier);
      }
      expect(parseTokenIdentifier(convexIdentifier)).toEqual({ issuer: payload.iss, subject: sub });
    });
  }

  test("auth0.store keys the row exactly as the identity Convex builds from the token", async () => {
    process.env.AUTH0_DOMAIN = "tenant.us.auth0.com";
    const { token, jwks } = await mintAuth0IdToken("tenant.us.auth0.com", "google-oauth2|1234");
    const { payload } = await jwtVerify(token, jwks, { algorithms: ["RS256"] });
    const t = convexTest({ schema, modules, transactionLimits: true });
    // convex-test builds identity.tokenIdentifier as `${issuer}|${subject}`, as Convex does.
    const asUser = t.withIdentity({
      issuer: payload.iss!,
      subject: payload.sub!,
      name: payload.name as string,
    });
    const userId = await asUser.mutation(api.auth0.store, {});
    const row = await t.run((ctx) => ctx.db.get("users", userId));
    expect(row?.tokenIdentifier).toBe(`${payload.iss}|${payload.sub}`);
    expect(row?.tokenIdentifier).toBe(tokenIdentifier("tenant.us.auth0.com", "google-oauth2|1234"));
    expect(row?.auth0UserId).toBe("google-oauth2|1234");
  });
});
