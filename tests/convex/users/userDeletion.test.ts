/**
 * `AUTH0_USER_DELETION`: removing a deleted user's row (the default) or keeping it anonymized so
 * the app's references to it stay valid. Both modes through an Event Stream deletion and a
 * reconcile (sync route) deletion, with an app table that references users.
 */
import { convexTest } from "convex-test";
import { defineSchema, defineTable } from "convex/server";
import { ConvexError, v, type GenericId } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import type { Doc } from "../../../convex/_generated/dataModel";
import type { MutationCtx } from "../../../convex/_generated/server";
import schema from "../../../convex/schema";
import { auth0UsersTable } from "../../../server/index";
import { audienceFor, signRequest } from "../../../server/http/signedRequest";
import { SYNC_APPLY_PATH } from "../../../server/reconcile/syncRoutes";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { configureAuth0Users } from "../../../server/users/hooks";
import { getCurrentUser, getCurrentUserOrThrow } from "../../../server/users/users";
import { userDeletionMode } from "../../../server/users/rowState";
import { USER_DELETED } from "../../../server/users/rules";
import { comparePlan } from "../../../scripts/lib/reconcile/plan";
import { DOMAIN, deliver, nextEventId, setEventsEnv, userEvent } from "../events/eventsFixtures";

// Stands in for a host app's hook: records each call and what the row held when it ran.
const hook = vi.hoisted(() => ({
  calls: [] as Array<{ auth0UserId: string; email?: string; mode: string }>,
}));
vi.mock("../../../server/users/hooks", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../../server/users/hooks")>()),
  onUserDeleted: async (_ctx: MutationCtx, user: Doc<"users">, { mode }: { mode: string }) => {
    hook.calls.push({ auth0UserId: user.auth0UserId, email: user.email, mode });
  },
}));

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const SYNC_SECRET = "ZPRYF81w_cNbO2giRgzuqs8X32GEggTYj_f6Q-FKN0c";
const ISS = `https://${DOMAIN}/`;
const SUB = "google-oauth2|1029384756";
const NOW = Date.parse("2026-11-22T12:00:00Z");
const minutesAgo = (m: number) => NOW - m * 60_000;

/** An app's schema: its own field on users, and a table referencing them. */
const hostSchema = defineSchema({
  ...schema.tables,
  users: auth0UsersTable({ plan: v.optional(v.string()) }),
  messages: defineTable({ author: v.id("users"), body: v.string() }),
});
const newT = () => convexTest({ schema: hostSchema, modules, transactionLimits: true });
type HostT = ReturnType<typeof newT>;

beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_SYNC_SECRET = SYNC_SECRET;
  delete process.env.AUTH0_USER_DELETION;
  hook.calls = [];
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  delete process.env.AUTH0_USER_DELETION;
  vi.restoreAllMocks();
  vi.useRealTimers();
});

