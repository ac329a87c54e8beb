import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Doc } from "../../../convex/_generated/dataModel";
import type { MutationCtx } from "../../../convex/_generated/server";
import schema from "../../../convex/schema";
import { deliver, nextEventId, setEventsEnv, tables, userEvent, type T } from "./eventsFixtures";

// Stand in for a host app's cascade: it records each call and checks what the hook can see.
const hook = vi.hoisted(() => ({
  calls: [] as Array<{ auth0UserId: string; rowStillThere: boolean }>,
  fail: false,
}));
vi.mock("../../../server/users/hooks", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../../server/users/hooks")>()),
  onUserDeleted: async (ctx: MutationCtx, user: Doc<"users">) => {
    const row = await ctx.db.get("users", user._id);
    hook.calls.push({ auth0UserId: user.auth0UserId, rowStillThere: row !== null });
    if (hook.fail) throw new Error("cascade failed: the app's own table is unavailable");
  },
}));

const modules = import.meta.glob("../../../convex/**/*.*s");
const BASE = Date.now();
const minutesAgo = (m: number) => BASE - m * 60_000;

beforeEach(() => {
  setEventsEnv();
  hook.calls = [];
  hook.fail = false;
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

describe("onUserDeleted (server/users/hooks.ts)", () => {
  test("is called exactly once per deleted user, before the row goes, whatever Auth0 redelivers", async () => {
    const t: T = convexTest({ schema, modules, transactionLimits: true });
    const ids = ["auth0|a1", "google-oauth2|b2", "samlp|acme|c3"];
    for (const id of ids) await deliver(t, userEvent("user.created", id, minutesAgo(30)));

    const deletes = ids.slice(0, 2).map((id) => userEvent("user.deleted", id, minutesAgo(10)));
    for (const d of deletes) {
      await deliver(t, d);
      await deliver(t, d); // same delivery again
      await deliver(t, { ...d, id: nextEventId() }); // the same deletion under another event id
    }
    // A deletion of a user this deployment never stored, and a stale one for a re-created user.
    await deliver(t, userEvent("user.deleted", "auth0|never-stored", minutesAgo(9)));
    await deliver(t, userEvent("user.created", ids[2], minutesAgo(1)));
    await deliver(t, userEvent("user.deleted", ids[2], minutesAgo(20)));

    expect(hook.calls).toEqual([
      { auth0UserId: ids[0], rowStillThere: true },
      { auth0UserId: ids[1], rowStillThere: true },
    ]);
    expect((await tables(t)).users.map((u) => u.auth0UserId)).toEqual([ids[2]]);
  });

  test("runs in the removal's transaction: if it throws, nothing is removed and Auth0 retries", async () => {
    const t: T = convexTest({ schema, modules, transactionLimits: true });
    await deliver(t, userEvent("user.created", "auth0|a1", minutesAgo(30)));
    const del = userEvent("user.deleted", "auth0|a1", minutesAgo(10));

    hook.fail = true;
    const failed = await deliver(t, del);
    expect(failed.status).toBe(500);
    const after = await tables(t);
    expect(after.users).toHaveLength(1);
    expect(after.tombstones).toEqual([]);
    expect(after.events.map((e) => e.eventId)).not.toContain(del.id);

    hook.fail = false;
    const retried = await deliver(t, del);
    expect(retried.json).toMatchObject({ outcome: "applied", duplicate: false });
    expect((await tables(t)).users).toEqual([]);
    expect(hook.calls.map((c) => c.auth0UserId)).toEqual(["auth0|a1", "auth0|a1"]); // failed + retried
  });
});
