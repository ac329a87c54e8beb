/**
 * Signing in, once the module is installed: the first login stores one row through the module's
 * `api.auth0.store`, and a login through the custom domain reaches the same row from the app's
 * own `messages.send`, which finds the user with `getCurrentUser`.
 */
import { beforeEach, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import {
  allUsers,
  CUSTOM_DOMAIN,
  DOMAIN,
  identity,
  newT,
  setDeploymentVariables,
  tokenOf,
} from "./helpers";

beforeEach(() => setDeploymentVariables());

test("a first login stores one row through api.auth0.store, and the app's functions find it", async () => {
  const t = newT();
  const alice = t.withIdentity(identity("auth0|alice", "Alice"));

  const userId = await alice.mutation(api.auth0.store, {});
  // The backstop runs at every sign-in: the second call finds the same row.
  expect(await alice.mutation(api.auth0.store, {})).toBe(userId);
  expect(await allUsers(t)).toEqual([
    expect.objectContaining({
      _id: userId,
      tokenIdentifier: tokenOf(identity("auth0|alice", "Alice")),
      auth0UserId: "auth0|alice",
      name: "Alice",
      email: "alice@example.com",
    }),
  ]);
  expect((await alice.query(api.auth0.current, {}))?._id).toBe(userId);

  await alice.mutation(api.messages.send, { body: "hello" });
  expect(await t.query(api.messages.list, {})).toEqual([
    expect.objectContaining({ body: "hello", author: userId, name: "Alice" }),
  ]);
  // Signed out, the app's mutation refuses.
  await expect(t.mutation(api.messages.send, { body: "anonymous" })).rejects.toThrow();
});

test("a login through the custom domain posts as the same user, one row", async () => {
  setDeploymentVariables({ AUTH0_CUSTOM_DOMAIN: CUSTOM_DOMAIN });
  const t = newT();
  const canonical = identity("auth0|bob", "Bob", DOMAIN);
  const custom = identity("auth0|bob", "Bob", CUSTOM_DOMAIN);
  expect(tokenOf(custom)).not.toBe(tokenOf(canonical));

  const userId = await t.withIdentity(canonical).mutation(api.auth0.store, {});
  // The custom domain's token carries another issuer, hence another tokenIdentifier: the app's
  // function still finds Bob's row (the Convex docs' lookup answered "Unauthenticated" here).
  await t.withIdentity(custom).mutation(api.messages.send, { body: "from the custom domain" });
  expect(await t.query(api.messages.list, {})).toEqual([
    expect.objectContaining({ body: "from the custom domain", author: userId, name: "Bob" }),
  ]);
  // And its own store call (the React hook at that sign-in) keeps the one row.
  expect(await t.withIdentity(custom).mutation(api.auth0.store, {})).toBe(userId);
  expect((await allUsers(t)).map((u) => u._id)).toEqual([userId]);
});

test("an issuer the deployment does not trust reaches no row", async () => {
  // Without AUTH0_CUSTOM_DOMAIN, the custom domain is not this tenant as far as the app knows.
  const t = newT();
  await t.withIdentity(identity("auth0|bob", "Bob", DOMAIN)).mutation(api.auth0.store, {});
  await expect(
    t.withIdentity(identity("auth0|bob", "Bob", CUSTOM_DOMAIN)).mutation(api.messages.send, {
      body: "x",
    }),
  ).rejects.toThrow();
  expect(await t.query(api.messages.list, {})).toEqual([]);
});

test("the app's own HTTP route is still served beside the module's", async () => {
  const t = newT();
  const alice = t.withIdentity(identity("auth0|alice", "Alice"));
  await alice.mutation(api.auth0.store, {});
  await alice.mutation(api.messages.send, { body: "over http" });
  const res = await t.fetch("/messages", { method: "GET" });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual([expect.objectContaining({ body: "over http", name: "Alice" })]);
});
