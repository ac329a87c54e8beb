import { convexTest } from "convex-test";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import schema from "../../../convex/schema";
import { eventTables, userFields } from "../../../server/tables";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { getCurrentUser, getCurrentUserOrThrow } from "../../../server/users/users";
import { LAST_ACTIVE_RESOLUTION_MS } from "../../../server/users/profile";

const modules = import.meta.glob("../../../convex/**/*.*s");

const DOMAIN = "tenant.us.auth0.com";
const CUSTOM = "login.example.com";
const ISS = `https://${DOMAIN}/`;
const SUB = "auth0|65f0c0ffee";
const ID = tokenIdentifier(DOMAIN, SUB);
const T0 = Date.parse("2026-11-01T10:00:00Z");

const profile = {
  tokenIdentifier: ID,
  email: "ada@example.com",
  emailVerified: true,
  name: "Ada Lovelace",
  nickname: "ada",
  givenName: "Ada",
  familyName: "Lovelace",
  avatarUrl: "https://cdn.example.com/ada.png",
  auth0UpdatedAt: T0,
};

function setup() {
  return convexTest({ schema, modules, transactionLimits: true });
}

const allUsers = (t: ReturnType<typeof setup>) => t.run((ctx) => ctx.db.query("users").collect());

beforeEach(() => {
  process.env.AUTH0_DOMAIN = DOMAIN;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-22T12:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("auth0.upsertFromAuth0", () => {
  test("creates the row with every profile fact and reports created", async () => {
    const t = setup();
    const result = await t.mutation(internal.auth0.upsertFromAuth0, { ...profile, login: true });
    expect(result.created).toBe(true);
    const [row] = await allUsers(t);
    expect(row._id).toBe(result.userId);
    expect(row).toMatchObject({
      ...profile,
      auth0UserId: SUB,
      lastActiveAt: Date.now(),
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
  });

  test("is idempotent: the same profile again keeps one row and writes nothing", async () => {
    const t = setup();
    const first = await t.mutation(internal.auth0.upsertFromAuth0, profile);
    const before = await allUsers(t);
    vi.advanceTimersByTime(5_000);
    const second = await t.mutation(internal.auth0.upsertFromAuth0, profile);
    expect(second).toEqual({ userId: first.userId, created: false });
    expect(await allUsers(t)).toEqual(before); // updatedAt unchanged: no write happened
  });

  test("a repeat login inside a minute writes nothing; after a minute it moves lastActiveAt only", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, { ...profile, login: true });
    const [afterFirst] = await allUsers(t);
    vi.advanceTimersByTime(LAST_ACTIVE_RESOLUTION_MS - 1);
    await t.mutation(internal.auth0.upsertFromAuth0, { ...profile, login: true });
    expect(await allUsers(t)).toEqual([afterFirst]);
    vi.advanceTimersByTime(1);
    await t.mutation(internal.auth0.upsertFromAuth0, { ...profile, login: true });
    const [afterMinute] = await allUsers(t);
    expect(afterMinute.lastActiveAt).toBe(Date.now());
    expect(afterMinute.updatedAt).toBe(afterFirst.updatedAt); // profile facts did not change
  });

  test("updates facts that differ, including the email, and the by_email index follows", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, profile);
    vi.advanceTimersByTime(1_000);
    await t.mutation(internal.auth0.upsertFromAuth0, {
      ...profile,
      email: "ada@newmail.example",
      name: "Ada King",
      auth0UpdatedAt: T0 + 1_000,
    });
    const rows = await allUsers(t);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      email: "ada@newmail.example",
      name: "Ada King",
      auth0UpdatedAt: T0 + 1_000,
      updatedAt: Date.now(),
    });
    const byOld = await t.run((ctx) =>
      ctx.db
        .query("users")
        .withIndex("by_email", (q) => q.eq("email", "ada@example.com"))
        .collect(),
    );
    expect(byOld).toHaveLength(0);
  });

  test("monotonic: an older profile never overwrites a newer one", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, {
      ...profile,
      name: "Newer Name",
      auth0UpdatedAt: T0 + 60_000,
    });
    const [newer] = await allUsers(t);
    vi.advanceTimersByTime(1_000);
    await t.mutation(internal.auth0.upsertFromAuth0, {
      ...profile,
      name: "Older Name",
      email: null,
      auth0UpdatedAt: T0,
    });
    expect(await allUsers(t)).toEqual([newer]);
  });

  test("an older profile on a login still records the activity, not the facts", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, { ...profile, auth0UpdatedAt: T0 + 1 });
    vi.advanceTimersByTime(LAST_ACTIVE_RESOLUTION_MS);
    await t.mutation(internal.auth0.upsertFromAuth0, {
      ...profile,
      name: "Stale",
      auth0UpdatedAt: T0,
      login: true,
    });
    const [row] = await allUsers(t);
    expect(row.name).toBe(profile.name);
    expect(row.lastActiveAt).toBe(Date.now());
  });

  test("an absent field keeps the stored value; null clears it", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, profile);
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: ID,
      name: "Only The Name",
      auth0UpdatedAt: T0 + 1,
    });
    let [row] = await allUsers(t);
    expect(row).toMatchObject({ ...profile, name: "Only The Name", auth0UpdatedAt: T0 + 1 });

    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: ID,
      email: null,
      givenName: null,
      avatarUrl: null,
      auth0UpdatedAt: T0 + 2,
    });
    [row] = await allUsers(t);
    expect(row.email).toBeUndefined();
    expect(row.givenName).toBeUndefined();
    expect(row.avatarUrl).toBeUndefined();
    expect(row.familyName).toBe(profile.familyName);
  });

  test("a profile with no email (SMS, some social logins) creates a row without one", async () => {
    const t = setup();
    const smsId = tokenIdentifier(DOMAIN, "sms|6543");
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: smsId,
      email: null,
      name: "+15550100",
    });
    const [row] = await allUsers(t);
    expect(row).toMatchObject({ tokenIdentifier: smsId, auth0UserId: "sms|6543" });
    expect("email" in row).toBe(false);
  });

  test("custom domain and canonical domain logins share one row", async () => {
    process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM;
    const t = setup();
    const viaCanonical = await t.mutation(internal.auth0.upsertFromAuth0, profile);
    const viaCustom = await t.mutation(internal.auth0.upsertFromAuth0, {
      ...profile,
      tokenIdentifier: tokenIdentifier(CUSTOM, SUB),
      name: "Via Custom Domain",
      auth0UpdatedAt: T0 + 1,
    });
    expect(viaCustom).toEqual({ userId: viaCanonical.userId, created: false });
    const rows = await allUsers(t);
    expect(rows).toHaveLength(1);
    expect(rows[0].name).toBe("Via Custom Domain");
    // The signed-in user finds the row whichever domain issued their token.
    const asCustom = t.withIdentity({ issuer: `https://${CUSTOM}/`, subject: SUB });
    expect((await asCustom.query(api.auth0.current, {}))?._id).toBe(viaCanonical.userId);
  });

  test("the same subject under an issuer this deployment does not trust is another user", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, profile);
    const other = await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: tokenIdentifier("other-tenant.eu.auth0.com", SUB),
    });
    expect(other.created).toBe(true);
    expect(await allUsers(t)).toHaveLength(2);
  });

  test("an identifier that is not Auth0-shaped is refused and nothing is written", async () => {
    const t = setup();
    await expect(
      t.mutation(internal.auth0.upsertFromAuth0, { tokenIdentifier: "auth0|no-issuer" }),
    ).rejects.toThrow(/invalid_token_identifier|tokenIdentifier/);
    await expect(
      t.mutation(internal.auth0.upsertFromAuth0, { tokenIdentifier: ID, email: 42 as never }),
    ).rejects.toThrow(/Validator|email/);
    expect(await allUsers(t)).toHaveLength(0);
  });

  test("fields the host app owns are never touched", async () => {
    const hostSchema = defineSchema({
      users: defineTable({ ...userFields, plan: v.string(), teamId: v.optional(v.string()) })
        .index("by_token", ["tokenIdentifier"])
        .index("by_auth0_user_id", ["auth0UserId"])
        .index("by_email", ["email"]),
      ...eventTables,
    });
    const t = convexTest({ schema: hostSchema, modules, transactionLimits: true });
    const now = Date.now();
    const id = await t.run((ctx) =>
      ctx.db.insert("users", {
        tokenIdentifier: ID,
        auth0UserId: SUB,
        email: "old@example.com",
        plan: "pro",
        teamId: "team_1",
        createdAt: now,
        updatedAt: now,
      }),
    );
    await t.mutation(internal.auth0.upsertFromAuth0, { ...profile, login: true });
    const row = await t.run((ctx) => ctx.db.get("users", id));
    expect(row).toMatchObject({ plan: "pro", teamId: "team_1", email: profile.email });
  });
});