async function syncDelete(t: HostT, auth0UserId: string, deletedAt: number) {
  const text = JSON.stringify({ upserts: [], deletions: [{ auth0UserId, deletedAt }] });
  const token = await signRequest(SYNC_SECRET, text, audienceFor(SITE, SYNC_APPLY_PATH));
  const res = await t.fetch(SYNC_APPLY_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const signedIn = (t: HostT) => t.withIdentity({ issuer: ISS, subject: SUB, name: "Ada" });

/** A user created by an event who has signed in since, with an app field and a message. */
async function userWithMessage(t: HostT) {
  expect((await deliver(t, userEvent("user.created", SUB, minutesAgo(60)))).status).toBe(200);
  vi.setSystemTime(minutesAgo(30));
  await signedIn(t).mutation(api.auth0.store, {});
  vi.setSystemTime(NOW);
  return await t.run(async (ctx) => {
    const user = (await ctx.db.query("users").first())!;
    expect(user.lastActiveAt).toBe(minutesAgo(30));
    await ctx.db.patch("users", user._id, { plan: "pro" });
    const messageId = await ctx.db.insert("messages", { author: user._id, body: "hello" });
    return { userId: user._id, messageId };
  });
}

/** What the app's `messages.list` would do: read each message's author. */
const authorOf = (t: HostT, messageId: GenericId<"messages">) =>
  t.run(async (ctx) => {
    const message = (await ctx.db.get("messages", messageId))!;
    return await ctx.db.get("users", message.author);
  });

test("api.auth0.current answers for a row holding the app's own fields (their values stay the app's)", async () => {
  const t = newT();
  await userWithMessage(t);
  const current = await signedIn(t).query(api.auth0.current, {});
  expect(current).toMatchObject({ auth0UserId: SUB, tokenIdentifier: tokenIdentifier(ISS, SUB) });
  expect(current).not.toHaveProperty("plan");
  const row = await t.run(async (ctx) => await ctx.db.query("users").first());
  expect(row!.plan).toBe("pro");
});

test("auth0UsersTable refuses an app field the module owns", () => {
  expect(() => auth0UsersTable({ email: v.string() })).toThrow(/email belongs to the module/);
});

const deletions = {
  event: async (t: HostT) => {
    const event = userEvent("user.deleted", SUB, minutesAgo(10));
    expect((await deliver(t, event)).status).toBe(200);
    return event;
  },
  "sync route": async (t: HostT) => {
    const res = await syncDelete(t, SUB, minutesAgo(10));
    expect(res.status).toBe(200);
    expect(res.json.results).toEqual([
      { auth0UserId: SUB, kind: "delete", outcome: "removed", removed: 1 },
    ]);
    return undefined;
  },
};

describe.each(Object.keys(deletions) as (keyof typeof deletions)[])(
  "a deletion through the %s",
  (path) => {
    const deleteThroughPath = deletions[path];

    test("remove (the default): the row goes and the app's reference dangles", async () => {
      const t = newT();
      const { messageId } = await userWithMessage(t);
      await deleteThroughPath(t);
      expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual([]);
      expect(await authorOf(t, messageId)).toBeNull();
      expect(hook.calls).toEqual([
        { auth0UserId: SUB, email: "googleoauth21029384756@example.com", mode: "remove" },
      ]);
    });

    test("anonymize: the row stays with every Auth0 fact cleared, the reference resolves", async () => {
      process.env.AUTH0_USER_DELETION = "anonymize";
      const t = newT();
      const { userId, messageId } = await userWithMessage(t);
      const before = await t.run((ctx) => ctx.db.get("users", userId));
      await deleteThroughPath(t);

      const author = await authorOf(t, messageId);
      // Exactly what the module keeps: identifiers, its own dates, the app's field.
      expect(author).toEqual({
        _id: userId,
        _creationTime: before!._creationTime,
        tokenIdentifier: tokenIdentifier(DOMAIN, SUB),
        auth0UserId: SUB,
        createdAt: before!.createdAt,
        updatedAt: NOW,
        deletedAt: minutesAgo(10),
        plan: "pro",
      });
      expect(await t.run((ctx) => ctx.db.query("auth0UserTombstones").collect())).toMatchObject([
        { auth0UserId: SUB, deletedAt: minutesAgo(10) },
      ]);
      // The hook ran once, saw the profile before it was cleared, and was told the mode.
      expect(hook.calls).toEqual([
        { auth0UserId: SUB, email: "googleoauth21029384756@example.com", mode: "anonymize" },
      ]);
    });

    test("anonymize: the signed-in person's current user is gone and a login is refused", async () => {
      process.env.AUTH0_USER_DELETION = "anonymize";
      const t = newT();
      await userWithMessage(t);
      expect(await signedIn(t).query(api.auth0.current, {})).not.toBeNull();
      expect(await signedIn(t).run((ctx) => getCurrentUser(ctx))).not.toBeNull();
      await deleteThroughPath(t);

      expect(await signedIn(t).query(api.auth0.current, {})).toBeNull();
      expect(await signedIn(t).run((ctx) => getCurrentUser(ctx))).toBeNull();
      await expect(signedIn(t).run((ctx) => getCurrentUserOrThrow(ctx))).rejects.toThrow(
        /No users row/,
      );
      // auth0.store is the login backstop: the tombstone refuses it, the row stays anonymized.
      await expect(signedIn(t).mutation(api.auth0.store, {})).rejects.toThrow(/was deleted/);
      const rows = await t.run((ctx) => ctx.db.query("users").collect());
      expect(rows).toHaveLength(1);
      expect(rows[0]).not.toHaveProperty("name");
    });

    test("anonymize: a redelivery or a repeated deletion does not run the hook again", async () => {
      process.env.AUTH0_USER_DELETION = "anonymize";
      const t = newT();
      await userWithMessage(t);
      const event = await deleteThroughPath(t);
      const after = await t.run((ctx) => ctx.db.query("users").collect());
      if (event) {
        await deliver(t, event); // the same delivery again
        await deliver(t, { ...event, id: nextEventId() }); // the same deletion, another event id
      }
      const again = await syncDelete(t, SUB, minutesAgo(5));
      expect(again.json.results).toEqual([
        { auth0UserId: SUB, kind: "delete", outcome: "removed", removed: 0 },
      ]);
      expect(hook.calls).toHaveLength(1);
      expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual(after);
    });
  },
);

test("a profile dated exactly at the deletion is refused; one a millisecond later re-creates the user", async () => {
  const t = newT();
  const deletedAt = minutesAgo(10);
  expect((await syncDelete(t, SUB, deletedAt)).status).toBe(200);
  const upsert = (auth0UpdatedAt: number) =>
    t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: tokenIdentifier(ISS, SUB),
      email: "ada@example.com",
      auth0UpdatedAt,
    });
  await expect(upsert(deletedAt)).rejects.toSatisfy(
    (err) => err instanceof ConvexError && (err.data as { code?: string }).code === USER_DELETED,
  );
  expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual([]);
  await upsert(deletedAt + 1);
  expect(await t.run((ctx) => ctx.db.query("users").collect())).toHaveLength(1);
});

