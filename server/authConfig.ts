/**
 * The Auth0 providers for the app's `convex/auth.config.ts`:
 * `export default { providers: auth0Providers() } satisfies AuthConfig;`
 */
import type { AuthConfig } from "convex/server";
import { configuredIssuers } from "./tokenIdentifier";
import { deploymentVariable } from "./deploymentVariables";

const REQUIRED = {
  AUTH0_DOMAIN: "the Auth0 tenant's domain, e.g. tenant.us.auth0.com",
  AUTH0_CLIENT_ID: "the Auth0 application's Client ID",
} as const;

/**
 * One provider per trusted issuer (the tenant's domain and, when set, AUTH0_CUSTOM_DOMAIN), each
 * with the application's Client ID as audience. Evaluated at push time: a missing variable throws,
 * naming it, so the push fails instead of a deployment that trusts no issuer and silently refuses
 * every sign-in.
 */
export function auth0Providers(): AuthConfig["providers"] {
  const missing = (Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]).filter(
    (name) => (deploymentVariable(name) ?? "").trim() === "",
  );
  if (missing.length > 0) {
    throw new Error(
      `Set ${missing.map((name) => `${name} (${REQUIRED[name]})`).join(" and ")} in the Convex deployment (npx convex env set NAME value), then push again`,
    );
  }
  // ConvexProviderWithAuth0 sends the ID token, whose `aud` is the Auth0 application's Client ID.
  // A custom domain issues tokens with its own `iss`, so it is a second provider.
  const applicationID = deploymentVariable("AUTH0_CLIENT_ID")!;
  return configuredIssuers(
    deploymentVariable("AUTH0_DOMAIN"),
    deploymentVariable("AUTH0_CUSTOM_DOMAIN"),
  ).map((domain) => ({ domain, applicationID }));
}
