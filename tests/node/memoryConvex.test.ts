/**
 * The benchmark's in-memory Convex side (bench/lib/memoryConvex.ts) answers like the deployment:
 * the same requests, over HTTP, to it and to the real sync routes running in convex-test, on the
 * same rows, give the same status codes and bodies (ids, creation times and cursors aside):
 * signatures, validation, batch limits, pages bounded in rows and in bytes, the (empty)
 * memberships page sync reads before deleting, unknown routes, and the outcomes of writes; for an
 * app with field rules, the status's `fieldRules` and writes that keep app-owned fields and store
 * mapped metadata. ~4 s.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import schema from "../../convex/schema";
import { startMemoryConvex, type MemoryConvex } from "../../bench/lib/memoryConvex";
import { convexModules, startLocalConvex, type LocalConvex } from "../../scripts/lib/localConvex";
import { signedPost } from "../../scripts/lib/signedPost";
import { MAX_BATCH_ITEMS } from "../../server/reconcile/sync";
import {
  SYNC_APPLY_PATH,
  SYNC_STATUS_PATH,
  SYNC_USERS_PATH,
} from "../../server/reconcile/syncRoutes";
import { SYNC_ORGS_PAGE_PATH } from "../../server/reconcile/orgSyncRoutes";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { configureAuth0Users } from "../../server/index";
import { configureHostApp, hostSchema } from "../convex/hostApp";
import { setProcessEnv } from "./helpers/processEnv";

const DOMAIN = "tenant.example.com";
const CUSTOM = "login.example.com";
const SECRET = "sync-secret-for-the-contract-0c7d5a1e93b84f26";
const NOW = Date.parse("2026-05-01T12:00:00Z");
const HOUR = 3_600_000;

let real: LocalConvex;
let memory: MemoryConvex;
let restoreEnv: () => void;

/** The rows both sides start with: both issuers, an old tenant, dated and dateless. */
function seedRows() {
  const row = (issuer: string, id: string, extra: Record<string, unknown> = {}) => ({
    tokenIdentifier: tokenIdentifier(issuer, id),
    auth0UserId: id,
    email: `${id.replace(/\W/g, "")}@example.com`,
    name: `User ${id}`,
    auth0UpdatedAt: NOW - 2 * HOUR,
    createdAt: NOW - 3 * HOUR,
    updatedAt: NOW - 3 * HOUR,
    ...extra,
  });
  return [
    row(DOMAIN, "auth0|ada"),
    row(DOMAIN, "auth0|both"),
    row(CUSTOM, "auth0|both"),
    row("old-tenant.eu.auth0.com", "auth0|foreign"),
    row(DOMAIN, "auth0|dateless", { auth0UpdatedAt: undefined }),
    row(DOMAIN, "auth0|newer", { auth0UpdatedAt: NOW - 60_000 }),
    row(DOMAIN, "auth0|future", { auth0UpdatedAt: NOW + 48 * HOUR }),
    // Large rows: a page of them stops on bytes read, long before its numItems.
    ...Array.from({ length: 6 }, (_, i) =>
      row(DOMAIN, `auth0|large${i}`, { name: "n".repeat(900_000) }),
    ),
  ].map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  restoreEnv = setProcessEnv({
    AUTH0_DOMAIN: DOMAIN,
    AUTH0_CUSTOM_DOMAIN: CUSTOM,
    AUTH0_SYNC_SECRET: SECRET,
    AUTH0_SYNC_SECRET_PREVIOUS: undefined,
    AUTH0_USER_DELETION: undefined,
  });
  real = await startLocalConvex({
    t: convexTest({ schema, modules: convexModules(), transactionLimits: true }),
  });
  memory = await startMemoryConvex();
  const rows = seedRows();
  await real.t.run(async (ctx) => {
    for (const row of rows) await ctx.db.insert("users", row as never);
  });
  memory.insert(rows as never);
});

afterAll(async () => {
  await real?.close();
  await memory?.close();
  restoreEnv();
  vi.useRealTimers();
});

