/**
 * The reconcile routes: signed with their own secret, reading `users` page by page, and applying
 * batches only through upsertUser/deleteUser with their ordering rules.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import schema from "../../../convex/schema";
import { audienceFor, signRequest } from "../../../server/http/signedRequest";
import { MAX_BATCH_ITEMS } from "../../../server/reconcile/sync";
import {
  SYNC_APPLY_PATH,
  SYNC_STATUS_PATH,
  SYNC_USERS_PATH,
} from "../../../server/reconcile/syncRoutes";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { CUSTOM_DOMAIN, DOMAIN, setEventsEnv, tables, type T } from "../events/eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");
const SITE = "https://happy-otter-123.convex.site";
const SYNC_SECRET = "ZPRYF81w_cNbO2giRgzuqs8X32GEggTYj_f6Q-FKN0c";
const ACTION_SECRET = "TM_Lu8oBNJySjtgXuGKNJNJjOXo17sZKdp15GmrwKeA";
const NOW = Date.parse("2026-11-22T12:00:00Z");

let logs: string[];
beforeEach(() => {
  setEventsEnv();
  process.env.CONVEX_SITE_URL = SITE;
  process.env.AUTH0_SYNC_SECRET = SYNC_SECRET;
  process.env.AUTH0_ACTION_SECRET = ACTION_SECRET;
  delete process.env.AUTH0_SYNC_SECRET_PREVIOUS;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
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

/** Every field any sync route answers with. */
interface SyncReply {
  error?: string;
  message?: string;
  issuers?: string[];
  canonicalIssuer?: string;
  health?: Record<string, unknown>;
  rows?: (Record<string, unknown> & { auth0UserId: string })[];
  isDone?: boolean;
  continueCursor?: string;
  results?: { auth0UserId: string; outcome: string }[];
}

async function call(t: T, path: string, body: unknown, secret = SYNC_SECRET) {
  const text = JSON.stringify(body);
  const token = await signRequest(secret, text, audienceFor(SITE, path));
  const res = await t.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as SyncReply };
}

const profile = (name: string, updatedAt: number) => ({
  email: `${name.toLowerCase()}@example.com`,
  emailVerified: true,
  name,
  auth0UpdatedAt: updatedAt,
});

describe("authentication", () => {
  test("the Action's secret cannot call the sync routes", async () => {
    const t = newT();
    for (const path of [SYNC_STATUS_PATH, SYNC_USERS_PATH, SYNC_APPLY_PATH]) {
      const res = await call(t, path, {}, ACTION_SECRET);
      expect(res.status, path).toBe(401);
      expect(res.json.error).toBe("bad_signature");
      expect(res.json.message).toContain("AUTH0_SYNC_SECRET");
    }
  });

  test("without AUTH0_SYNC_SECRET in the deployment: 500 naming it, nothing written", async () => {
    const t = newT();
    delete process.env.AUTH0_SYNC_SECRET;
    const res = await call(t, SYNC_APPLY_PATH, {
      upserts: [{ auth0UserId: "auth0|1", profile: profile("Ada", NOW - 1000) }],
      deletions: [],
    });
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ error: "not_configured" });
    expect(res.json.message).toContain("AUTH0_SYNC_SECRET");
    expect((await tables(t)).users).toEqual([]);
  });

  const weakSecrets: [string, Record<string, string>, RegExp][] = [
    ["a 1-character secret", { AUTH0_SYNC_SECRET: "x" }, /AUTH0_SYNC_SECRET is shorter than 32/],
    [
      "a short previous secret",
      { AUTH0_SYNC_SECRET_PREVIOUS: "short-previous" },
      /AUTH0_SYNC_SECRET_PREVIOUS is shorter than 32/,
    ],
    [
      "the Action's secret",
      { AUTH0_ACTION_SECRET: SYNC_SECRET },
      /AUTH0_SYNC_SECRET equals AUTH0_ACTION_SECRET/,
    ],
    [
      "the Action's previous secret",
      { AUTH0_ACTION_SECRET_PREVIOUS: SYNC_SECRET },
      /AUTH0_SYNC_SECRET equals AUTH0_ACTION_SECRET_PREVIOUS/,
    ],
    [
      "the event stream's token",
      { AUTH0_EVENTS_TOKEN: SYNC_SECRET },
      /AUTH0_SYNC_SECRET equals AUTH0_EVENTS_TOKEN/,
    ],
    [
      "a previous sync secret equal to the events' previous token",
      {
        AUTH0_SYNC_SECRET_PREVIOUS: "p".repeat(40),
        AUTH0_EVENTS_TOKEN_PREVIOUS: "p".repeat(40),
      },
      /AUTH0_SYNC_SECRET_PREVIOUS equals AUTH0_EVENTS_TOKEN_PREVIOUS/,
    ],
  ];
  test.each(weakSecrets)(
    "%s: every sync route refuses to work (500 not_configured naming the rule, never the value)",
    async (_name, vars, rule) => {
      const t = newT();
      const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
      Object.assign(process.env, vars);
      try {
        // Signed with the configured secret: the signature would pass, the rule stops it first.
        const secret = process.env.AUTH0_SYNC_SECRET!;
        for (const path of [SYNC_STATUS_PATH, SYNC_USERS_PATH, SYNC_APPLY_PATH]) {
          const body =
            path === SYNC_APPLY_PATH
              ? {
                  upserts: [{ auth0UserId: "auth0|1", profile: profile("Ada", NOW - 1000) }],
                  deletions: [],
                }
              : path === SYNC_USERS_PATH
                ? { cursor: null, numItems: 10 }
                : {};
          const res = await call(t, path, body, secret);
          expect(res.status, path).toBe(500);
          expect(res.json.error).toBe("not_configured");
          expect(res.json.message).toMatch(rule);
          for (const value of Object.values(vars)) {
            if (value.length > 1) expect(res.json.message).not.toContain(value);
          }
        }
        expect(logs.join("\n")).toMatch(rule);
        for (const value of Object.values(vars)) {
          if (value.length > 1) expect(logs.join("\n")).not.toContain(value);
        }
        expect((await tables(t)).users).toEqual([]);
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    },
  );
});

