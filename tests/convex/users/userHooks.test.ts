/**
 * The app's say in its rows (server/users/hooks.ts), on every path that writes them: a `users`
 * table with REQUIRED fields of the app filled by `onUserCreated`, `onUserUpdated` with the old
 * and new row, `name`/`avatarUrl` owned by the app (never overwritten after creation), and
 * `app_metadata.plan` / `user_metadata.locale` copied into the app's fields when valid. Paths: the
 * Action's route, `auth0.store`, events, the reconcile's batch, adoption, and a deletion that
 * anonymizes. The log sync and the reconcile's commands are in tests/node/hostAppSync.test.ts,
 * the built Action in tests/node/actionMetadata.test.ts. Limits on.
 */
import { convexTest } from "convex-test";
import { v } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../../convex/_generated/api";
import { profileFromAuth0User, type Auth0UserLike } from "../../../server/users/auth0Profile";
import { configureAuth0Users } from "../../../server/index";
import { CONVEX_LIMITS } from "../../../server/limits";
import { audienceFor, signRequest, UPSERT_USER_PATH } from "../../../server/http/signedRequest";
import { SYNC_APPLY_PATH, SYNC_STATUS_PATH } from "../../../server/reconcile/syncRoutes";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { peakUsage, resetPeakUsage } from "../../../scripts/lib/productionLimits";
import { deliver, DOMAIN, setEventsEnv, userEvent, userObject } from "../events/eventsFixtures";
import { adoptingHostSchema, configureHostApp, hostHooks, hostSchema } from "../hostApp";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const ACTION_SECRET = "action-secret-for-hook-tests-0123456789abcdef";
const SYNC_SECRET = "sync-secret-for-hook-tests-0123456789abcdef01";
const ISS = `https://${DOMAIN}/`;
const SUB = "auth0|65f0c0ffee0000000000ada1";

const newT = () => convexTest({ schema: hostSchema, modules, transactionLimits: true });
type HostT = ReturnType<typeof newT>;

let warnings: string[];
beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_ACTION_SECRET = ACTION_SECRET;
  process.env.AUTH0_SYNC_SECRET = SYNC_SECRET;
  delete process.env.AUTH0_USER_DELETION;
  hostHooks.auditRowsPerCreation = 1;
  configureHostApp();
  warnings = [];
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  });
});
afterEach(() => {
  delete process.env.AUTH0_USER_DELETION;
  vi.restoreAllMocks();
});

const minutesAgo = (m: number) => Date.now() - m * 60_000;

/** Ada as Auth0 holds her, dated `updatedAt`. */
const ada = (updatedAt: number, overrides: Record<string, unknown> = {}): Auth0UserLike => ({
  ...userObject(SUB, updatedAt, {
    email: "ada@example.com",
    name: "Ada Lovelace",
    picture: "https://cdn.example.com/ada.png",
    app_metadata: { plan: "pro" },
    user_metadata: { locale: "fr" },
  }),
  ...overrides,
  user_id: SUB,
});