describe("anonymize: the same Auth0 user id after the deletion", () => {
  test("a re-signup newer than the deletion gets a new row; the old one keeps the old references", async () => {
    process.env.AUTH0_USER_DELETION = "anonymize";
    const t = newT();
    const { userId, messageId } = await userWithMessage(t);
    await deliver(t, userEvent("user.deleted", SUB, minutesAgo(10)));

    // Auth0 created the user id again (the same social account signing up anew).
    expect((await deliver(t, userEvent("user.created", SUB, minutesAgo(2)))).status).toBe(200);
    const rows = await t.run((ctx) => ctx.db.query("users").collect());
    expect(rows).toHaveLength(2);
    const fresh = rows.find((r) => r._id !== userId)!;
    expect(fresh).toMatchObject({ auth0UserId: SUB, name: "User googleoauth21029384756" });
    expect(fresh).not.toHaveProperty("deletedAt");
    expect(fresh).not.toHaveProperty("plan");

    // The old person's content stays with the anonymized row, not with the new account.
    const author = await authorOf(t, messageId);
    expect(author).toMatchObject({ _id: userId, deletedAt: minutesAgo(10) });
    expect(author).not.toHaveProperty("name");
    expect((await signedIn(t).query(api.auth0.current, {}))?._id).toBe(fresh._id);
    // Further logins keep finding the new row: no third row.
    await signedIn(t).mutation(api.auth0.store, {});
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toHaveLength(2);
  });

  test("a deletion of the re-created user anonymizes the new row too, the hook runs for it only", async () => {
    process.env.AUTH0_USER_DELETION = "anonymize";
    const t = newT();
    await userWithMessage(t);
    await deliver(t, userEvent("user.deleted", SUB, minutesAgo(10)));
    await deliver(t, userEvent("user.created", SUB, minutesAgo(5)));
    await deliver(t, userEvent("user.deleted", SUB, minutesAgo(1)));
    expect(hook.calls).toHaveLength(2);
    const rows = await t.run((ctx) => ctx.db.query("users").collect());
    expect(rows.map((r) => r.deletedAt)).toEqual([minutesAgo(10), minutesAgo(1)]);
  });
});

