import { Auth0Client } from "@auth0/nextjs-auth0/server";

// Reads AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_SECRET and APP_BASE_URL from
// .env.local. offline_access gives the session a refresh token, to renew the ID token Convex uses.
export const auth0 = new Auth0Client({
  authorizationParameters: { scope: "openid profile email offline_access" },
});