describe("auth0.store", () => {
  const identity = {
    issuer: ISS,
    subject: SUB,
    email: "ada@example.com",
    emailVerified: true,
    name: "Ada Lovelace",
    nickname: "ada",
    givenName: "Ada",
    familyName: "Lovelace",
    pictureUrl: "https://cdn.example.com/ada.png",
    updatedAt: "2026-11-01T10:00:00+00:00",
  };

  test("refuses a caller who is not signed in, with a clear error, and writes nothing", async () => {
    const t = setup();
    await expect(t.mutation(api.auth0.store, {})).rejects.toThrow(/without a signed-in user/);
    expect(await allUsers(t)).toHaveLength(0);
  });

  test("stores the signed-in user from the ID token's claims, once", async () => {
    const t = setup();
    const asAda = t.withIdentity(identity);
    const id1 = await asAda.mutation(api.auth0.store, {});
    const id2 = await asAda.mutation(api.auth0.store, {});
    expect(id2).toBe(id1);
    const rows = await allUsers(t);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tokenIdentifier: ID,
      auth0UserId: SUB,
      email: identity.email,
      emailVerified: true,
      name: identity.name,
      avatarUrl: identity.pictureUrl,
      auth0UpdatedAt: T0,
      lastActiveAt: Date.now(),
    });
  });

  test("falls back to the nickname when the token has no name", async () => {
    const t = setup();
    await t
      .withIdentity({ issuer: ISS, subject: SUB, nickname: "ada" })
      .mutation(api.auth0.store, {});
    expect((await allUsers(t))[0].name).toBe("ada");
  });

  test("a token without the email scope does not erase the email the Action stored", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, profile);
    await t
      .withIdentity({ issuer: ISS, subject: SUB, updatedAt: "2026-11-01T10:00:00Z" })
      .mutation(api.auth0.store, {});
    expect((await allUsers(t))[0].email).toBe(profile.email);
  });

  test("an ID token older than the profile the Action stored changes no fact", async () => {
    const t = setup();
    await t.mutation(internal.auth0.upsertFromAuth0, {
      ...profile,
      name: "Renamed In Auth0",
      auth0UpdatedAt: T0 + 3_600_000,
    });
    await t.withIdentity(identity).mutation(api.auth0.store, {});
    expect((await allUsers(t))[0].name).toBe("Renamed In Auth0");
  });
});

