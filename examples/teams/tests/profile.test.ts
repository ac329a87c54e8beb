/**
 * Name and avatar belong to the app once the row exists: the profile page edits them in Convex
 * only, and neither the next login nor Auth0's profile events put Auth0's back. Auth0 keeps the
 * fields the app does not edit (the email).
 */
import { deliverUserUpdated, logIn, setAuth0TestEnv, signInAs } from "convex-auth0-users/testing";
import { afterEach, beforeEach, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { alice, allUsers, CUSTOM_DOMAIN, newT } from "./helpers";

let restore: () => void;
beforeEach(() => {
  restore = setAuth0TestEnv({ AUTH0_CUSTOM_DOMAIN: CUSTOM_DOMAIN });
});
afterEach(() => restore());

const AVATAR = "https://cdn.teams.example.com/avatars/alice-at-the-beach.png";

test("an avatar set on the profile page survives the next login and Auth0's updates", async () => {
  const t = newT();
  const { userId } = await logIn(t, alice());
  await signInAs(t, alice()).mutation(api.users.updateProfile, {
    name: "Al",
    avatarUrl: AVATAR,
  });

  // Auth0's profile changed since (a new social picture, a new name, a new email).
  const later = {
    ...alice(),
    name: "Alice L.",
    picture: "https://s.gravatar.com/avatar/alice-2.png",
    updated_at: new Date(Date.now() - 60_000).toISOString(),
  };
  await logIn(t, later, { via: "custom" });
  await logIn(t, later, { path: "store" });
  let me = await signInAs(t, alice()).query(api.users.current, {});
  expect(me).toMatchObject({ _id: userId, name: "Al", avatarUrl: AVATAR });

  const moved = { ...later, email: "alice@acme.example", updated_at: new Date().toISOString() };
  expect((await deliverUserUpdated(t, moved)).status).toBe(200);
  me = await signInAs(t, alice()).query(api.users.current, {});
  expect(me).toMatchObject({ name: "Al", avatarUrl: AVATAR, email: "alice@acme.example" });
  expect(await allUsers(t)).toHaveLength(1);
});

test("the profile page refuses an empty name and changes nothing", async () => {
  const t = newT();
  await logIn(t, alice());
  const before = await allUsers(t);
  await expect(
    signInAs(t, alice()).mutation(api.users.updateProfile, { name: "  ", avatarUrl: AVATAR }),
  ).rejects.toThrow(/empty/);
  expect(await allUsers(t)).toEqual(before);
});
