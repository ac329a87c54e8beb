/**
 * The rows the app's own `users.store` wrote before the module keep their `_id`s, their app
 * fields and what people set on the profile page: a login completes them, and
 * `internal.auth0.adoptExistingRows` completes the rest. Nobody gets a second row.
 */
import { auth0Identity, logIn, setAuth0TestEnv } from "convex-auth0-users/testing";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { alice, allUsers, bob, CUSTOM_DOMAIN, newT, type T } from "./helpers";

let restore: () => void;
beforeEach(() => {
  restore = setAuth0TestEnv({ AUTH0_CUSTOM_DOMAIN: CUSTOM_DOMAIN });
  vi.useFakeTimers();
  vi.spyOn(console, "log").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  restore();
});

/** Alice and Bob as the app's old store wrote them, Alice's name and avatar edited since; an
 * organization and a project that reference them. */
async function existingData(t: T) {
  return await t.run(async (ctx) => {
    const aliceId = await ctx.db.insert("users", {
      name: "Al",
      email: "alice.liddell@acme.example",
      avatarUrl: "https://cdn.teams.example.com/avatars/al.png",
      usertag: "al",
      plan: "team",
      tokenIdentifier: auth0Identity(alice()).tokenIdentifier,
    });
    const bobId = await ctx.db.insert("users", {
      name: "Bob Builder",
      email: "bob@acme.example",
      usertag: "bob",
      plan: "free",
      tokenIdentifier: auth0Identity(bob()).tokenIdentifier,
    });
    const organizationId = await ctx.db.insert("organizations", {
      auth0OrgId: "org_acme0123456789",
      name: "acme",
    });
    await ctx.db.insert("memberships", { organizationId, userId: aliceId, role: "admin" });
    await ctx.db.insert("memberships", { organizationId, userId: bobId, role: "member" });
    await ctx.db.insert("projects", { organizationId, name: "Launch", createdBy: aliceId });
    return { aliceId, bobId, organizationId };
  });
}

test("a login finds the app's old row and keeps its fields; the adoption completes the rest", async () => {
  const t = newT();
  const { aliceId, bobId, organizationId } = await existingData(t);

  // Through the custom domain, before the adoption ran: her old row, completed.
  expect((await logIn(t, alice(), { via: "custom" })).userId).toBe(aliceId);
  const me = await t
    .withIdentity(auth0Identity(alice(), { via: "custom" }))
    .query(api.users.current, {});
  expect(me).toMatchObject({
    _id: aliceId,
    auth0UserId: "auth0|alice",
    name: "Al",
    avatarUrl: "https://cdn.teams.example.com/avatars/al.png",
    usertag: "al",
    plan: "team",
  });

  const first = await t.mutation(internal.auth0.adoptExistingRows, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers, 100);
  expect(first.counts).toMatchObject({ scanned: 2, adopted: 1, alreadyAdopted: 1, malformed: 0 });
  const rows = await allUsers(t);
  expect(rows.map((r) => r._id).sort()).toEqual([aliceId, bobId].sort());
  expect(rows.find((r) => r._id === bobId)).toMatchObject({
    auth0UserId: "google-oauth2|1029384756",
    usertag: "bob",
    plan: "free",
  });

  // Bob's next login finds his row; the app's pages still resolve every reference.
  expect((await logIn(t, bob())).userId).toBe(bobId);
  const members = await t
    .withIdentity(auth0Identity(bob()))
    .query(api.organizations.members, { organizationId });
  expect(members.map((m) => m.usertag).sort()).toEqual(["al", "bob"]);
  expect(await allUsers(t)).toHaveLength(2);
});
