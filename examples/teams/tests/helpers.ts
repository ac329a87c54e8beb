/// <reference types="vite/client" />
/**
 * What every test of this app shares: the app's Convex functions and schema in convex-test, with
 * the deployment's transaction limits; the people and the organization of the tests; a login
 * through the organization as the app sees it (the module's Action, then the dashboard's
 * `organizations.syncFromToken`).
 */
import { auth0Identity, logIn, type Auth0TestUser, type Issuer } from "convex-auth0-users/testing";
import { convexTest } from "convex-test";
import { api } from "../convex/_generated/api";
import schema from "../convex/schema";

export const modules = import.meta.glob("../convex/**/*.*s");

export const newT = () => convexTest({ schema, modules, transactionLimits: true });
export type T = ReturnType<typeof newT>;

export const CUSTOM_DOMAIN = "login.teams.example.com";

/** Profiles as Auth0 holds them, dated an hour ago: later changes get a later `updated_at`. */
const anHourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
export const alice = (): Auth0TestUser => ({
  user_id: "auth0|alice",
  email: "alice.liddell@acme.example",
  email_verified: true,
  name: "Alice Liddell",
  picture: "https://s.gravatar.com/avatar/alice.png",
  updated_at: anHourAgo(),
});
export const bob = (): Auth0TestUser => ({
  user_id: "google-oauth2|1029384756",
  email: "bob@acme.example",
  email_verified: true,
  name: "Bob Builder",
  picture: "https://lh3.googleusercontent.com/bob.png",
  updated_at: anHourAgo(),
});

export const ACME = { id: "org_acme0123456789", name: "acme", displayName: "Acme Inc." };

/** The claim the app's own Post-Login Action adds with the member's roles. */
const ROLES_CLAIM = "https://teams.example.com/roles";

/** The identity of a login through Acme, with the claims the app reads (`org_id`, `org_name`,
 * its roles claim). */
export function acmeIdentity(user: Auth0TestUser, roles: string[], via?: Issuer) {
  return {
    ...auth0Identity(user, { via, organization: { ...ACME, roles } }),
    org_name: ACME.name,
    [ROLES_CLAIM]: roles,
  };
}

/** `user` logs in through Acme: the module's Action stores them, then the dashboard caches the
 * organization and the membership in the app's own tables. */
export async function joinAcme(
  t: T,
  user: Auth0TestUser,
  { roles = [], via }: { roles?: string[]; via?: Issuer } = {},
) {
  const { userId } = await logIn(t, user, { via, organization: { ...ACME, roles } });
  const organizationId = await t
    .withIdentity(acmeIdentity(user, roles, via))
    .mutation(api.organizations.syncFromToken, {});
  if (organizationId === null) throw new Error("the login named no organization");
  return { userId, organizationId, as: t.withIdentity(acmeIdentity(user, roles, via)) };
}

/** Every `users` row. */
export const allUsers = (t: T) => t.run((ctx) => ctx.db.query("users").collect());