describe("auth0.current and helpers", () => {
  test("null when signed out, null before the row exists, the row after", async () => {
    const t = setup();
    expect(await t.query(api.auth0.current, {})).toBeNull();
    const asAda = t.withIdentity({ issuer: ISS, subject: SUB, name: "Ada" });
    expect(await asAda.query(api.auth0.current, {})).toBeNull();
    const id = await asAda.mutation(api.auth0.store, {});
    expect(await asAda.query(api.auth0.current, {})).toMatchObject({ _id: id, name: "Ada" });
  });

  test("getCurrentUserOrThrow throws a helpful error; getCurrentUser returns null", async () => {
    const t = setup();
    const asAda = t.withIdentity({ issuer: ISS, subject: SUB });
    expect(await asAda.run((ctx) => getCurrentUser(ctx))).toBeNull();
    await expect(asAda.run((ctx) => getCurrentUserOrThrow(ctx))).rejects.toThrow(
      /useStoreUserEffect|Post-Login Action/,
    );
    const id = await asAda.mutation(api.auth0.store, {});
    expect((await asAda.run((ctx) => getCurrentUserOrThrow(ctx)))._id).toBe(id);
  });
});

describe("identity key agreement", () => {
  test("store and current agree for a token whose iss lacks the trailing slash", async () => {
    const t = setup();
    const asAda = t.withIdentity({ issuer: `https://${DOMAIN}`, subject: SUB, name: "Ada" });
    const id = await asAda.mutation(api.auth0.store, {});
    expect((await allUsers(t))[0].tokenIdentifier).toBe(ID);
    expect((await asAda.query(api.auth0.current, {}))?._id).toBe(id);
  });
});