/** Replaces what differs between two deployments by nature: ids, creation times, cursors. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "_id" && key !== "_creationTime")
      .map(([key, v]) => [key, key === "continueCursor" ? typeof v : normalize(v)]),
  );
}

/** Sends the same request to both sides; each checks its audience against its own URL. */
async function both(
  path: string,
  body: unknown,
  opts: { secret?: string; raw?: RequestInit } = {},
): Promise<{ status: number; json: unknown }[]> {
  const answers = [];
  for (const side of [real, memory]) {
    process.env.CONVEX_SITE_URL = side.url;
    if (opts.raw) {
      const res = await fetch(`${side.url}${path}`, opts.raw);
      const text = await res.text();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        // a plain-text answer
      }
      answers.push({ status: res.status, json: normalize(json) });
    } else {
      const reply = await signedPost({
        origin: side.url,
        path,
        secret: opts.secret ?? SECRET,
        body,
      });
      answers.push({ status: reply.status, json: normalize(reply.json) });
    }
  }
  return answers;
}

async function expectSame(path: string, body: unknown, opts: Parameters<typeof both>[2] = {}) {
  const [fromConvex, fromMemory] = await both(path, body, opts);
  expect(fromMemory).toEqual(fromConvex);
  return fromConvex;
}

/** Every row, page by page, as both sides page it. */
async function pages(numItems: number) {
  const sizes: number[][] = [[], []];
  const rows: unknown[][] = [[], []];
  for (const [i, side] of [real, memory].entries()) {
    process.env.CONVEX_SITE_URL = side.url;
    let cursor: string | null = null;
    for (;;) {
      const reply = await signedPost({
        origin: side.url,
        path: SYNC_USERS_PATH,
        secret: SECRET,
        body: { cursor, numItems },
      });
      expect(reply.status).toBe(200);
      const page = reply.json as { rows: unknown[]; isDone: boolean; continueCursor: string };
      sizes[i].push(page.rows.length);
      rows[i].push(...page.rows);
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
  }
  expect(sizes[1]).toEqual(sizes[0]);
  expect(normalize(rows[1])).toEqual(normalize(rows[0]));
  return { sizes: sizes[0], rows: normalize(rows[0]) as Record<string, unknown>[] };
}

describe("the in-memory Convex side answers the sync routes as the deployment does", () => {
  test("status: issuers, health and log sync; signature, body and route checks", async () => {
    const status = await expectSame(SYNC_STATUS_PATH, {});
    expect(status).toMatchObject({
      status: 200,
      json: { issuers: [`https://${DOMAIN}/`, `https://${CUSTOM}/`] },
    });
    expect(status.json).toMatchObject({ health: { futureDatedUsers: { count: 1 } } });
    expect((await expectSame(SYNC_STATUS_PATH, {}, { secret: "x".repeat(40) })).status).toBe(401);
    expect((await expectSame(SYNC_STATUS_PATH, { extra: 1 })).status).toBe(400);
    const unsigned = {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    };
    expect((await expectSame(SYNC_STATUS_PATH, null, { raw: unsigned })).status).toBe(401);
    const text = { ...unsigned, headers: { "content-type": "text/plain" } };
    expect((await expectSame(SYNC_USERS_PATH, null, { raw: text })).status).toBe(415);
    const huge = { ...unsigned, body: JSON.stringify({ pad: "x".repeat(1024 * 1024) }) };
    expect((await expectSame(SYNC_APPLY_PATH, null, { raw: huge })).status).toBe(413);
    expect((await expectSame("/auth0/sync/nothing", null, { raw: unsigned })).status).toBe(404);
    expect((await expectSame(SYNC_USERS_PATH, null, { raw: { method: "GET" } })).status).toBe(404);
  });

  test("pages: bounded in rows and in bytes read; page-size and cursor errors", async () => {
    const byRows = await pages(4);
    expect(byRows.rows).toHaveLength(13);
    // Four large rows hold 3.6 MB; the fifth passes 4 MiB and ends the page early.
    const byBytes = await pages(5000);
    expect(byBytes.sizes).toEqual([12, 1]);
    for (const numItems of [0, 5001, 1.5]) {
      expect((await expectSame(SYNC_USERS_PATH, { cursor: null, numItems })).status).toBe(400);
    }
    expect(
      (await expectSame(SYNC_USERS_PATH, { cursor: null, numItems: 10, extra: true })).status,
    ).toBe(400);
    // Sync reads the memberships before deleting users: none here, none on either side.
    const memberships = { table: "auth0Memberships", cursor: null, numItems: 100 };
    expect(await expectSame(SYNC_ORGS_PAGE_PATH, memberships)).toMatchObject({
      status: 200,
      json: { rows: [], isDone: true },
    });
    expect((await expectSame(SYNC_ORGS_PAGE_PATH, { ...memberships, table: "users" })).status).toBe(
      400,
    );
    const badCursor = await expectSame(SYNC_USERS_PATH, { cursor: "not-a-cursor", numItems: 10 });
    expect(badCursor).toMatchObject({ status: 400, json: { error: "invalid_cursor" } });
  });

  test("batches: limits, and the outcome of each write, then the same rows and tombstones", async () => {
    const profile = (name: string, at: number | undefined) => ({
      email: `${name.toLowerCase()}@example.com`,
      emailVerified: true,
      name,
      ...(at !== undefined ? { auth0UpdatedAt: at } : {}),
    });
    const upsert = (auth0UserId: string, p: Record<string, unknown>) => ({
      auth0UserId,
      profile: p,
    });
    const tooMany = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) =>
      upsert(`auth0|n${i}`, profile("N", NOW - HOUR)),
    );
    expect((await expectSame(SYNC_APPLY_PATH, { upserts: tooMany, deletions: [] })).status).toBe(
      400,
    );
    const twice = [upsert("auth0|x", profile("X", NOW)), upsert("auth0|x", profile("X", NOW))];
    expect((await expectSame(SYNC_APPLY_PATH, { upserts: twice, deletions: [] })).status).toBe(400);
    expect(
      (
        await expectSame(SYNC_APPLY_PATH, {
          upserts: [upsert("", profile("E", NOW))],
          deletions: [],
        })
      ).status,
    ).toBe(400);

    const first = await expectSame(SYNC_APPLY_PATH, {
      upserts: [
        upsert("auth0|new", profile("New", NOW - HOUR)),
        upsert("auth0|ada", profile("Ada Renamed", NOW - HOUR)),
        upsert("auth0|dateless", profile("Filled", undefined)),
        upsert("auth0|both", profile("Both Renamed", NOW - HOUR)),
        upsert("auth0|later", profile("From The Future", NOW + 48 * HOUR)),
        upsert("auth0|long", profile("n".repeat(600), NOW - HOUR)),
        upsert("a".repeat(600), profile("Long Id", NOW - HOUR)),
      ],
      deletions: [
        { auth0UserId: "auth0|large0", deletedAt: NOW - 1000 },
        { auth0UserId: "auth0|newer", deletedAt: NOW - HOUR },
        { auth0UserId: "auth0|never-had-a-row", deletedAt: NOW - HOUR },
      ],
    });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(
      (first.json as { results: { outcome: string }[] }).results.map((r) => r.outcome),
    ).toEqual(
      ["created", "updated", "updated", "updated", "refused", "refused", "refused"].concat([
        "removed",
        "superseded",
        "removed",
      ]),
    );
    // A profile read before a deletion cannot bring the user back; one from after it can.
    const again = await expectSame(SYNC_APPLY_PATH, {
      upserts: [
        upsert("auth0|large0", profile("Back", NOW - 2000)),
        upsert("auth0|never-had-a-row", profile("Signed Up Again", NOW - 1000)),
        upsert("auth0|newer", profile("Older Profile", NOW - HOUR)),
      ],
      deletions: [],
    });
    expect(
      (again.json as { results: { outcome: string }[] }).results.map((r) => r.outcome),
    ).toEqual(["user_deleted", "created", "unchanged"]);
    await pages(5000);
    const tombstones = await real.t.run((ctx) => ctx.db.query("auth0UserTombstones").collect());
    expect(new Map(tombstones.map((t) => [t.auth0UserId, t.deletedAt]))).toEqual(
      memory.tombstones(),
    );
  });
});

