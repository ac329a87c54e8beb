/* eslint-disable @convex-dev/no-process-env -- auth.config.ts is evaluated at push time, before _generated exists */
import type { AuthConfig } from "convex/server";
import { configuredIssuers } from "./tokenIdentifier";

// ConvexProviderWithAuth0 sends the ID token, whose `aud` is the Auth0 application's Client ID.
// A custom domain issues tokens with its own `iss`, so it is a second provider.
const applicationID = process.env.AUTH0_CLIENT_ID;
if (!applicationID) {
  throw new Error(
    "Set AUTH0_CLIENT_ID (the Auth0 application's Client ID) in the Convex deployment",
  );
}

export default {
  providers: configuredIssuers(process.env.AUTH0_DOMAIN, process.env.AUTH0_CUSTOM_DOMAIN).map(
    (domain) => ({ domain, applicationID }),
  ),
} satisfies AuthConfig;
