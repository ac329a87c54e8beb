import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import { MAX_EVENT_BODY_BYTES, RETENTION_MS } from "../../../server/events/events";
import schema from "../../../convex/schema";
import { signRequest, audienceFor, UPSERT_USER_PATH } from "../../../server/http/signedRequest";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import {
  cloudEvent,
  CUSTOM_DOMAIN,
  deliver,
  DOMAIN,
  expectNothingWritten,
  nextEventId,
  PREVIOUS_TOKEN,
  setEventsEnv,
  tables,
  TOKEN,
  userEvent,
  userObject,
  type T,
} from "./eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SUB = "auth0|65f0c0ffee";
const CANONICAL_ID = tokenIdentifier(DOMAIN, SUB);

let logs: string[];
beforeEach(() => {
  setEventsEnv();
  logs = [];
  for (const level of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logs.push(args.map(String).join(" "));
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const newT = (): T => convexTest({ schema, modules, transactionLimits: true });
// One clock reading for the whole file, so an expected time equals the one sent.
const BASE = Date.now();
const minutesAgo = (m: number) => BASE - m * 60_000;

describe("POST /auth0/events: authentication", () => {
  test("without a bearer token: 401 and nothing written", async () => {
    const t = newT();
    const res = await deliver(t, userEvent("user.created", SUB, minutesAgo(1)), { token: null });
    expect(res.status).toBe(401);
    expect(res.json.error).toBe("missing_token");
    await expectNothingWritten(t, expect);
  });

  test("a wrong, truncated, extended or Basic token: 401, nothing written, token never echoed", async () => {
    const t = newT();
    const event = userEvent("user.created", SUB, minutesAgo(1));
    for (const authorization of [
      "Bearer not-the-token",
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Basic ${btoa(`user:${TOKEN}`)}`,
      TOKEN,
    ]) {
      const res = await deliver(t, event, { token: null, headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.text).not.toContain(TOKEN.slice(4));
    }
    await expectNothingWritten(t, expect);
    expect(logs.join("\n")).not.toContain(TOKEN.slice(4));
  });

  test("the previous token works only while AUTH0_EVENTS_TOKEN_PREVIOUS is set, with a warning", async () => {
    const t = newT();
    process.env.AUTH0_EVENTS_TOKEN_PREVIOUS = PREVIOUS_TOKEN;
    const ok = await deliver(t, userEvent("user.created", SUB, minutesAgo(2)), {
      token: PREVIOUS_TOKEN,
    });
    expect(ok.status).toBe(200);
    expect(logs.some((l) => l.includes("AUTH0_EVENTS_TOKEN_PREVIOUS"))).toBe(true);
    expect(logs.join("\n")).not.toContain(PREVIOUS_TOKEN);

    delete process.env.AUTH0_EVENTS_TOKEN_PREVIOUS;
    const after = await deliver(t, userEvent("user.updated", SUB, minutesAgo(1)), {
      token: PREVIOUS_TOKEN,
    });
    expect(after.status).toBe(401);
    const { events } = await tables(t);
    expect(events).toHaveLength(1); // only the first one
  });

  test("an unconfigured deployment answers 500 (Auth0 retries) and names the variable, not a value", async () => {
    const t = newT();
    delete process.env.AUTH0_EVENTS_TOKEN;
    const res = await deliver(t, userEvent("user.created", SUB, minutesAgo(1)));
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ error: "not_configured" });
    expect(res.json.message).toContain("AUTH0_EVENTS_TOKEN");
    await expectNothingWritten(t, expect);
  });
});

describe("POST /auth0/events: malformed input gets a 4xx and writes nothing", () => {
  const validEvent = () => userEvent("user.created", SUB, minutesAgo(1));
  const cases: Array<{
    name: string;
    body: () => string | Uint8Array;
    status: number;
    error: string;
  }> = [
    { name: "not JSON", body: () => "{id: evt_1", status: 400, error: "malformed_json" },
    {
      name: "not UTF-8",
      body: () => new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      status: 400,
      error: "malformed_json",
    },
    { name: "a JSON array", body: () => "[]", status: 400, error: "invalid_event" },
    { name: "JSON null", body: () => "null", status: 400, error: "invalid_event" },
    {
      name: "no id",
      body: () => JSON.stringify({ ...validEvent(), id: undefined }),
      status: 400,
      error: "invalid_event",
    },
    {
      name: "a numeric id",
      body: () => JSON.stringify({ ...validEvent(), id: 42 }),
      status: 400,
      error: "invalid_event",
    },
    {
      name: "an empty id",
      body: () => JSON.stringify({ ...validEvent(), id: "" }),
      status: 400,
      error: "invalid_event",
    },
    {
      name: "CloudEvents 0.3",
      body: () => JSON.stringify({ ...validEvent(), specversion: "0.3" }),
      status: 400,
      error: "invalid_event",
    },
    {
      name: "a time that is not a timestamp",
      body: () => JSON.stringify({ ...validEvent(), time: "yesterday" }),
      status: 400,
      error: "invalid_event",
    },
    {
      name: "no type",
      body: () => JSON.stringify({ ...validEvent(), type: undefined }),
      status: 400,
      error: "invalid_event",
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const t = newT();
      const res = await deliver(t, c.body());
      expect(res.status).toBe(c.status);
      expect(res.json.error).toBe(c.error);
      expect(res.json.message).toEqual(expect.any(String));
      await expectNothingWritten(t, expect);
    });
  }

  test("a content type that is not JSON: 415", async () => {
    const t = newT();
    const res = await deliver(t, JSON.stringify(validEvent()), {
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(415);
    await expectNothingWritten(t, expect);
  });

  test("a body over the cap: 413; a full profile with large metadata under it is accepted", async () => {
    const t = newT();
    const big = userEvent("user.created", SUB, minutesAgo(1), {
      app_metadata: { blob: "x".repeat(MAX_EVENT_BODY_BYTES) },
    });
    const res = await deliver(t, big);
    expect(res.status).toBe(413);
    await expectNothingWritten(t, expect);

    const large = userEvent("user.created", SUB, minutesAgo(1), {
      app_metadata: { blob: "x".repeat(16 * 1024) },
      user_metadata: { blob: "y".repeat(16 * 1024) },
    });
    const ok = await deliver(t, large, {
      headers: { "content-type": "application/cloudevents+json; charset=utf-8" },
    });
    expect(ok.status).toBe(200);
    expect((await tables(t)).users).toHaveLength(1);
  });
});

describe("POST /auth0/events: unknown and test events are acknowledged and ignored", () => {
  test("an unknown type: 200, recorded as ignored, no user written", async () => {
    const t = newT();
    const event = cloudEvent({
      type: "connection.created",
      time: minutesAgo(1),
      object: { id: "con_1", name: "github" },
    });
    const res = await deliver(t, event);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ eventId: event.id, outcome: "ignored", duplicate: false });
    const all = await tables(t);
    expect(all.users).toEqual([]);
    expect(all.tombstones).toEqual([]);
    expect(all.events).toMatchObject([{ eventId: event.id, outcome: "ignored" }]);
  });

  test("a test event shaped like user.created / user.deleted changes no user", async () => {
    const t = newT();
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: CANONICAL_ID,
      email: "ada@example.com",
      auth0UpdatedAt: minutesAgo(10),
    });
    const before = (await tables(t)).users;
    for (const type of ["user.created", "user.deleted"] as const) {
      const event = { ...userEvent(type, SUB, minutesAgo(1)), a0purpose: "test" };
      const res = await deliver(t, event);
      expect(res.status).toBe(200);
      expect(res.json.outcome).toBe("ignored");
    }
    const after = await tables(t);
    expect(after.users).toEqual(before);
    expect(after.tombstones).toEqual([]);
  });
});

describe("POST /auth0/events: user.created and user.updated", () => {
  test("user.created stores the profile under the canonical domain", async () => {
    const t = newT();
    const at = minutesAgo(5);
    const event = userEvent("user.created", SUB, at, {
      name: "Ada Lovelace",
      email: "ada@example.com",
      email_verified: false,
    });
    const res = await deliver(t, event);
    expect(res.json).toEqual({ eventId: event.id, outcome: "applied", duplicate: false });
    const { users, events } = await tables(t);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({
      tokenIdentifier: CANONICAL_ID,
      auth0UserId: SUB,
      email: "ada@example.com",
      emailVerified: false,
      name: "Ada Lovelace",
      givenName: "Ada",
      auth0UpdatedAt: at,
    });
    expect(users[0].lastActiveAt).toBeUndefined(); // an event is not a login
    expect(events).toMatchObject([{ eventId: event.id, type: "user.created", auth0UserId: SUB }]);
  });

  test("a redelivery is acknowledged and changes nothing, even with other content", async () => {
    const t = newT();
    const event = userEvent("user.created", SUB, minutesAgo(5), { name: "First" });
    await deliver(t, event);
    const before = await tables(t);
    const again = await deliver(t, { ...event, data: { object: userObject(SUB, minutesAgo(1)) } });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ eventId: event.id, outcome: "applied", duplicate: true });
    expect(await tables(t)).toEqual(before);
  });

  test("an update older than the stored profile changes nothing; a newer one applies", async () => {
    const t = newT();
    await deliver(t, userEvent("user.updated", SUB, minutesAgo(5), { name: "Newer" }));
    const old = await deliver(t, userEvent("user.created", SUB, minutesAgo(10), { name: "Old" }));
    expect(old.json.outcome).toBe("superseded");
    expect((await tables(t)).users[0]).toMatchObject({ name: "Newer" });

    const newer = await deliver(
      t,
      userEvent("user.updated", SUB, minutesAgo(1), { name: "Newest", given_name: null }),
    );
    expect(newer.json.outcome).toBe("applied");
    const [row] = (await tables(t)).users;
    expect(row).toMatchObject({ name: "Newest", auth0UpdatedAt: minutesAgo(1) });
    expect(row.givenName).toBeUndefined(); // the full profile lacks it: cleared
  });

  test("user.updated for a user without a row creates it (it is the whole profile)", async () => {
    const t = newT();
    const res = await deliver(t, userEvent("user.updated", "google-oauth2|1234", minutesAgo(1)));
    expect(res.json.outcome).toBe("applied");
    expect((await tables(t)).users).toMatchObject([
      { tokenIdentifier: tokenIdentifier(DOMAIN, "google-oauth2|1234") },
    ]);
  });

  test("a row created through the custom domain is updated in place, not duplicated", async () => {
    const t = newT();
    process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM_DOMAIN;
    const customId = tokenIdentifier(CUSTOM_DOMAIN, SUB);
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: customId,
      name: "Before",
      auth0UpdatedAt: minutesAgo(10),
    });
    await deliver(t, userEvent("user.updated", SUB, minutesAgo(1), { name: "After" }));
    const { users } = await tables(t);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ tokenIdentifier: customId, name: "After" });
  });
});

describe("POST /auth0/events: user.deleted and tombstones", () => {
  test("removes the row and keeps a tombstone; older events never bring the user back", async () => {
    const t = newT();
    await deliver(t, userEvent("user.created", SUB, minutesAgo(10)));
    const del = userEvent("user.deleted", SUB, minutesAgo(5));
    const res = await deliver(t, del);
    expect(res.json).toEqual({ eventId: del.id, outcome: "applied", duplicate: false });
    let all = await tables(t);
    expect(all.users).toEqual([]);
    expect(all.tombstones).toMatchObject([
      { auth0UserId: SUB, deletedAt: minutesAgo(5), eventId: del.id },
    ]);

    // A late update from before the deletion, and a redelivered creation (new delivery id).
    for (const late of [
      userEvent("user.updated", SUB, minutesAgo(6)),
      userEvent("user.created", SUB, minutesAgo(10)),
    ]) {
      const r = await deliver(t, late);
      expect(r.status).toBe(200);
      expect(r.json.outcome).toBe("superseded");
    }
    all = await tables(t);
    expect(all.users).toEqual([]);
    expect(all.tombstones).toHaveLength(1);
  });

  test("the deletion time is deleted_at, else the event's time, or the profile's updated_at if later", async () => {
    const t = newT();
    const noDeletedAt = userEvent("user.deleted", "auth0|a", minutesAgo(5), {
      deleted_at: undefined,
    });
    const laterUpdate = userEvent("user.deleted", "auth0|b", minutesAgo(5), {
      updated_at: new Date(minutesAgo(4)).toISOString(),
    });
    for (const e of [noDeletedAt, laterUpdate]) expect((await deliver(t, e)).status).toBe(200);
    const { tombstones } = await tables(t);
    const byUser = Object.fromEntries(tombstones.map((s) => [s.auth0UserId, s.deletedAt]));
    expect(byUser).toEqual({ "auth0|a": minutesAgo(5), "auth0|b": minutesAgo(4) });
  });

  test("a deletion that arrives first leaves a tombstone that stops the earlier creation", async () => {
    const t = newT();
    const res = await deliver(t, userEvent("user.deleted", SUB, minutesAgo(5)));
    expect(res.json.outcome).toBe("applied");
    await deliver(t, userEvent("user.created", SUB, minutesAgo(9)));
    const all = await tables(t);
    expect(all.users).toEqual([]);
    expect(all.tombstones).toMatchObject([{ auth0UserId: SUB }]);
  });

  test("the same user_id re-created after the deletion comes back and clears the tombstone", async () => {
    const t = newT();
    await deliver(t, userEvent("user.created", SUB, minutesAgo(10)));
    const del = userEvent("user.deleted", SUB, minutesAgo(5));
    await deliver(t, del);
    const again = await deliver(t, userEvent("user.created", SUB, minutesAgo(2), { name: "Back" }));
    expect(again.json.outcome).toBe("applied");
    let all = await tables(t);
    expect(all.users).toMatchObject([{ auth0UserId: SUB, name: "Back" }]);
    expect(all.tombstones).toEqual([]);

    // The deletion redelivered under a new delivery is older than the re-created profile.
    const late = await deliver(t, { ...del, id: nextEventId() });
    expect(late.json.outcome).toBe("superseded");
    all = await tables(t);
    expect(all.users).toMatchObject([{ name: "Back" }]);
  });

  test("a reconcile or login that read Auth0 before the deletion cannot bring the user back", async () => {
    const t = newT();
    await deliver(t, userEvent("user.deleted", SUB, minutesAgo(5)));
    const readBefore = {
      tokenIdentifier: CANONICAL_ID,
      name: "Stale",
      auth0UpdatedAt: minutesAgo(6),
    };

    // The reconcile path (and the Action's path) both run upsertFromAuth0.
    await expect(t.mutation(internal.auth0.upsertFromAuth0, readBefore)).rejects.toThrow(/deleted/);
    // A profile without updated_at cannot prove it is newer either.
    await expect(
      t.mutation(internal.auth0.upsertFromAuth0, { tokenIdentifier: CANONICAL_ID, name: "x" }),
    ).rejects.toThrow(/deleted/);
    // auth0.store with an ID token issued before the deletion.
    await expect(
      t
        .withIdentity({
          issuer: `https://${DOMAIN}/`,
          subject: SUB,
          updatedAt: new Date(minutesAgo(6)).toISOString(),
        })
        .mutation(api.auth0.store, {}),
    ).rejects.toThrow(/deleted/);
    // The Action's signed route answers 409 instead of failing with a 500.
    const body = JSON.stringify(readBefore);
    process.env.AUTH0_ACTION_SECRET = "lwJk5ytT36iCvOg0sHWgZAiIoeOfA8OFZqYMdPuFi4U";
    const site = process.env.CONVEX_SITE_URL!;
    const res = await t.fetch(UPSERT_USER_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await signRequest("lwJk5ytT36iCvOg0sHWgZAiIoeOfA8OFZqYMdPuFi4U", body, audienceFor(site))}`,
      },
      body,
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toBe("user_deleted");

    expect((await tables(t)).users).toEqual([]);
  });

  test("deleting a user who signed in through the custom domain removes that row", async () => {
    const t = newT();
    process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM_DOMAIN;
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: tokenIdentifier(CUSTOM_DOMAIN, SUB),
      auth0UpdatedAt: minutesAgo(10),
    });
    const res = await deliver(t, userEvent("user.deleted", SUB, minutesAgo(1)));
    expect(res.json.outcome).toBe("applied");
    expect((await tables(t)).users).toEqual([]);
  });
});

describe("POST /auth0/events: permanent and transient failures", () => {
  const cases: Array<{ name: string; event: () => Record<string, unknown>; detail: RegExp }> = [
    {
      name: "no updated_at (cannot be ordered)",
      event: () => userEvent("user.updated", SUB, minutesAgo(1), { updated_at: undefined }),
      detail: /updated_at/,
    },
    {
      name: "no user_id",
      event: () => userEvent("user.created", SUB, minutesAgo(1), { user_id: undefined }),
      detail: /user_id/,
    },
    {
      name: "an email that is not a string",
      event: () => userEvent("user.created", SUB, minutesAgo(1), { email: 42 }),
      detail: /email/,
    },
    {
      name: "no data.object",
      event: () => cloudEvent({ type: "user.updated", time: minutesAgo(1), object: undefined }),
      detail: /data\.object/,
    },
    {
      name: "an updated_at older than the retention",
      event: () => userEvent("user.updated", SUB, Date.now() - RETENTION_MS - 60_000),
      detail: /retention/,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: recorded as failed and acknowledged (200), no user written`, async () => {
      const t = newT();
      const event = c.event();
      if (c.name === "no data.object") event.data = {};
      const res = await deliver(t, event);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ eventId: event.id, outcome: "failed", duplicate: false });
      const all = await tables(t);
      expect(all.users).toEqual([]);
      expect(all.events).toHaveLength(1);
      expect(all.events[0].detail).toMatch(c.detail);

      const failures = await t.query(internal.auth0.eventFailures, {});
      expect(failures).toMatchObject([
        { eventId: event.id, detail: expect.stringMatching(c.detail) },
      ]);
      // A redelivery stays acknowledged.
      expect((await deliver(t, event)).json).toMatchObject({ outcome: "failed", duplicate: true });
    });
  }

  test("a broken deployment setting answers 500 so Auth0 retries, and records nothing", async () => {
    const t = newT();
    process.env.AUTH0_DOMAIN = "not a domain/with a path";
    const event = userEvent("user.created", SUB, minutesAgo(1));
    const res = await deliver(t, event);
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("not_configured");
    await expectNothingWritten(t, expect);

    // Once fixed, Auth0's retry of the same event applies it.
    process.env.AUTH0_DOMAIN = DOMAIN;
    expect((await deliver(t, event)).json).toMatchObject({ outcome: "applied", duplicate: false });
  });
});