describe("for an app with field rules (tests/convex/hostApp.ts), it answers as that app's deployment", () => {
  let host: LocalConvex | undefined;
  let appMemory: MemoryConvex | undefined;
  afterEach(async () => {
    await host?.close();
    await appMemory?.close();
    // What convex/auth0.ts configures: no owned fields, no metadata.
    configureAuth0Users({});
  });

  test("status names the owned and mapped fields; writes keep owned fields, store mapped values, report refusals", async () => {
    host = await startLocalConvex({
      t: convexTest({ schema: hostSchema, modules: convexModules(), transactionLimits: true }),
    });
    appMemory = await startMemoryConvex();
    configureHostApp();
    const sides = [host, appMemory] as const;
    const call = async (path: string, body: unknown) => {
      const answers = [];
      for (const side of sides) {
        process.env.CONVEX_SITE_URL = side.url;
        const reply = await signedPost({ origin: side.url, path, secret: SECRET, body });
        answers.push({ status: reply.status, json: normalize(reply.json) });
      }
      expect(answers[1]).toEqual(answers[0]);
      return answers[0];
    };
    const status = await call(SYNC_STATUS_PATH, {});
    expect(status.json).toMatchObject({
      fieldRules: {
        appOwned: ["name", "avatarUrl"],
        metadata: [
          { field: "plan", from: "app_metadata.plan", optional: false },
          { field: "locale", from: "user_metadata.locale", optional: true },
        ],
      },
      legacyTables: { variable: "unset", migration: null },
    });

    // Rows as the app holds them (its required fields filled at creation); the memory side holds
    // the same ones. Creation is not compared: onUserCreated is the app's, not modelled there.
    const appRow = (id: string, extra: Record<string, unknown>) => ({
      tokenIdentifier: tokenIdentifier(DOMAIN, id),
      auth0UserId: id,
      email: `${id.slice(6)}@example.com`,
      name: "Chosen In The App",
      avatarUrl: "https://app.example.com/a.png",
      usertag: id.slice(6),
      plan: "free",
      auth0UpdatedAt: NOW - 2 * HOUR,
      createdAt: NOW - 3 * HOUR,
      updatedAt: NOW - 3 * HOUR,
      ...extra,
    });
    const rows = [
      appRow("auth0|hana", { locale: "fr" }),
      appRow("auth0|ivo", { locale: "de" }),
      appRow("auth0|jo", {}),
    ];
    await host.t.run(async (ctx) => {
      for (const row of rows) await ctx.db.insert("users", row as never);
    });
    appMemory.insert(rows as never);
    const profile = (name: string, metadata: unknown) => ({
      email: `${name.toLowerCase()}@example.com`,
      name: `${name} In Auth0`,
      avatarUrl: "https://cdn.example.com/auth0.png",
      auth0UpdatedAt: NOW - HOUR,
      metadataJson: JSON.stringify(metadata),
    });
    const applied = await call(SYNC_APPLY_PATH, {
      upserts: [
        // plan moves to pro, locale's key is gone in Auth0 (optional: removed).
        {
          auth0UserId: "auth0|hana",
          profile: profile("Hana", { app_metadata: { plan: "pro" }, user_metadata: {} }),
        },
        // A plan the app's validator refuses keeps the stored one, reported by field.
        {
          auth0UserId: "auth0|ivo",
          profile: profile("Ivo", {
            app_metadata: { plan: "gold" },
            user_metadata: { locale: "en" },
          }),
        },
        // No plan in Auth0 (required: kept); no metadata objects at all change nothing mapped.
        { auth0UserId: "auth0|jo", profile: profile("Jo", { app_metadata: {} }) },
      ],
      deletions: [],
    });
    expect(applied.json).toEqual({
      results: [
        { auth0UserId: "auth0|hana", kind: "upsert", outcome: "updated" },
        { auth0UserId: "auth0|ivo", kind: "upsert", outcome: "updated", refusedMetadata: ["plan"] },
        { auth0UserId: "auth0|jo", kind: "upsert", outcome: "updated" },
      ],
    });
    const stored = (await host.t.run(
      async (ctx) => await ctx.db.query("users").collect(),
    )) as unknown as Record<string, unknown>[];
    const inMemory = appMemory.rows();
    expect(normalize(inMemory)).toEqual(
      stored.map((row) => ({ ...(normalize(row) as object), updatedAt: expect.any(Number) })),
    );
    expect(stored.map((r) => [r.name, r.email, r.plan, r.locale])).toEqual([
      ["Chosen In The App", "hana@example.com", "pro", undefined],
      ["Chosen In The App", "ivo@example.com", "free", "en"],
      ["Chosen In The App", "jo@example.com", "free", undefined],
    ]);
  });
});