async function signedPost(t: HostT, path: string, secret: string, body: unknown) {
  const text = JSON.stringify(body);
  const token = await signRequest(secret, text, audienceFor(SITE, path));
  const res = await t.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A login reported by the Post-Login Action: the body its bundle sends (metadata whole). */
const actionLogin = (t: HostT, user: Auth0UserLike) =>
  signedPost(t, UPSERT_USER_PATH, ACTION_SECRET, {
    tokenIdentifier: tokenIdentifier(DOMAIN, SUB),
    ...profileFromAuth0User(user, "all"),
  });

/** A batch of the reconcile (or the log sync): mapped metadata paths only, as they send it. */
const syncUpsert = (t: HostT, user: Auth0UserLike) =>
  signedPost(t, SYNC_APPLY_PATH, SYNC_SECRET, {
    upserts: [
      {
        auth0UserId: SUB,
        profile: profileFromAuth0User(user, ["app_metadata.plan", "user_metadata.locale"]),
      },
    ],
    deletions: [],
  });

const row = (t: HostT) => t.run(async (ctx) => (await ctx.db.query("users").collect())[0]);
const audit = (t: HostT) =>
  t.run(async (ctx) =>
    (await ctx.db.query("userAudit").collect()).map(({ kind, changed }) => ({ kind, changed })),
  );
/** What the app's profile page does: edits the fields it owns. */
const editProfile = (t: HostT) =>
  t.run(async (ctx) => {
    const user = (await ctx.db.query("users").first())!;
    await ctx.db.patch("users", user._id, {
      name: "Countess Ada",
      avatarUrl: "https://app.example.com/a.png",
    });
  });

describe("the Action's route", () => {
  test("creates the row with the hook's required fields and valid metadata over its default", async () => {
    const t = newT();
    const res = await actionLogin(t, ada(minutesAgo(10)));
    expect(res).toMatchObject({ status: 200, json: { created: true } });
    expect(res.json).not.toHaveProperty("refusedMetadata");
    expect(await row(t)).toMatchObject({
      auth0UserId: SUB,
      email: "ada@example.com",
      name: "Ada Lovelace", // app-owned fields are filled once, at creation
      avatarUrl: "https://cdn.example.com/ada.png",
      usertag: "ada",
      plan: "pro",
      locale: "fr",
    });
    expect(await audit(t)).toEqual([{ kind: "created", changed: [] }]);
  });

  test("the next login keeps the app-owned fields the app edited, applies the rest, and calls onUserUpdated", async () => {
    const t = newT();
    await actionLogin(t, ada(minutesAgo(10)));
    await editProfile(t);
    const later = minutesAgo(5);
    await actionLogin(
      t,
      ada(later, {
        email: "ada@new.example.com",
        name: "Ada King",
        picture: "https://cdn.example.com/king.png",
        app_metadata: { plan: "free" },
        user_metadata: {},
      }),
    );
    const after = await row(t);
    expect(after).toMatchObject({
      email: "ada@new.example.com",
      name: "Countess Ada",
      avatarUrl: "https://app.example.com/a.png",
      plan: "free",
      usertag: "ada",
      auth0UpdatedAt: later,
    });
    expect(after).not.toHaveProperty("locale"); // gone from user_metadata, optional: removed
    expect(await audit(t)).toEqual([
      { kind: "created", changed: [] },
      { kind: "updated", changed: ["auth0UpdatedAt", "email", "locale", "plan"] },
    ]);
    // The same profile again changes nothing: no further onUserUpdated.
    await actionLogin(
      t,
      ada(later, {
        email: "ada@new.example.com",
        app_metadata: { plan: "free" },
        user_metadata: {},
      }),
    );
    expect(await audit(t)).toHaveLength(2);
  });

  test("an invalid metadata value is refused, reported to the Action, and changes nothing for its field", async () => {
    const t = newT();
    await actionLogin(t, ada(minutesAgo(10)));
    const res = await actionLogin(
      t,
      ada(minutesAgo(5), {
        name: "Ada K",
        app_metadata: { plan: "enterprise" },
        email: "k@example.com",
      }),
    );
    expect(res.status).toBe(200);
    expect(res.json.refusedMetadata).toEqual([
      {
        field: "plan",
        from: "app_metadata.plan",
        reason: 'expected "free" | "pro", got string',
      },
    ]);
    expect(JSON.stringify(res.json)).not.toContain("enterprise"); // metadata is not echoed
    expect(await row(t)).toMatchObject({ plan: "pro", email: "k@example.com" });
    expect(warnings.join("\n")).toMatch(
      /users\.plan keeps its value: app_metadata\.plan of Auth0 user auth0\|/,
    );
  });
});

describe("auth0.store", () => {
  test("creates with the hook's fields and the default plan: an ID token carries no metadata", async () => {
    const t = newT();
    const asAda = t.withIdentity({
      issuer: ISS,
      subject: SUB,
      email: "ada@example.com",
      name: "Ada",
    });
    await asAda.mutation(api.auth0.store, {});
    expect(await row(t)).toMatchObject({ usertag: "ada", plan: "free", name: "Ada" });
    expect(await row(t)).not.toHaveProperty("locale");
    expect(await audit(t)).toEqual([{ kind: "created", changed: [] }]);

    await editProfile(t);
    await t
      .withIdentity({ issuer: ISS, subject: SUB, email: "ada@example.com", name: "Ada Renamed" })
      .mutation(api.auth0.store, {});
    expect((await row(t)).name).toBe("Countess Ada");
    expect(await audit(t)).toHaveLength(1); // nothing the module writes changed
  });

  test("a second user whose email gives the same tag gets another: the hook reads in the transaction", async () => {
    const t = newT();
    await t
      .withIdentity({ issuer: ISS, subject: SUB, email: "ada@example.com" })
      .mutation(api.auth0.store, {});
    await t
      .withIdentity({ issuer: ISS, subject: "auth0|other", email: "ada@elsewhere.org" })
      .mutation(api.auth0.store, {});
    const tags = await t.run(async (ctx) =>
      (await ctx.db.query("users").collect()).map((u) => u.usertag),
    );
    expect(tags).toEqual(["ada", "ada-2"]);
  });
});

describe("events", () => {
  test("user.created runs the hook; user.updated keeps app-owned fields, applies metadata, refuses a bad value", async () => {
    const t = newT();
    const created = userEvent("user.created", SUB, minutesAgo(10), {
      email: "ada@example.com",
      app_metadata: { plan: "pro" },
      user_metadata: { locale: "fr" },
    });
    expect((await deliver(t, created)).status).toBe(200);
    expect(await row(t)).toMatchObject({ usertag: "ada", plan: "pro", locale: "fr" });
    await editProfile(t);

    const updated = userEvent("user.updated", SUB, minutesAgo(5), {
      email: "ada@example.com",
      name: "Renamed In Auth0",
      app_metadata: { plan: "free" },
      user_metadata: { locale: "de" },
    });
    expect((await deliver(t, updated)).status).toBe(200);
    expect(await row(t)).toMatchObject({ name: "Countess Ada", plan: "free", locale: "de" });
    expect((await audit(t)).at(-1)).toEqual({
      kind: "updated",
      changed: ["auth0UpdatedAt", "locale", "plan"],
    });

    const bad = userEvent("user.updated", SUB, minutesAgo(1), {
      email: "ada@example.com",
      app_metadata: { plan: ["pro"] },
      user_metadata: { locale: "it" },
    });
    expect((await deliver(t, bad)).status).toBe(200);
    expect(await row(t)).toMatchObject({ plan: "free", locale: "it" });
    const record = await t.run(async (ctx) =>
      (await ctx.db.query("auth0Events").collect()).find((e) => e.eventId === bad.id),
    );
    expect(record).toMatchObject({ outcome: "applied" });
    expect(record!.detail).toMatch(
      /^metadata refused, those fields kept: plan \(app_metadata\.plan: .*got array\)$/,
    );
  });

  test("an event older than the row changes no metadata either (ordered like every fact)", async () => {
    const t = newT();
    await deliver(
      t,
      userEvent("user.updated", SUB, minutesAgo(5), { app_metadata: { plan: "pro" } }),
    );
    await deliver(
      t,
      userEvent("user.updated", SUB, minutesAgo(10), { app_metadata: { plan: "free" } }),
    );
    expect((await row(t)).plan).toBe("pro");
  });
});

describe("the reconcile's batch (sync and the log sync apply through it)", () => {
  test("creates through the hook, then repairs drift without touching app-owned fields", async () => {
    const t = newT();
    const first = await syncUpsert(t, ada(minutesAgo(10)));
    expect(first.json.results).toEqual([{ auth0UserId: SUB, kind: "upsert", outcome: "created" }]);
    expect(await row(t)).toMatchObject({ usertag: "ada", plan: "pro", locale: "fr" });
    await editProfile(t);

    const second = await syncUpsert(
      t,
      ada(minutesAgo(5), {
        name: "Ada King",
        app_metadata: { plan: 42 },
        user_metadata: { locale: "en" },
      }),
    );
    expect(second.json.results).toEqual([
      { auth0UserId: SUB, kind: "upsert", outcome: "updated", refusedMetadata: ["plan"] },
    ]);
    expect(await row(t)).toMatchObject({ name: "Countess Ada", plan: "pro", locale: "en" });
    expect((await audit(t)).at(-1)).toEqual({
      kind: "updated",
      changed: ["auth0UpdatedAt", "locale"],
    });
  });

  test("a batch of creations whose hook writes a lot is applied in parts, each within the limits", async () => {
    const t = newT();
    hostHooks.auditRowsPerCreation = 150;
    const ids = Array.from({ length: 60 }, (_, i) => `auth0|heavy${String(i).padStart(3, "0")}`);
    const upserts = ids.map((id) => ({
      auth0UserId: id,
      profile: profileFromAuth0User(userObject(id, minutesAgo(10)) as never, ["app_metadata.plan"]),
    }));
    resetPeakUsage();
    let rest = upserts;
    let calls = 0;
    while (rest.length > 0) {
      const res = await signedPost(t, SYNC_APPLY_PATH, SYNC_SECRET, {
        upserts: rest,
        deletions: [],
      });
      expect(res.status).toBe(200);
      const results = res.json.results as { auth0UserId: string; outcome: string }[];
      expect(results.length).toBeGreaterThan(0);
      expect(results.every((r) => r.outcome === "created")).toBe(true);
      calls++;
      const done = new Set(results.map((r) => r.auth0UserId));
      rest = rest.filter((u) => !done.has(u.auth0UserId));
    }
    expect(calls).toBeGreaterThan(1);
    const counts = await t.run(async (ctx) => ({
      users: (await ctx.db.query("users").collect()).length,
      audit: (await ctx.db.query("userAudit").collect()).length,
    }));
    expect(counts).toEqual({ users: 60, audit: 60 * 150 });
    expect(peakUsage().documentsWritten).toBeLessThan(CONVEX_LIMITS.documentsWritten * 0.75);
  }, 120_000);
});

test("the sync status route tells the reconcile which fields the app owns and maps", async () => {
  const t = newT();
  const res = await signedPost(t, SYNC_STATUS_PATH, SYNC_SECRET, {});
  expect(res.status).toBe(200);
  expect(res.json.fieldRules).toEqual({
    appOwned: ["name", "avatarUrl"],
    metadata: [
      { field: "plan", from: "app_metadata.plan", optional: false },
      { field: "locale", from: "user_metadata.locale", optional: true },
    ],
  });
});

test("adoption completes an app's existing row and calls onUserUpdated with both rows", async () => {
  const t = convexTest({ schema: adoptingHostSchema, modules, transactionLimits: true });
  await t.run(async (ctx) => {
    await ctx.db.insert("users", {
      tokenIdentifier: tokenIdentifier(DOMAIN, SUB),
      name: "Ada From Before",
      usertag: "ada",
      plan: "pro",
    });
  });
  const result = await t.mutation(internal.auth0.adoptExistingRows, {});
  expect(result.counts).toMatchObject({ adopted: 1 });
  expect(await t.run(async (ctx) => await ctx.db.query("users").first())).toMatchObject({
    auth0UserId: SUB,
    name: "Ada From Before",
    usertag: "ada",
  });
  expect(
    await t.run(async (ctx) =>
      (await ctx.db.query("userAudit").collect()).map(({ kind, changed }) => ({ kind, changed })),
    ),
  ).toEqual([{ kind: "updated", changed: ["auth0UserId", "createdAt"] }]);
});

test("anonymizing clears app-owned profile fields and optional metadata fields; required app fields stay", async () => {
  process.env.AUTH0_USER_DELETION = "anonymize";
  const t = newT();
  await actionLogin(t, ada(minutesAgo(10)));
  await editProfile(t);
  await deliver(t, userEvent("user.deleted", SUB, minutesAgo(1)));
  const kept = await row(t);
  expect(kept.deletedAt).toBeTypeOf("number");
  for (const field of ["name", "avatarUrl", "email", "locale"])
    expect(kept).not.toHaveProperty(field);
  expect(kept).toMatchObject({ usertag: "ada", plan: "pro" });
});

test("without onUserCreated, a required app field refuses the insert and the error names the fix", async () => {
  configureAuth0Users({});
  const t = newT();
  const asAda = t.withIdentity({ issuer: ISS, subject: SUB, email: "ada@example.com" });
  await expect(asAda.mutation(api.auth0.store, {})).rejects.toThrow(
    /configureAuth0Users\(\{ onUserCreated \}\) in convex\/auth0\.ts to return them/,
  );
  expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual([]);
});

describe("configureAuth0Users refuses what it cannot honour, naming it", () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    [
      "an unknown profile field",
      { appOwnedFields: ["plan"] },
      /appOwnedFields: "plan" is not one of email, emailVerified/,
    ],
    [
      "a path outside the metadata",
      { metadata: { plan: { from: "plan", validator: v.string() } } },
      /metadata\.plan\.from must be "app_metadata\.<key>"/,
    ],
    [
      "a path with an empty key",
      { metadata: { plan: { from: "app_metadata..plan", validator: v.string() } } },
      /metadata\.plan\.from must be/,
    ],
    [
      "something that is not a validator",
      { metadata: { plan: { from: "app_metadata.plan", validator: "string" } } },
      /metadata\.plan\.validator must be a Convex validator/,
    ],
    [
      "a field of the module",
      { metadata: { email: { from: "app_metadata.email", validator: v.string() } } },
      /metadata\.email: email is not a field of the app/,
    ],
    [
      "a hook that is not a function",
      { onUserCreated: "fill" },
      /onUserCreated must be a function/,
    ],
  ];
  test.each(bad)("%s", (_name, options, message) => {
    expect(() => configureAuth0Users(options as never)).toThrow(message);
  });

  test("onUserCreated returning a field of the module fails the write, naming the field", async () => {
    configureAuth0Users({
      onUserCreated: async () => ({ usertag: "x", plan: "free", email: "forged@example.com" }),
    });
    const t = newT();
    await expect(
      t.withIdentity({ issuer: ISS, subject: SUB }).mutation(api.auth0.store, {}),
    ).rejects.toThrow(/onUserCreated returned email: the module fills that field itself/);
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual([]);
  });
});

test("the log sync and the reconcile carry only the mapped metadata values", () => {
  const user = {
    user_id: SUB,
    app_metadata: { plan: "pro", stripeCustomerId: "cus_123" },
    user_metadata: { locale: "fr", phone: "+33 1 23 45 67 89" },
  };
  const paths = ["app_metadata.plan", "user_metadata.locale", "app_metadata.billing.tier"];
  expect(JSON.parse(profileFromAuth0User(user, paths).metadataJson!)).toEqual({
    app_metadata: { plan: "pro" },
    user_metadata: { locale: "fr" },
  });
  // A user object without metadata is a user without it: carried, empty (fields are cleared).
  expect(JSON.parse(profileFromAuth0User({ user_id: SUB }, paths).metadataJson!)).toEqual({
    app_metadata: {},
    user_metadata: {},
  });
  // No paths asked for (the CLI's upsert-user): nothing carried, mapped fields keep their values.
  expect(profileFromAuth0User(user)).not.toHaveProperty("metadataJson");
});
