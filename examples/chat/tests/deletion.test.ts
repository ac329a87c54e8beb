/**
 * A user deleted in Auth0 while the app's `messages` reference their row. With
 * `AUTH0_USER_DELETION=anonymize`, or unset with the `userDeletion: "anonymize"` init wrote into
 * convex/auth0.ts, the row stays (every Auth0 fact cleared), so `messages.list`
 * keeps working for everyone; with `remove`, the app's `onUserDeleted` (convex/auth0.ts) deletes
 * the user's messages in the same transaction, so no reference dangles either.
 */
import { beforeEach, expect, test } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import {
  allUsers,
  DOMAIN,
  EVENTS_TOKEN,
  identity,
  newT,
  setDeploymentVariables,
  type T,
} from "./helpers";

beforeEach(() => setDeploymentVariables());

/** Alice and Bob sign in and post; Alice's row is what the deletion is about. */
async function conversation(t: T) {
  const alice = t.withIdentity(identity("auth0|alice", "Alice"));
  const bob = t.withIdentity(identity("auth0|bob", "Bob"));
  const aliceId = await alice.mutation(api.auth0.store, {});
  const bobId = await bob.mutation(api.auth0.store, {});
  await alice.mutation(api.messages.send, { body: "hi Bob" });
  await bob.mutation(api.messages.send, { body: "hi Alice" });
  return { alice, bob, aliceId, bobId };
}

/** Auth0's Event Stream delivering `user.deleted` to the module's route in the app's http.ts. */
async function deliverDeletion(t: T, userId: string, at: number) {
  const res = await t.fetch("/auth0/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${EVENTS_TOKEN}` },
    body: JSON.stringify({
      id: `evt_deleted_${userId.replace(/\W/g, "")}`,
      source: `urn:auth0:${DOMAIN}`,
      specversion: "1.0",
      type: "user.deleted",
      time: new Date(at).toISOString(),
      data: {
        object: {
          user_id: userId,
          email: "alice@example.com",
          identities: [{ connection: "Username-Password-Authentication", provider: "auth0" }],
          created_at: new Date(at - 86_400_000).toISOString(),
          updated_at: new Date(at - 60_000).toISOString(),
          deleted_at: new Date(at).toISOString(),
        },
      },
    }),
  });
  expect(res.status).toBe(200);
}

const bodies = (list: { body: string }[]) => list.map((m) => m.body).sort();

test("anonymize: the row stays without its Auth0 facts and messages.list works for everyone", async () => {
  setDeploymentVariables({ AUTH0_USER_DELETION: "anonymize" });
  const t = newT();
  const { alice, bob, aliceId, bobId } = await conversation(t);

  await deliverDeletion(t, "auth0|alice", Date.now() - 1000);

  // Signed in, signed out: the list still resolves every author, Alice's as a deleted user.
  for (const reader of [bob, t]) {
    const list = await reader.query(api.messages.list, {});
    expect(bodies(list)).toEqual(["hi Alice", "hi Bob"]);
    expect(list.find((m) => m.body === "hi Bob")).toMatchObject({ author: aliceId });
    expect(list.find((m) => m.body === "hi Bob")?.name).toBeUndefined();
    expect(list.find((m) => m.body === "hi Alice")).toMatchObject({ author: bobId, name: "Bob" });
  }
  const row = (await allUsers(t)).find((u) => u._id === aliceId)!;
  expect(row.deletedAt).toBeTypeOf("number");
  expect(row).not.toHaveProperty("email");
  expect(row).not.toHaveProperty("name");
  // The deleted account can neither act through the app nor sign in again.
  await expect(alice.mutation(api.messages.send, { body: "still here?" })).rejects.toThrow();
  await expect(alice.mutation(api.auth0.store, {})).rejects.toThrow(/deleted/i);
  expect(await alice.query(api.auth0.current, {})).toBeNull();
});

test("remove: the app's onUserDeleted deletes the user's messages with the row", async () => {
  setDeploymentVariables({ AUTH0_USER_DELETION: "remove" });
  const t = newT();
  const { bob, aliceId, bobId } = await conversation(t);

  const result = await t.mutation(internal.auth0.deleteFromAuth0, {
    auth0UserId: "auth0|alice",
    deletedAt: Date.now() - 1000,
  });
  expect(result).toMatchObject({ removed: 1 });

  expect((await allUsers(t)).map((u) => u._id)).toEqual([bobId]);
  for (const reader of [bob, t]) {
    expect(await reader.query(api.messages.list, {})).toEqual([
      expect.objectContaining({ body: "hi Alice", author: bobId, name: "Bob" }),
    ]);
  }
  const left = await t.run((ctx) =>
    ctx.db
      .query("messages")
      .withIndex("by_author", (q) => q.eq("author", aliceId as Id<"users">))
      .collect(),
  );
  expect(left).toEqual([]);
});

test('unset: the userDeletion init wrote (anonymize: messages.author holds v.id("users")) keeps the row, nothing dangles', async () => {
  const t = newT();
  const { aliceId, bobId } = await conversation(t);
  await deliverDeletion(t, "auth0|alice", Date.now() - 1000);
  expect((await allUsers(t)).map((u) => u._id).sort()).toEqual([aliceId, bobId].sort());
  expect(bodies(await t.query(api.messages.list, {}))).toEqual(["hi Alice", "hi Bob"]);
});
