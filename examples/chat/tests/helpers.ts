/**
 * What every test of this app shares: the app's own Convex functions and schema in convex-test
 * (with the deployment's transaction limits), the deployment's variables, and Auth0 identities.
 */
import { convexTest } from "convex-test";
import schema from "../convex/schema";

export const modules = import.meta.glob("../convex/**/*.*s");

/** The tenant's own domain and its custom domain: two issuers, one person. */
export const DOMAIN = "chat-example.us.auth0.com";
export const CUSTOM_DOMAIN = "chat.example.com";
export const EVENTS_TOKEN = "5Sq3YcimpWBnfMAAWDjkzhNBrLasZodxwSUNDKbPmE4";

/** `npx convex env set` for this app's deployment. */
export function setDeploymentVariables(vars: Record<string, string | undefined> = {}): void {
  const all: Record<string, string | undefined> = {
    AUTH0_DOMAIN: DOMAIN,
    AUTH0_CLIENT_ID: "chatExampleClientId",
    AUTH0_CUSTOM_DOMAIN: undefined,
    AUTH0_USER_DELETION: undefined,
    AUTH0_EVENTS_TOKEN: EVENTS_TOKEN,
    CONVEX_SITE_URL: "https://chat-example-123.convex.site",
    ...vars,
  };
  for (const [name, value] of Object.entries(all)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

export const newT = () => convexTest({ schema, modules, transactionLimits: true });
export type T = ReturnType<typeof newT>;

/** An Auth0 user signing in through `domain`, as ConvexProviderWithAuth0's ID token shows them. */
export function identity(
  subject: string,
  name: string,
  domain: string = DOMAIN,
): {
  issuer: string;
  subject: string;
  name: string;
  email: string;
  emailVerified: boolean;
  updatedAt: string;
} {
  const local = name.toLowerCase();
  return {
    issuer: `https://${domain}/`,
    subject,
    name,
    email: `${local}@example.com`,
    emailVerified: true,
    updatedAt: new Date(Date.now() - 3_600_000).toISOString(),
  };
}

/** The `tokenIdentifier` Convex computes for that identity. */
export const tokenOf = (id: { issuer: string; subject: string }) => `${id.issuer}|${id.subject}`;

/** Every `users` row. */
export const allUsers = (t: T) => t.run((ctx) => ctx.db.query("users").collect());
