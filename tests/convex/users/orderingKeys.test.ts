/**
 * The ordering rules under attack: ordering keys from the future, and profiles without a date, on
 * every path that writes users (the upsert route, auth0.store, events, upsertFromAuth0), and state
 * already poisoned before these rules existed.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import schema from "../../../convex/schema";
import { audienceFor, signRequest, UPSERT_USER_PATH } from "../../../server/http/signedRequest";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { MAX_CLOCK_SKEW_MS } from "../../../server/users/users";
import { deliver, DOMAIN, setEventsEnv, tables, userEvent, type T } from "../events/eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SUB = "auth0|65f0c0ffee";
const ID = tokenIdentifier(DOMAIN, SUB);
const ISS = `https://${DOMAIN}/`;
const SECRET = "eSoB2DMnpmqFm8UfcoSLJnLeZ3KqMdActyo4t3nEdHA";
const SITE = "https://happy-otter-123.convex.site";
const NOW = Date.parse("2026-11-22T12:00:00Z");
const HOUR = 3_600_000;
const YEAR_9999 = Date.parse("9999-12-31T00:00:00Z");

const newT = (): T => convexTest({ schema, modules, transactionLimits: true });
const users = (t: T) => t.run((ctx) => ctx.db.query("users").collect());

beforeEach(() => {
  setEventsEnv();
  process.env.AUTH0_ACTION_SECRET = SECRET;
  process.env.CONVEX_SITE_URL = SITE;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

async function postUpsert(t: T, body: Record<string, unknown>) {
  const text = JSON.stringify(body);
  const token = await signRequest(SECRET, text, audienceFor(SITE, UPSERT_USER_PATH));
  const res = await t.fetch(UPSERT_USER_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const dated = (auth0UpdatedAt: number, extra: Record<string, unknown> = {}) => ({
  tokenIdentifier: ID,
  email: "ada@example.com",
  emailVerified: true,
  name: "Ada Lovelace",
  auth0UpdatedAt,
  ...extra,
});

describe("ordering keys from the future", () => {
  test("upsertFromAuth0 refuses an updated_at past the skew (an hour, year 9999) and writes nothing", async () => {
    const t = newT();
    for (const when of [NOW + HOUR, YEAR_9999, NOW + MAX_CLOCK_SKEW_MS + 1]) {
      await expect(t.mutation(internal.auth0.upsertFromAuth0, dated(when))).rejects.toThrow(
        /future/,
      );
    }
    expect(await users(t)).toEqual([]);
  });

  test("an updated_at within the documented skew is accepted (clocks differ a little)", async () => {
    const t = newT();
    await t.mutation(internal.auth0.upsertFromAuth0, dated(NOW + MAX_CLOCK_SKEW_MS));
    expect((await users(t))[0].auth0UpdatedAt).toBe(NOW + MAX_CLOCK_SKEW_MS);
  });

  test("the upsert route answers 400 timestamp_in_future and writes nothing", async () => {
    const t = newT();
    const res = await postUpsert(t, dated(NOW + HOUR));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("timestamp_in_future");
    expect(String(res.json.message)).toMatch(/auth0UpdatedAt.*future/);
    expect(await users(t)).toEqual([]);
  });

  test("auth0.store ignores a future updated_at as an ordering key; later real updates still apply", async () => {
    const t = newT();
    await t
      .withIdentity({
        issuer: ISS,
        subject: SUB,
        name: "Ada",
        updatedAt: new Date(YEAR_9999).toISOString(),
      })
      .mutation(api.auth0.store, {});
    const [row] = await users(t);
    expect(row.name).toBe("Ada");
    expect(row.auth0UpdatedAt).toBeUndefined();
    // A real update (dated now) is not superseded by the poisoned token.
    await t.mutation(internal.auth0.upsertFromAuth0, dated(NOW - 1000, { name: "Ada King" }));
    expect((await users(t))[0].name).toBe("Ada King");
  });

  test("an event whose updated_at lies in the future is recorded as failed and shows in health", async () => {
    const t = newT();
    const event = userEvent("user.updated", SUB, NOW - 1000, {
      updated_at: new Date(NOW + HOUR).toISOString(),
    });
    const res = await deliver(t, event);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ outcome: "failed", duplicate: false });
    const { users: rows, events } = await tables(t);
    expect(rows).toEqual([]);
    expect(events[0].detail).toMatch(/future/);
    expect((await t.query(internal.auth0.eventsHealth, {})).failuresLast24h).toBe(1);
  });

  test("a deletion dated in the future is clamped to now, so the user can sign up again later", async () => {
    const t = newT();
    await deliver(t, userEvent("user.created", SUB, NOW - 5000));
    const deletion = userEvent("user.deleted", SUB, NOW - 1000, {
      deleted_at: new Date(YEAR_9999).toISOString(),
    });
    expect((await deliver(t, deletion)).json).toMatchObject({ outcome: "applied" });
    const { tombstones } = await tables(t);
    expect(tombstones).toHaveLength(1);
    expect(tombstones[0].deletedAt).toBe(NOW);

    // A day later the same social user_id signs up again: the row comes back.
    vi.setSystemTime(NOW + 24 * HOUR);
    const again = await deliver(t, userEvent("user.created", SUB, NOW + 24 * HOUR - 1000));
    expect(again.json).toMatchObject({ outcome: "applied" });
    expect(await users(t)).toHaveLength(1);
  });

  test("a deletion without deleted_at whose envelope time is in the future is clamped too", async () => {
    const t = newT();
    const deletion = userEvent("user.deleted", SUB, YEAR_9999, {
      deleted_at: null,
      updated_at: new Date(NOW - HOUR).toISOString(),
    });
    expect((await deliver(t, deletion)).status).toBe(200);
    expect((await tables(t)).tombstones[0].deletedAt).toBe(NOW);
  });

  test("deleteFromAuth0 clamps a future deletedAt to now", async () => {
    const t = newT();
    await t.mutation(internal.auth0.deleteFromAuth0, { auth0UserId: SUB, deletedAt: YEAR_9999 });
    expect((await tables(t)).tombstones[0].deletedAt).toBe(NOW);
  });
});

describe("state poisoned before these rules: visible, and healed by real updates", () => {
  async function poison(t: T) {
    await t.run(async (ctx) => {
      await ctx.db.insert("users", {
        tokenIdentifier: ID,
        auth0UserId: SUB,
        name: "Poisoned",
        auth0UpdatedAt: YEAR_9999,
        createdAt: NOW - HOUR,
        updatedAt: NOW - HOUR,
      });
      await ctx.db.insert("auth0UserTombstones", {
        auth0UserId: "auth0|locked-out",
        deletedAt: YEAR_9999,
      });
    });
  }

  test("health lists rows and tombstones dated in the future", async () => {
    const t = newT();
    await poison(t);
    const health = await t.query(internal.auth0.eventsHealth, {});
    expect(health.futureDatedUsers).toEqual({ count: 1, more: false, auth0UserIds: [SUB] });
    expect(health.futureDatedTombstones).toEqual({
      count: 1,
      more: false,
      auth0UserIds: ["auth0|locked-out"],
    });
  });

  test("a real update replaces a row dated in the future instead of being superseded", async () => {
    const t = newT();
    await poison(t);
    await t.mutation(internal.auth0.upsertFromAuth0, dated(NOW - 1000, { name: "Real Name" }));
    const [row] = await users(t);
    expect(row).toMatchObject({ name: "Real Name", auth0UpdatedAt: NOW - 1000 });
    expect((await t.query(internal.auth0.eventsHealth, {})).futureDatedUsers.count).toBe(0);
  });

  test("a user.deleted removes a row dated in the future (it does not survive its deletion)", async () => {
    const t = newT();
    await poison(t);
    const res = await deliver(t, userEvent("user.deleted", SUB, NOW - 1000));
    expect(res.json).toMatchObject({ outcome: "applied" });
    expect(await users(t)).toEqual([]);
  });

  test("a tombstone dated in the future does not lock the user id out forever", async () => {
    const t = newT();
    await poison(t);
    vi.setSystemTime(NOW + HOUR);
    const res = await deliver(t, userEvent("user.created", "auth0|locked-out", NOW + HOUR - 1000));
    expect(res.json).toMatchObject({ outcome: "applied" });
  });
});

describe("profiles without a date", () => {
  test("auth0.store with an older dateless token never rewrites a dated row's facts", async () => {
    const t = newT();
    await t.mutation(
      internal.auth0.upsertFromAuth0,
      dated(NOW - HOUR, { email: "new@example.com", emailVerified: true }),
    );
    await t
      .withIdentity({ issuer: ISS, subject: SUB, email: "old@example.com", emailVerified: false })
      .mutation(api.auth0.store, {});
    expect((await users(t))[0]).toMatchObject({ email: "new@example.com", emailVerified: true });
  });

  test("a dateless profile fills fields the dated row lacks, and clears nothing", async () => {
    const t = newT();
    await t.mutation(internal.auth0.upsertFromAuth0, dated(NOW - HOUR));
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: ID,
      givenName: "Ada",
      email: null,
      name: "Someone Else",
    });
    expect((await users(t))[0]).toMatchObject({
      givenName: "Ada",
      email: "ada@example.com",
      name: "Ada Lovelace",
      auth0UpdatedAt: NOW - HOUR,
    });
  });

  test("a dateless route body replayed within its minute cannot roll a dated row back", async () => {
    const t = newT();
    const stale = { tokenIdentifier: ID, email: "old@example.com", emailVerified: false };
    expect((await postUpsert(t, stale)).status).toBe(200);
    await t.mutation(
      internal.auth0.upsertFromAuth0,
      dated(NOW - 1000, { email: "new@example.com", emailVerified: true }),
    );
    expect((await postUpsert(t, stale)).status).toBe(200);
    expect((await users(t))[0]).toMatchObject({ email: "new@example.com", emailVerified: true });
  });

  test("between dateless profiles the latest still wins, and a dated one then takes over", async () => {
    const t = newT();
    await t.mutation(internal.auth0.upsertFromAuth0, { tokenIdentifier: ID, name: "First" });
    await t.mutation(internal.auth0.upsertFromAuth0, { tokenIdentifier: ID, name: "Second" });
    expect((await users(t))[0].name).toBe("Second");
    await t.mutation(internal.auth0.upsertFromAuth0, dated(NOW - HOUR, { name: "Dated" }));
    expect((await users(t))[0]).toMatchObject({ name: "Dated", auth0UpdatedAt: NOW - HOUR });
  });
});
