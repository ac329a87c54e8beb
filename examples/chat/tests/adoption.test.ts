/**
 * The rows this app stored before the module (the Convex docs' `{ name, tokenIdentifier }`) stay
 * valid: logins find and complete them while `internal.auth0.adoptExistingRows` fills in what the
 * module needs, and no user ever gets a second row.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import {
  allUsers,
  CUSTOM_DOMAIN,
  DOMAIN,
  identity,
  newT,
  setDeploymentVariables,
  tokenOf,
  type T,
} from "./helpers";

beforeEach(() => {
  setDeploymentVariables({ AUTH0_CUSTOM_DOMAIN: CUSTOM_DOMAIN });
  vi.useFakeTimers();
  vi.spyOn(console, "log").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const people = [
  { subject: "auth0|alice", name: "Alice" },
  { subject: "google-oauth2|1029384756", name: "Carol" },
  { subject: "auth0|dave", name: "Dave" },
];

/** The rows and messages as the app's old `users.store` and `messages.send` wrote them. */
async function existingData(t: T) {
  return await t.run(async (ctx) => {
    const ids: Record<string, Id<"users">> = {};
    for (const p of people) {
      ids[p.subject] = await ctx.db.insert("users", {
        name: p.name,
        tokenIdentifier: tokenOf(identity(p.subject, p.name, DOMAIN)),
      });
      await ctx.db.insert("messages", { author: ids[p.subject], body: `${p.name} was here` });
    }
    return ids;
  });
}

async function adopt(t: T, args: { dryRun?: boolean } = {}) {
  const first = await t.mutation(internal.auth0.adoptExistingRows, args);
  await t.finishAllScheduledFunctions(vi.runAllTimers, 100);
  return first;
}

test("a login before the adoption finds the old row; the adoption completes the rest", async () => {
  const t = newT();
  const ids = await existingData(t);
  // The app works on the old rows as they are, before anything ran.
  expect(await t.query(api.messages.list, {})).toHaveLength(3);

  // Alice signs in while the migration has not run: her old row, completed, no second one.
  const alice = identity("auth0|alice", "Alice");
  expect(await t.withIdentity(alice).mutation(api.auth0.store, {})).toBe(ids["auth0|alice"]);
  expect(await allUsers(t)).toHaveLength(3);

  // The dry run counts and writes nothing.
  const before = await allUsers(t);
  const dry = await adopt(t, { dryRun: true });
  expect(dry.counts).toMatchObject({ scanned: 3, adopted: 2, alreadyAdopted: 1 });
  expect(await allUsers(t)).toEqual(before);

  const run = await adopt(t);
  expect(run.counts).toMatchObject({ scanned: 3, adopted: 2, alreadyAdopted: 1, malformed: 0 });
  const rows = await allUsers(t);
  expect(rows.map((r) => r._id).sort()).toEqual(Object.values(ids).sort());
  for (const p of people) {
    expect(rows.find((r) => r._id === ids[p.subject])).toMatchObject({
      auth0UserId: p.subject,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
  }
  // Running it again changes nothing.
  expect((await adopt(t)).counts).toMatchObject({ adopted: 0, alreadyAdopted: 3 });
  expect(await allUsers(t)).toEqual(rows);
});

test("later logins, through either domain, find the old rows: never a second one", async () => {
  const t = newT();
  const ids = await existingData(t);
  await adopt(t);

  const carol = identity("google-oauth2|1029384756", "Carol", CUSTOM_DOMAIN);
  expect(await t.withIdentity(carol).mutation(api.auth0.store, {})).toBe(
    ids["google-oauth2|1029384756"],
  );
  const dave = identity("auth0|dave", "Dave", DOMAIN);
  expect(await t.withIdentity(dave).mutation(api.auth0.store, {})).toBe(ids["auth0|dave"]);
  expect((await t.withIdentity(dave).query(api.auth0.current, {}))?._id).toBe(ids["auth0|dave"]);

  // The app's own function posts under the old row; old and new messages share the author.
  await t.withIdentity(carol).mutation(api.messages.send, { body: "back again" });
  const list = await t.query(api.messages.list, {});
  const carolMessages = list.filter((m) => m.author === ids["google-oauth2|1029384756"]);
  expect(carolMessages.map((m) => m.body).sort()).toEqual(["Carol was here", "back again"]);
  expect(await allUsers(t)).toHaveLength(3);
});

test("a custom-domain login before the adoption completes the old row too", async () => {
  const t = newT();
  const ids = await existingData(t);
  const dave = identity("auth0|dave", "Dave", CUSTOM_DOMAIN);
  await t.withIdentity(dave).mutation(api.messages.send, { body: "first via custom" });
  expect(await t.withIdentity(dave).mutation(api.auth0.store, {})).toBe(ids["auth0|dave"]);
  await adopt(t);
  expect(await allUsers(t)).toHaveLength(3);
  expect(
    (await t.query(api.messages.list, {})).filter((m) => m.author === ids["auth0|dave"]),
  ).toHaveLength(2);
});
