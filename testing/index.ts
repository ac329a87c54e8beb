/**
 * `convex-auth0-users/testing`: helpers for an app's own convex-test tests of code that uses the
 * module. They drive the module's real paths, never a shortcut into the table:
 *
 * - {@link setAuth0TestEnv}: the deployment's variables (`npx convex env set`) for the test.
 * - {@link auth0Identity} / {@link signInAs}: the identity Convex derives from an Auth0 ID token
 *   issued through the tenant's domain or its custom domain (`t.withIdentity(...)`).
 * - {@link logIn}: a login as the module records it, through the Post-Login Action's signed
 *   `POST /auth0/upsert-user` or through `auth0.store` (the React hook's backstop).
 * - {@link deliverUserUpdated} / {@link deliverUserDeleted}: Auth0 Event Stream events through the
 *   real `POST /auth0/events`, with the configured bearer token.
 *
 * Web APIs only (no Node built-ins): it runs under convex-test's `edge-runtime` environment.
 *
 * @example
 * const t = convexTest({ schema, modules, transactionLimits: true });
 * setAuth0TestEnv();
 * const alice = { user_id: "auth0|alice", email: "alice@example.com", name: "Alice" };
 * const { userId } = await logIn(t, alice); // the Action's upsert at login
 * await signInAs(t, alice, { via: "custom" }).mutation(api.posts.create, { body: "hi" });
 * await deliverUserDeleted(t, alice);
 */
import type { UserIdentity } from "convex/server";
import { api } from "../server/api";
import { profileFromAuth0User, type Auth0UserLike } from "../server/users/auth0Profile";
import type { Id } from "../server/builders";
import { EVENTS_PATH } from "../server/events/events";
import { audienceFor, signRequest, UPSERT_USER_PATH } from "../server/http/signedRequest";
import { normalizeIssuer, tokenIdentifier } from "../server/tokenIdentifier";

/** The module's deployment variables as a test sets them. */
export interface Auth0TestEnv {
  AUTH0_DOMAIN: string;
  /** Unset unless given: a login through the custom domain then reaches no row. */
  AUTH0_CUSTOM_DOMAIN?: string;
  AUTH0_CLIENT_ID: string;
  AUTH0_ACTION_SECRET: string;
  AUTH0_EVENTS_TOKEN: string;
  /** `remove` (the default when unset) or `anonymize`. */
  AUTH0_USER_DELETION?: string;
  /** The deployment's `.convex.site` origin, which the signed routes take as their audience. */
  CONVEX_SITE_URL: string;
}

/** What {@link setAuth0TestEnv} sets when given nothing. */
export const DEFAULT_TEST_ENV: Auth0TestEnv = {
  AUTH0_DOMAIN: "test-tenant.us.auth0.com",
  AUTH0_CLIENT_ID: "testClientId0123456789",
  AUTH0_ACTION_SECRET: "firi10DTi7hE1U_5uFL1PU2X54g-JaDnI-c46hz-Amw",
  AUTH0_EVENTS_TOKEN: "-32f7rN19h_yi57TQriVybV0y88Q2NwBzolZwI4DdTA",
  CONVEX_SITE_URL: "https://test-deployment-123.convex.site",
};

const ENV_NAMES = [
  "AUTH0_DOMAIN",
  "AUTH0_CUSTOM_DOMAIN",
  "AUTH0_CLIENT_ID",
  "AUTH0_ACTION_SECRET",
  "AUTH0_EVENTS_TOKEN",
  "AUTH0_USER_DELETION",
  "CONVEX_SITE_URL",
] as const satisfies readonly (keyof Auth0TestEnv)[];

