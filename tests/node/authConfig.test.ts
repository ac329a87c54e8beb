import { afterEach, expect, test, vi } from "vitest";

// convex/auth.config.ts runs when the deployment is pushed: load it fresh for each environment.
async function loadAuthConfig(variables: Record<string, string | undefined>) {
  vi.resetModules();
  for (const name of ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CUSTOM_DOMAIN"]) {
    vi.stubEnv(name, variables[name]);
  }
  return (await import("../../convex/auth.config")).default;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

test("with both variables set, one provider per configured issuer, audience the Client ID", async () => {
  const config = await loadAuthConfig({
    AUTH0_DOMAIN: "tenant.us.auth0.com",
    AUTH0_CLIENT_ID: "client-123",
    AUTH0_CUSTOM_DOMAIN: "login.example.com",
  });
  expect(config.providers).toEqual([
    { domain: "https://tenant.us.auth0.com/", applicationID: "client-123" },
    { domain: "https://login.example.com/", applicationID: "client-123" },
  ]);
});

test("AUTH0_DOMAIN unset fails the push naming it, instead of trusting no issuer", async () => {
  await expect(loadAuthConfig({ AUTH0_CLIENT_ID: "client-123" })).rejects.toThrow(
    /^Set AUTH0_DOMAIN \(the Auth0 tenant's domain/,
  );
  await expect(
    loadAuthConfig({ AUTH0_DOMAIN: "  ", AUTH0_CLIENT_ID: "client-123" }),
  ).rejects.toThrow(/Set AUTH0_DOMAIN /);
});

test("AUTH0_CLIENT_ID unset fails the push naming it", async () => {
  const error = await loadAuthConfig({ AUTH0_DOMAIN: "tenant.us.auth0.com" }).catch((e) => e);
  expect(String(error)).toMatch(/Set AUTH0_CLIENT_ID \(the Auth0 application's Client ID\)/);
  expect(String(error)).not.toMatch(/AUTH0_DOMAIN/);
});

test("both unset: one error naming both", async () => {
  await expect(loadAuthConfig({})).rejects.toThrow(
    /Set AUTH0_DOMAIN \(.*\) and AUTH0_CLIENT_ID \(.*\) in the Convex deployment/,
  );
});
