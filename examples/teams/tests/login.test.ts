/**
 * Signing in once the module is installed: the first login stores one row with the app's own
 * required fields, and the app's functions (convex-helpers `userQuery` / `userMutation`) find it
 * as `ctx.user`, through the tenant's domain or its custom domain.
 */
import { logIn, setAuth0TestEnv, signInAs } from "convex-auth0-users/testing";
import { afterEach, beforeEach, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { alice, allUsers, CUSTOM_DOMAIN, joinAcme, newT } from "./helpers";

let restore: () => void;
beforeEach(() => {
  restore = setAuth0TestEnv({ AUTH0_CUSTOM_DOMAIN: CUSTOM_DOMAIN });
});
afterEach(() => restore());

test("a first login stores one row with the app's fields, and ctx.user is that row", async () => {
  const t = newT();
  const { userId } = await logIn(t, alice());

  expect(await allUsers(t)).toEqual([
    expect.objectContaining({
      _id: userId,
      auth0UserId: "auth0|alice",
      email: "alice.liddell@acme.example",
      name: "Alice Liddell",
      avatarUrl: "https://s.gravatar.com/avatar/alice.png",
      usertag: "aliceliddell",
      plan: "free",
    }),
  ]);
  const me = await signInAs(t, alice()).query(api.users.current, {});
  expect(me._id).toBe(userId);
  expect(me.usertag).toBe("aliceliddell");
  // The browser's backstop at the same sign-in finds the row the Action stored.
  expect((await logIn(t, alice(), { path: "store" })).userId).toBe(userId);
  expect(await allUsers(t)).toHaveLength(1);
});

test("a custom-domain login goes through the app's own functions as the same user: one row", async () => {
  const t = newT();
  const { userId, organizationId } = await joinAcme(t, alice(), { roles: ["admin"] });

  // Another issuer, so another tokenIdentifier: ctx.user is still Alice's one row.
  const custom = signInAs(t, alice(), { via: "custom" });
  expect((await custom.query(api.users.current, {}))._id).toBe(userId);
  const projectId = await custom.mutation(api.projects.create, {
    organizationId,
    name: "Launch",
  });
  expect(await custom.query(api.projects.list, { organizationId })).toEqual([
    { _id: projectId, name: "Launch", createdBy: expect.objectContaining({ _id: userId }) },
  ]);
  // The Action and the browser's store at that login keep the one row.
  expect((await logIn(t, alice(), { via: "custom" })).userId).toBe(userId);
  expect((await logIn(t, alice(), { via: "custom", path: "store" })).userId).toBe(userId);
  expect((await allUsers(t)).map((u) => u._id)).toEqual([userId]);
});

test("signed out, or signed in without a row, the app's functions refuse", async () => {
  const t = newT();
  await expect(t.query(api.users.current, {})).rejects.toThrow(/Not signed in/);
  await expect(signInAs(t, alice()).query(api.users.current, {})).rejects.toThrow();
  expect(await allUsers(t)).toEqual([]);
});