describe("POST /auth0/sync/status", () => {
  test("names the trusted issuers and reports the event stream's health", async () => {
    const t = newT();
    process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM_DOMAIN;
    const res = await call(t, SYNC_STATUS_PATH, {});
    expect(res.status).toBe(200);
    expect(res.json.issuers).toEqual([`https://${DOMAIN}/`, `https://${CUSTOM_DOMAIN}/`]);
    expect(res.json.canonicalIssuer).toBe(`https://${DOMAIN}/`);
    expect(res.json.health).toMatchObject({ lastEventReceivedAt: null, failuresLast24h: 0 });
  });
});

describe("POST /auth0/sync/users", () => {
  test("pages through every row, whole documents, then says it is done", async () => {
    const t = newT();
    await t.run(async (ctx) => {
      for (let i = 0; i < 25; i++) {
        await ctx.db.insert("users", {
          tokenIdentifier: tokenIdentifier(DOMAIN, `auth0|${i}`),
          auth0UserId: `auth0|${i}`,
          name: `User ${i}`,
          createdAt: NOW,
          updatedAt: NOW,
        });
      }
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(10);
      const res = await call(t, SYNC_USERS_PATH, { cursor, numItems: 10 });
      expect(res.status).toBe(200);
      for (const row of res.json.rows!) {
        expect(row).toMatchObject({ _id: expect.any(String), createdAt: NOW });
        seen.push(row.auth0UserId);
      }
      if (res.json.isDone) break;
      cursor = res.json.continueCursor!;
    }
    expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `auth0|${i}`).sort());
  });

  test("refuses a page size outside 1..5000 and unknown fields", async () => {
    const t = newT();
    for (const body of [
      { cursor: null, numItems: 0 },
      { cursor: null, numItems: 5001 },
      { cursor: null, numItems: 1.5 },
      { cursor: null, numItems: 10, extra: true },
    ]) {
      const res = await call(t, SYNC_USERS_PATH, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("POST /auth0/sync/apply", () => {
  test("creates missing users under the canonical issuer and repairs drift in place", async () => {
    const t = newT();
    process.env.AUTH0_CUSTOM_DOMAIN = CUSTOM_DOMAIN;
    // A row made by a login through the custom domain, with an old name.
    await t.run((ctx) =>
      ctx.db.insert("users", {
        tokenIdentifier: tokenIdentifier(CUSTOM_DOMAIN, "auth0|custom"),
        auth0UserId: "auth0|custom",
        name: "Old Name",
        auth0UpdatedAt: NOW - 60_000,
        createdAt: NOW,
        updatedAt: NOW,
      }),
    );
    const res = await call(t, SYNC_APPLY_PATH, {
      upserts: [
        { auth0UserId: "auth0|new", profile: profile("New", NOW - 5000) },
        { auth0UserId: "auth0|custom", profile: profile("Fixed", NOW - 1000) },
      ],
      deletions: [],
    });
    expect(res.status).toBe(200);
    expect(res.json.results).toEqual([
      { auth0UserId: "auth0|new", kind: "upsert", outcome: "created" },
      { auth0UserId: "auth0|custom", kind: "upsert", outcome: "updated" },
    ]);
    const { users } = await tables(t);
    expect(users).toHaveLength(2);
    const byId = Object.fromEntries(users.map((u) => [u.auth0UserId, u]));
    expect(byId["auth0|new"].tokenIdentifier).toBe(tokenIdentifier(DOMAIN, "auth0|new"));
    expect(byId["auth0|custom"]).toMatchObject({
      name: "Fixed",
      tokenIdentifier: tokenIdentifier(CUSTOM_DOMAIN, "auth0|custom"),
    });
  });

  test("never overwrites a newer profile a login wrote while the sync ran", async () => {
    const t = newT();
    await call(t, SYNC_APPLY_PATH, {
      upserts: [{ auth0UserId: "auth0|1", profile: profile("From Login", NOW - 1000) }],
      deletions: [],
    });
    const res = await call(t, SYNC_APPLY_PATH, {
      upserts: [{ auth0UserId: "auth0|1", profile: profile("From Export", NOW - 60_000) }],
      deletions: [],
    });
    expect(res.json.results![0].outcome).toBe("unchanged");
    expect((await tables(t)).users[0].name).toBe("From Login");
  });

  test("deletes through deleteUser: the row goes, a tombstone stays, an older profile cannot return", async () => {
    const t = newT();
    await call(t, SYNC_APPLY_PATH, {
      upserts: [{ auth0UserId: "auth0|gone", profile: profile("Gone", NOW - 60_000) }],
      deletions: [],
    });
    const res = await call(t, SYNC_APPLY_PATH, {
      upserts: [],
      deletions: [{ auth0UserId: "auth0|gone", deletedAt: NOW }],
    });
    expect(res.json.results).toEqual([
      { auth0UserId: "auth0|gone", kind: "delete", outcome: "removed", removed: 1 },
    ]);
    const after = await tables(t);
    expect(after.users).toEqual([]);
    expect(after.tombstones).toMatchObject([{ auth0UserId: "auth0|gone", deletedAt: NOW }]);
    const again = await call(t, SYNC_APPLY_PATH, {
      upserts: [{ auth0UserId: "auth0|gone", profile: profile("Gone", NOW - 60_000) }],
      deletions: [],
    });
    expect(again.json.results![0].outcome).toBe("user_deleted");
    expect((await tables(t)).users).toEqual([]);
  });

  test("a profile dated in the future is refused, the rest of the batch applies", async () => {
    const t = newT();
    const res = await call(t, SYNC_APPLY_PATH, {
      upserts: [
        { auth0UserId: "auth0|future", profile: profile("Future", NOW + 3_600_000) },
        { auth0UserId: "auth0|ok", profile: profile("Ok", NOW - 1000) },
      ],
      deletions: [],
    });
    expect(res.json.results!.map((r) => r.outcome)).toEqual(["refused", "created"]);
  });

  test("refuses oversized batches, repeated users, empty ids and unknown keys, writing nothing", async () => {
    const t = newT();
    const many = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({
      auth0UserId: `auth0|${i}`,
      profile: profile("X", NOW - 1000),
    }));
    const cases: [unknown, string][] = [
      [{ upserts: many, deletions: [] }, "batch_too_large"],
      [
        {
          upserts: [{ auth0UserId: "auth0|1", profile: profile("A", NOW - 1) }],
          deletions: [{ auth0UserId: "auth0|1", deletedAt: NOW }],
        },
        "invalid_body",
      ],
      [{ upserts: [{ auth0UserId: "", profile: {} }], deletions: [] }, "invalid_body"],
      [{ upserts: [], deletions: [], constructor: 1 }, "invalid_body"],
      [
        {
          upserts: [{ auth0UserId: "auth0|1", profile: { name: "A", role: "admin" } }],
          deletions: [],
        },
        "invalid_body",
      ],
    ];
    for (const [body, error] of cases) {
      const res = await call(t, SYNC_APPLY_PATH, body);
      expect(res.status).toBe(400);
      expect(res.json.error).toBe(error);
    }
    const all = await tables(t);
    expect(all.users).toEqual([]);
    expect(all.tombstones).toEqual([]);
  });
});

describe("keys named after Object.prototype members, at every depth", () => {
  const KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
  // Built from JSON text: an object literal would not carry "__proto__" as an own key.
  const withKey = (json: string, key: string) => JSON.parse(json.replace("KEY", key)) as unknown;
  const places: [string, string][] = [
    [
      "an upsert item",
      `{"upserts":[{"auth0UserId":"auth0|1","profile":{"name":"A"},"KEY":1}],"deletions":[]}`,
    ],
    [
      "an upsert's profile",
      `{"upserts":[{"auth0UserId":"auth0|1","profile":{"name":"A","KEY":"x"}}],"deletions":[]}`,
    ],
    [
      "a deletion item",
      `{"upserts":[],"deletions":[{"auth0UserId":"auth0|1","deletedAt":1,"KEY":{}}]}`,
    ],
    [
      "the second item of a list",
      `{"upserts":[{"auth0UserId":"auth0|1","profile":{}},{"auth0UserId":"auth0|2","profile":{},"KEY":true}],"deletions":[]}`,
    ],
  ];
  for (const [where, json] of places) {
    test.each(KEYS)(`"%s" inside ${where}: 400 invalid_body, nothing written`, async (key) => {
      const t = newT();
      const res = await call(t, SYNC_APPLY_PATH, withKey(json, key));
      expect(res.status).toBe(400);
      expect(res.json.error).toBe("invalid_body");
      expect(res.json.message).toContain(key);
      const all = await tables(t);
      expect(all.users).toEqual([]);
      expect(all.tombstones).toEqual([]);
    });
  }
});