describe("AUTH0_USER_DELETION values", () => {
  test("unset or blank means remove; values are trimmed and case-insensitive", () => {
    expect(userDeletionMode()).toBe("remove");
    for (const [raw, mode] of [
      ["", "remove"],
      [" Anonymize ", "anonymize"],
      ["REMOVE", "remove"],
    ] as const) {
      process.env.AUTH0_USER_DELETION = raw;
      expect(userDeletionMode()).toBe(mode);
    }
  });

  test("an unknown value refuses every deletion whole, naming the allowed values", async () => {
    const t = newT();
    const { userId } = await userWithMessage(t);
    const snapshot = () =>
      t.run(async (ctx) => ({
        users: await ctx.db.query("users").collect(),
        tombstones: await ctx.db.query("auth0UserTombstones").collect(),
        events: await ctx.db.query("auth0Events").collect(),
      }));
    const before = await snapshot();
    process.env.AUTH0_USER_DELETION = "anonymise";
    let thrown: unknown;
    try {
      userDeletionMode();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConvexError);
    expect((thrown as ConvexError<Record<string, string>>).data).toEqual({
      code: "invalid_configuration",
      message:
        'AUTH0_USER_DELETION must be one of remove, anonymize (unset means remove); it is "anonymise"',
    });

    const event = userEvent("user.deleted", SUB, minutesAgo(10));
    expect((await deliver(t, event)).status).toBe(500); // Auth0 retries it
    expect(await syncDelete(t, SUB, minutesAgo(10))).toEqual({
      status: 500,
      json: {
        error: "invalid_configuration",
        message: expect.stringContaining("must be one of remove, anonymize") as string,
      },
    });
    expect(await snapshot()).toEqual(before);
    expect(hook.calls).toEqual([]);

    // Fixed, the redelivered event applies.
    process.env.AUTH0_USER_DELETION = "anonymize";
    expect((await deliver(t, event)).status).toBe(200);
    expect(await t.run((ctx) => ctx.db.get("users", userId))).toMatchObject({
      deletedAt: minutesAgo(10),
    });
  });
});

describe("the reconcile and anonymized rows", () => {
  test("an anonymized row is neither an orphan nor drift, and its user re-created is missing", async () => {
    process.env.AUTH0_USER_DELETION = "anonymize";
    const t = newT();
    await userWithMessage(t);
    await deliver(t, userEvent("user.deleted", SUB, minutesAgo(10)));
    const rows = await t.run((ctx) => ctx.db.query("users").collect());
    const issuers = [ISS];

    const gone = comparePlan([], rows, issuers, NOW);
    expect(gone).toMatchObject({ orphanCandidates: [], drift: [], missing: [], anonymized: 1 });

    const recreated = [
      { user_id: SUB, email: "new@example.com", updated_at: new Date(minutesAgo(1)).toISOString() },
    ];
    const plan = comparePlan(recreated, rows, issuers, NOW);
    expect(plan).toMatchObject({
      missing: [{ auth0UserId: SUB }],
      drift: [],
      orphanCandidates: [],
    });
  });
});

describe("configureAuth0Users({ userDeletion }): the app's default, what init writes", () => {
  afterEach(() => configureAuth0Users({}));

  test("with the variable unset, userDeletion: anonymize keeps the row; the variable, when set, wins", async () => {
    const t = newT();
    const { userId, messageId } = await userWithMessage(t);
    // convex/auth0.ts has run its own configureAuth0Users by now; the app's says anonymize.
    configureAuth0Users({ userDeletion: "anonymize" });
    expect(userDeletionMode()).toBe("anonymize");
    await deletions.event(t);
    expect(await authorOf(t, messageId)).toMatchObject({ _id: userId, deletedAt: minutesAgo(10) });
    expect(hook.calls.map((c) => c.mode)).toEqual(["anonymize"]);

    process.env.AUTH0_USER_DELETION = "remove";
    expect(userDeletionMode()).toBe("remove");
    configureAuth0Users({});
    delete process.env.AUTH0_USER_DELETION;
    expect(userDeletionMode()).toBe("remove");
  });

  test("a value that is no mode throws when configured, and keeps the previous mode", () => {
    configureAuth0Users({ userDeletion: "anonymize" });
    expect(() =>
      configureAuth0Users({ userDeletion: "anonymise" as unknown as "anonymize" }),
    ).toThrow('userDeletion must be one of remove, anonymize; it is "anonymise"');
    expect(userDeletionMode()).toBe("anonymize");
  });
});