function processEnv(): Record<string, string | undefined> {
  return (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process
    .env;
}

/**
 * Sets the module's deployment variables for the test: {@link DEFAULT_TEST_ENV} with `values`
 * over it (`undefined` unsets one). Every other variable of the module is unset, so a value left
 * over from another test cannot leak in. Returns a function that puts back what was there.
 */
export function setAuth0TestEnv(values: Partial<Auth0TestEnv> = {}): () => void {
  const env = processEnv();
  const before = Object.fromEntries(ENV_NAMES.map((name) => [name, env[name]]));
  const next: Partial<Auth0TestEnv> = { ...DEFAULT_TEST_ENV, ...values };
  for (const name of ENV_NAMES) {
    const value = next[name];
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return () => {
    for (const name of ENV_NAMES) {
      const value = before[name];
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
  };
}

function required(name: keyof Auth0TestEnv): string {
  const value = processEnv()[name];
  if (!value) {
    throw new Error(`${name} is not set: call setAuth0TestEnv() first (or set it in the test)`);
  }
  return value;
}

/** An Auth0 user, in Auth0's own shape (an Action's `event.user`, an event's `data.object`). */
export interface Auth0TestUser extends Auth0UserLike {
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
}

/** Which of the tenant's domains issued the token: `AUTH0_DOMAIN` or `AUTH0_CUSTOM_DOMAIN`. */
export type Issuer = "canonical" | "custom";

/** An organization login: the token's `org_id`, and what the Action reports for it. */
export interface TestOrganization {
  id: string;
  name: string;
  displayName?: string;
  /** The member's roles in it (the Action's `event.authorization.roles`). */
  roles?: string[];
}

export interface LoginOptions {
  /** The domain the person signed in through; default `canonical`. */
  via?: Issuer;
  /** Sign in through this organization. */
  organization?: TestOrganization;
}

/** The `iss` of tokens issued through `via`, as Auth0 writes it (`https://<domain>/`). */
export function issuerOf(via: Issuer = "canonical"): string {
  const domain = via === "custom" ? required("AUTH0_CUSTOM_DOMAIN") : required("AUTH0_DOMAIN");
  return normalizeIssuer(domain);
}

const iso = (value: string | Date | null | undefined): string | undefined =>
  value === null || value === undefined
    ? undefined
    : value instanceof Date
      ? value.toISOString()
      : value;

/**
 * The identity Convex derives from the user's ID token issued through `via`: `issuer`,
 * `subject`, `tokenIdentifier` (`${iss}|${sub}`, as Convex builds it) and the profile claims
 * (`name`, `email`, `emailVerified`, `pictureUrl`, ..., `updatedAt`), plus `org_id` for an
 * organization login.
 */
export function auth0Identity(
  user: Auth0TestUser,
  options: LoginOptions = {},
): Partial<UserIdentity> & { issuer: string; subject: string; tokenIdentifier: string } {
  const issuer = issuerOf(options.via);
  const claims: Record<string, unknown> = {
    issuer,
    subject: user.user_id,
    tokenIdentifier: tokenIdentifier(issuer, user.user_id),
    name: user.name ?? undefined,
    nickname: user.nickname ?? undefined,
    givenName: user.given_name ?? undefined,
    familyName: user.family_name ?? undefined,
    pictureUrl: user.picture ?? undefined,
    email: user.email ?? undefined,
    emailVerified: user.email_verified ?? undefined,
    updatedAt: iso(user.updated_at),
    org_id: options.organization?.id,
  };
  for (const key of Object.keys(claims)) if (claims[key] === undefined) delete claims[key];
  return claims as Partial<UserIdentity> & {
    issuer: string;
    subject: string;
    tokenIdentifier: string;
  };
}

/** What the helpers need of a convex-test instance (`convexTest(...)`). */
export interface TestBackend<Signed = unknown> {
  withIdentity(identity: Partial<UserIdentity>): Signed;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** `t.withIdentity(...)` for the user signed in through `via`: call the app's functions as them. */
export function signInAs<Signed>(
  t: TestBackend<Signed>,
  user: Auth0TestUser,
  options: LoginOptions = {},
): Signed {
  return t.withIdentity(auth0Identity(user, options));
}

/** A reply of one of the module's routes. */
export interface RouteReply {
  status: number;
  json: Record<string, unknown>;
}

async function reply(response: Response): Promise<RouteReply> {
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}

class RouteError extends Error {
  constructor(
    what: string,
    readonly reply: RouteReply,
  ) {
    super(`${what} answered ${reply.status} ${JSON.stringify(reply.json)}`);
    this.name = "RouteError";
  }
}

/**
 * A login as the module records it. `path: "action"` (the default) is the Post-Login Action's
 * request: the user's profile (and organization) POSTed to `/auth0/upsert-user`, signed with
 * `AUTH0_ACTION_SECRET` for `CONVEX_SITE_URL`, exactly as the shipped Action signs it.
 * `path: "store"` is the browser's backstop: `auth0.store` under the user's identity. Returns the
 * row's id; throws (with the route's answer) when the module refuses the login.
 */
export async function logIn(
  t: TestBackend<{
    mutation: (ref: typeof api.auth0.store, args: Record<string, never>) => Promise<unknown>;
  }>,
  user: Auth0TestUser,
  options: LoginOptions & { path?: "action" | "store" } = {},
): Promise<{ userId: Id<"users"> }> {
  if (options.path === "store") {
    const userId = await signInAs(t, user, options).mutation(api.auth0.store, {});
    return { userId: userId as Id<"users"> };
  }
  const org = options.organization;
  const body = JSON.stringify({
    tokenIdentifier: tokenIdentifier(issuerOf(options.via), user.user_id),
    // The user's metadata goes along, as the Action sends it, for the app's mapped fields.
    ...profileFromAuth0User(user, "all"),
    ...(org
      ? {
          organization: {
            id: org.id,
            name: org.name,
            ...(org.displayName ? { displayName: org.displayName } : {}),
            roles: org.roles ?? [],
          },
        }
      : {}),
  });
  const token = await signRequest(
    required("AUTH0_ACTION_SECRET"),
    body,
    audienceFor(required("CONVEX_SITE_URL"), UPSERT_USER_PATH),
  );
  const answer = await reply(
    await t.fetch(UPSERT_USER_PATH, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    }),
  );
  if (answer.status !== 200) throw new RouteError(`POST ${UPSERT_USER_PATH}`, answer);
  return { userId: answer.json.userId as Id<"users"> };
}

let eventCounter = 0;

/** Delivers one CloudEvent to `/auth0/events` as Auth0's webhook does (bearer token). */
export async function deliverEvent(
  t: TestBackend,
  event: { id?: string; type: string; time?: Date; object: Record<string, unknown> },
): Promise<RouteReply> {
  const time = event.time ?? new Date();
  const envelope = {
    id: event.id ?? `evt_test_${Date.now().toString(16)}_${(++eventCounter).toString(16)}`,
    source: `urn:auth0:${required("AUTH0_DOMAIN")}`,
    specversion: "1.0",
    type: event.type,
    time: time.toISOString(),
    data: { object: event.object },
  };
  return await reply(
    await t.fetch(EVENTS_PATH, {
      method: "POST",
      headers: {
        authorization: `Bearer ${required("AUTH0_EVENTS_TOKEN")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(envelope),
    }),
  );
}

/**
 * An admin's change reaching Convex: a `user.updated` event carrying the user's whole profile.
 * Give the profile a newer `updated_at` than the stored one (default: now), or it is superseded.
 */
export async function deliverUserUpdated(
  t: TestBackend,
  user: Auth0TestUser,
  options: { id?: string; time?: Date } = {},
): Promise<RouteReply> {
  const object = { ...user, updated_at: iso(user.updated_at) ?? new Date().toISOString() };
  return await deliverEvent(t, { ...options, type: "user.updated", object });
}

/** The user deleted in Auth0: a `user.deleted` event (default deletion time: now). */
export async function deliverUserDeleted(
  t: TestBackend,
  user: Pick<Auth0TestUser, "user_id"> & Partial<Auth0TestUser>,
  options: { id?: string; deletedAt?: Date } = {},
): Promise<RouteReply> {
  const deletedAt = options.deletedAt ?? new Date();
  const object = {
    ...user,
    updated_at: iso(user.updated_at) ?? new Date(deletedAt.getTime() - 1000).toISOString(),
    deleted_at: deletedAt.toISOString(),
  };
  return await deliverEvent(t, { id: options.id, time: deletedAt, type: "user.deleted", object });
}
