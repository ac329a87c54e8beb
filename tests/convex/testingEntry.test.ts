/**
 * The `convex-auth0-users/testing` helpers, used as an app's tests use them (here on this
 * repository's own convex/ app, limits on): they configure the deployment, log people in through
 * both login paths and both issuers, and deliver events through the real routes, and what they do
 * is what the module records.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import schema from "../../convex/schema";
import {
  auth0Identity,
  DEFAULT_TEST_ENV,
  deliverUserDeleted,
  deliverUserUpdated,
  logIn,
  setAuth0TestEnv,
  signInAs,
  type Auth0TestUser,
} from "../../testing";

const modules = import.meta.glob("../../convex/**/*.*s");
const CUSTOM_DOMAIN = "login.example.com";

const HOUR = 3_600_000;
const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR).toISOString();
const alice: Auth0TestUser = {
  user_id: "google-oauth2|1093",
  email: "alice@example.com",
  email_verified: true,
  name: "Alice Liddell",
  picture: "https://cdn.example.com/alice.png",
  updated_at: hoursAgo(2),
};

let restore: () => void;
beforeEach(() => {
  restore = setAuth0TestEnv({ AUTH0_CUSTOM_DOMAIN: CUSTOM_DOMAIN });
});
afterEach(() => restore());

const newT = () => convexTest({ schema, modules, transactionLimits: true });
const users = (t: ReturnType<typeof newT>) => t.run((ctx) => ctx.db.query("users").collect());

test("the identity is Convex's for a token of either domain", () => {
  expect(auth0Identity(alice)).toEqual({
    issuer: `https://${DEFAULT_TEST_ENV.AUTH0_DOMAIN}/`,
    subject: alice.user_id,
    tokenIdentifier: `https://${DEFAULT_TEST_ENV.AUTH0_DOMAIN}/|google-oauth2|1093`,
    name: "Alice Liddell",
    email: "alice@example.com",
    emailVerified: true,
    pictureUrl: "https://cdn.example.com/alice.png",
    updatedAt: alice.updated_at,
  });
  expect(auth0Identity(alice, { via: "custom" }).tokenIdentifier).toBe(
    "https://login.example.com/|google-oauth2|1093",
  );
});

test("a login through the Action, then through the custom domain's store, is one row", async () => {
  const t = newT();
  const { userId } = await logIn(t, alice);
  const [row] = await users(t);
  expect(row).toMatchObject({
    _id: userId,
    tokenIdentifier: auth0Identity(alice).tokenIdentifier,
    auth0UserId: alice.user_id,
    email: alice.email,
    name: alice.name,
    avatarUrl: alice.picture,
    auth0UpdatedAt: Date.parse(alice.updated_at as string),
  });
  expect(row.lastActiveAt).toBeTypeOf("number");

  // The same person through the custom domain: the app's functions find the same row.
  const viaCustom = signInAs(t, alice, { via: "custom" });
  expect((await viaCustom.query(api.auth0.current, {}))?._id).toBe(userId);
  expect((await logIn(t, alice, { via: "custom", path: "store" })).userId).toBe(userId);
  expect(await users(t)).toHaveLength(1);
});

test("events reach the row through the real route, signed with the configured token", async () => {
  const t = newT();
  const { userId } = await logIn(t, alice);
  const renamed = await deliverUserUpdated(t, {
    ...alice,
    name: "Alice Pleasance Liddell",
    updated_at: hoursAgo(1),
  });
  expect(renamed).toMatchObject({ status: 200, json: { outcome: "applied", duplicate: false } });
  const me = signInAs(t, alice);
  expect(await me.query(api.auth0.current, {})).toMatchObject({
    _id: userId,
    name: "Alice Pleasance Liddell",
  });

  const deleted = await deliverUserDeleted(t, alice);
  expect(deleted).toMatchObject({ status: 200, json: { outcome: "applied" } });
  expect(await me.query(api.auth0.current, {})).toBeNull();
  expect(await users(t)).toEqual([]);
  // A login with the profile from before the deletion does not bring her back.
  await expect(logIn(t, alice)).rejects.toThrow(/409.*user_deleted/);
  expect(await users(t)).toEqual([]);
});

test("an organization login records the membership the app's guards read", async () => {
  const t = newT();
  const organization = { id: "org_acme", name: "acme", displayName: "Acme", roles: ["admin"] };
  await logIn(t, alice, { organization });
  expect(
    await signInAs(t, alice, { organization }).query(api.auth0.currentOrganization, {}),
  ).toEqual({ auth0OrgId: "org_acme", name: "acme", displayName: "Acme", roles: ["admin"] });
});

test("a wrong secret is refused like a deployment refuses it; restore puts the variables back", async () => {
  const t = newT();
  const before = process.env.AUTH0_ACTION_SECRET;
  const undo = setAuth0TestEnv({
    AUTH0_ACTION_SECRET: "Bs0dYVCw-bTVur2Z-yD_x7YWZwucJ0pO5jtXlzae4aA",
  });
  // The deployment has another secret than the Action: sign with one, verify with the other.
  process.env.AUTH0_ACTION_SECRET = DEFAULT_TEST_ENV.AUTH0_ACTION_SECRET;
  const signed = logIn(t, alice);
  process.env.AUTH0_ACTION_SECRET = "Bs0dYVCw-bTVur2Z-yD_x7YWZwucJ0pO5jtXlzae4aA";
  await expect(signed).rejects.toThrow(/401.*bad_signature/);
  undo();
  expect(process.env.AUTH0_ACTION_SECRET).toBe(before);
  expect(process.env.AUTH0_CUSTOM_DOMAIN).toBe(CUSTOM_DOMAIN);
});