describe("auth0.eventsHealth", () => {
  test("null before any event; then the last receipt time and the failures of the last 24 h", async () => {
    const t = newT();
    expect(await t.query(internal.auth0.eventsHealth, {})).toMatchObject({
      lastEventReceivedAt: null,
      lastEventType: null,
      failuresLast24h: 0,
      lastFailure: null,
    });
    const before = Date.now();
    await deliver(t, userEvent("user.created", SUB, minutesAgo(3)));
    const bad = userEvent("user.updated", SUB, minutesAgo(2), { updated_at: "not a date" });
    await deliver(t, bad);
    await deliver(
      t,
      cloudEvent({ type: "user.updated", time: minutesAgo(1), extra: { a0purpose: "test" } }),
    );
    const health = await t.query(internal.auth0.eventsHealth, {});
    expect(health.lastEventReceivedAt).toBeGreaterThanOrEqual(before);
    expect(health.lastEventReceivedAt).toBeLessThanOrEqual(Date.now());
    expect(health.lastEventType).toBe("user.updated");
    expect(health.failuresLast24h).toBe(1);
    expect(health.lastFailure).toMatchObject({ eventId: bad.id, auth0UserId: SUB });
    // Rejected requests are not "events received".
    await deliver(t, userEvent("user.created", "auth0|other", minutesAgo(1)), { token: "wrong" });
    expect((await t.query(internal.auth0.eventsHealth, {})).lastEventReceivedAt).toBe(
      health.lastEventReceivedAt,
    );
  });
});

