/**
 * `users` has required fields of the app (`usertag`, `plan`): the creation hook in
 * convex/auth0.ts fills them in the creating transaction, whichever path creates the row: the
 * Post-Login Action's route, the browser's `auth0.store`, an Auth0 event, a reconcile batch.
 */
import {
  deliverEvent,
  deliverUserUpdated,
  logIn,
  setAuth0TestEnv,
  type Auth0TestUser,
} from "convex-auth0-users/testing";
import { afterEach, beforeEach, expect, test } from "vitest";
import { internal } from "../convex/_generated/api";
import { allUsers, newT } from "./helpers";

let restore: () => void;
beforeEach(() => {
  restore = setAuth0TestEnv();
});
afterEach(() => restore());

const person = (n: number): Auth0TestUser => ({
  user_id: `auth0|carol${n}`,
  // The same local part each time: the hook reads the table to make every usertag unique.
  email: `carol@example${n}.com`,
  email_verified: true,
  name: `Carol ${n}`,
  updated_at: new Date(Date.now() - 60_000).toISOString(),
});

test("every path that creates a row fills usertag and plan", async () => {
  const t = newT();
  await logIn(t, person(1));
  await logIn(t, person(2), { path: "store" });
  expect((await deliverUserUpdated(t, person(3))).status).toBe(200);
  const created = { ...person(4), created_at: new Date(Date.now() - 60_000).toISOString() };
  expect((await deliverEvent(t, { type: "user.created", object: created })).status).toBe(200);
  const results = await t.mutation(internal.auth0.applyBatch, {
    upserts: [
      {
        auth0UserId: "auth0|carol5",
        profile: {
          email: "carol@example5.com",
          emailVerified: true,
          name: "Carol 5",
          auth0UpdatedAt: Date.now() - 60_000,
        },
      },
    ],
    deletions: [],
  });
  expect(results).toEqual([{ auth0UserId: "auth0|carol5", kind: "upsert", outcome: "created" }]);

  const rows = await allUsers(t);
  expect(rows.map((r) => [r.auth0UserId, r.usertag, r.plan])).toEqual([
    ["auth0|carol1", "carol", "free"],
    ["auth0|carol2", "carol2", "free"],
    ["auth0|carol3", "carol3", "free"],
    ["auth0|carol4", "carol4", "free"],
    ["auth0|carol5", "carol5", "free"],
  ]);
});

test("a person without an email still gets a usertag", async () => {
  const t = newT();
  // An SMS login: Auth0 sends no email.
  await logIn(t, { user_id: "sms|5f0e1d2c3b4a" });
  const [row] = await allUsers(t);
  expect(row).toMatchObject({ auth0UserId: "sms|5f0e1d2c3b4a", plan: "free" });
  expect(row.usertag).toMatch(/^[a-z0-9]+$/);
});