describe("auth0.pruneEvents", () => {
  test("deletes records and tombstones past the retention in bounded batches, keeps the rest", async () => {
    vi.useFakeTimers();
    const t = newT();
    const now = Date.now();
    const old = now - RETENTION_MS - 1000;
    await t.run(async (ctx) => {
      for (let i = 0; i < 5; i++) {
        await ctx.db.insert("auth0Events", {
          eventId: `evt_old_${i}`,
          type: "user.updated",
          eventTime: old,
          receivedAt: old,
          outcome: "applied",
        });
        await ctx.db.insert("auth0UserTombstones", {
          auth0UserId: `auth0|old${i}`,
          deletedAt: old,
        });
      }
      await ctx.db.insert("auth0Events", {
        eventId: "evt_recent",
        type: "user.updated",
        eventTime: now - 1000,
        receivedAt: now - 1000,
        outcome: "applied",
      });
      await ctx.db.insert("auth0UserTombstones", {
        auth0UserId: "auth0|recent",
        deletedAt: now - 1000,
      });
    });
    // batchSize bounds what a run deletes across all its tables, not per table.
    const first = await t.mutation(internal.auth0.pruneEvents, { batchSize: 2 });
    expect(first).toEqual({ events: 2, tombstones: 0, more: true });
    const second = await t.mutation(internal.auth0.pruneEvents, { batchSize: 4 });
    expect(second).toEqual({ events: 3, tombstones: 1, more: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const all = await tables(t);
    expect(all.events.map((e) => e.eventId)).toEqual(["evt_recent"]);
    expect(all.tombstones.map((e) => e.auth0UserId)).toEqual(["auth0|recent"]);
    await expect(t.mutation(internal.auth0.pruneEvents, { batchSize: 0 })).rejects.toThrow(
      /batchSize/,
    );
    await expect(t.mutation(internal.auth0.pruneEvents, { batchSize: 4000 })).rejects.toThrow(
      /batchSize must be an integer 1\.\.1000/,
    );
  });

  test("convex/crons.ts runs it every hour", async () => {
    const { default: crons } = await import("../../../convex/crons");
    expect(Object.values(crons.crons)).toContainEqual({
      name: "auth0:pruneEvents",
      args: [{}],
      schedule: { type: "hourly", minuteUTC: 17 },
    });
  });
});

describe("auth0.deleteFromAuth0 (for server-side paths such as reconcile)", () => {
  test("removes the row and leaves a tombstone like user.deleted does", async () => {
    const t = newT();
    await deliver(t, userEvent("user.created", SUB, minutesAgo(10)));
    const result = await t.mutation(internal.auth0.deleteFromAuth0, {
      auth0UserId: SUB,
      deletedAt: minutesAgo(1),
    });
    expect(result).toEqual({ removed: 1, superseded: false });
    const all = await tables(t);
    expect(all.users).toEqual([]);
    expect(all.tombstones).toMatchObject([{ auth0UserId: SUB, deletedAt: minutesAgo(1) }]);
    await expect(
      t.mutation(internal.auth0.deleteFromAuth0, { auth0UserId: "", deletedAt: minutesAgo(1) }),
    ).rejects.toThrow(/auth0UserId/);
  });
});
