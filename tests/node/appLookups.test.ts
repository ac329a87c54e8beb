/**
 * The doctor's search of the app's Convex code for lookups by identity.tokenIdentifier: fixture
 * files in a temporary folder, each shape found at its line, correct and unrelated code left alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  appLookupsCheck,
  appSourceFiles,
  findAppLookups,
  LOOKUP_FIX,
} from "../../scripts/lib/doctor/appLookups";

const root = mkdtempSync(join(tmpdir(), "app-lookups-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh Convex folder holding `files` (path -> source). */
function app(files: Record<string, string>): string {
  const dir = join(root, `convex${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  return dir;
}

/** `file:line` of every finding, relative to `dir`. */
function found(dir: string): string[] {
  return findAppLookups(dir).lookups.map((l) => `${l.file.slice(dir.length + 1)}:${l.line}`);
}

const HEADER = `import { query, type QueryCtx } from "./_generated/server";\n`;
/** The Convex docs' lookup (line 9 of the file, `q.eq` at column 37). */
const DOCS_LOOKUP = `${HEADER}export const me = query({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) return null;
    return await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
  },
});
`;

describe("lookups by identity.tokenIdentifier are found", () => {
  test("the Convex docs' withIndex lookup, at its line and column, with its text", () => {
    const dir = app({ "me.ts": DOCS_LOOKUP });
    expect(findAppLookups(dir)).toEqual({
      files: 1,
      lookups: [
        {
          file: join(dir, "me.ts"),
          line: 9,
          column: 37,
          text: 'q.eq("tokenIdentifier", identity.tokenIdentifier)',
        },
      ],
    });
  });

  test("filter with q.field, a variable holding it, destructuring, ?? defaults, ! and as", () => {
    const dir = app({
      "shapes.ts": `${HEADER}
export async function a(ctx: QueryCtx) {
  const identity = await ctx.auth.getUserIdentity();
  return ctx.db.query("users").filter((q) => q.eq(q.field("tokenIdentifier"), identity!.tokenIdentifier)).first();
}
export async function b(ctx: QueryCtx) {
  const identity = (await ctx.auth.getUserIdentity())!;
  const token = identity.tokenIdentifier;
  return ctx.db.query("users").withIndex("by_token", (q) => q.eq("tokenIdentifier", token)).unique();
}
export async function c(ctx: QueryCtx) {
  const { tokenIdentifier } = (await ctx.auth.getUserIdentity())!;
  return ctx.db.query("users").withIndex("by_token", (q) => q.eq("tokenIdentifier", tokenIdentifier)).unique();
}
export async function d(ctx: QueryCtx) {
  const identity = await ctx.auth.getUserIdentity();
  const tid = identity?.tokenIdentifier ?? "";
  return ctx.db
    .query("users")
    .withIndex("by_token", (q) =>
      q.eq("tokenIdentifier", tid),
    )
    .unique();
}
export async function e(ctx: QueryCtx) {
  const { tokenIdentifier: tid } = (await ctx.auth.getUserIdentity()) as { tokenIdentifier: string };
  return ctx.db.query("messages").filter((q) => q.eq(tid, q.field("authorToken"))).collect();
}
`,
    });
    expect(found(dir)).toEqual([
      "shapes.ts:5",
      "shapes.ts:10",
      "shapes.ts:14",
      "shapes.ts:22",
      "shapes.ts:28",
    ]);
  });

  test("inline await in a helper call, a UserIdentity parameter, a JS comparison, a .tsx in a subfolder", () => {
    const dir = app({
      "lib/find.tsx": `import type { UserIdentity } from "convex/server";
import { getOneFrom } from "convex-helpers/server/relationships";
import type { QueryCtx } from "../_generated/server";

export async function byHelper(ctx: QueryCtx) {
  return getOneFrom(ctx.db, "users", "by_token", (await ctx.auth.getUserIdentity())!.tokenIdentifier, "tokenIdentifier");
}
export async function byParameter(ctx: QueryCtx, identity: UserIdentity | null) {
  const all = await ctx.db.query("users").collect();
  return all.find((u) => u.tokenIdentifier === identity?.tokenIdentifier);
}
`,
    });
    expect(found(dir)).toEqual(["lib/find.tsx:6", "lib/find.tsx:10"]);
  });
});

describe("left alone", () => {
  test("getCurrentUser, storing or printing the identifier, args, other objects, comments", () => {
    const dir = app({
      "good.ts": `${HEADER}import { getCurrentUser, getCurrentUserOrThrow } from "./auth0";
// The docs' way, which misses custom domains:
//   q.eq("tokenIdentifier", identity.tokenIdentifier)
export const me = query({ args: {}, handler: (ctx) => getCurrentUser(ctx) });
export async function mine(ctx: QueryCtx) {
  const user = await getCurrentUserOrThrow(ctx);
  return ctx.db.query("messages").withIndex("by_author", (q) => q.eq("author", user._id)).collect();
}
export async function unrelated(ctx: QueryCtx, args: { tokenIdentifier: string }) {
  const identity = await ctx.auth.getUserIdentity();
  console.log("signed in as", identity?.tokenIdentifier);
  const label = \`token: \${identity?.tokenIdentifier}\`;
  await ctx.db.query("users").withIndex("by_token", (q) => q.eq("tokenIdentifier", args.tokenIdentifier)).unique();
  const rows = await ctx.db.query("users").collect();
  const twins = rows.filter((r) => r.tokenIdentifier === args.tokenIdentifier);
  return { label, twins, tokenIdentifier: identity?.tokenIdentifier };
}
export async function shadowed(ctx: QueryCtx) {
  const identity = { tokenIdentifier: "fixed" };
  return ctx.db.query("users").withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier)).unique();
}
export function compare(a: { tokenIdentifier: string }, identity: { tokenIdentifier: string }) {
  return a.tokenIdentifier === identity.tokenIdentifier;
}
`,
    });
    expect(found(dir)).toEqual([]);
  });

  test("_generated, tests, declaration files and other files are not scanned", () => {
    const dir = app({
      "users.ts": DOCS_LOOKUP,
      "_generated/server.ts": DOCS_LOOKUP,
      "lib/_generated/x.ts": DOCS_LOOKUP,
      "me.test.ts": DOCS_LOOKUP,
      "types.d.ts": DOCS_LOOKUP,
      "notes.md": DOCS_LOOKUP,
      "app/users.ts": DOCS_LOOKUP,
    });
    expect(appSourceFiles(dir)).toEqual(["app/users.ts", "users.ts"]);
    expect(found(dir)).toEqual(["app/users.ts:9", "users.ts:9"]);
  });

  test("this repository's own convex/ (an app as init writes it) has no such lookup", () => {
    const convex = join(import.meta.dirname, "../../convex");
    // auth.config.ts has two dots: Convex does not push it as a function module.
    expect(appSourceFiles(convex)).toEqual(["auth0.ts", "crons.ts", "http.ts", "schema.ts"]);
    expect(found(convex)).toEqual([]);
  });
});

describe("the doctor's check", () => {
  test("warns with file:line:col and the fix; passes on correct code; skips without a folder", () => {
    const bad = app({ "me.ts": DOCS_LOOKUP });
    const warn = appLookupsCheck(bad);
    expect(warn.status).toBe("warn");
    expect(warn.detail).toContain(LOOKUP_FIX);
    expect(warn.detail).toContain("getCurrentUser(ctx)");
    expect(warn.places).toHaveLength(1);
    expect(warn.places![0]).toMatch(
      /me\.ts:9:37 {2}q\.eq\("tokenIdentifier", identity\.tokenIdentifier\)$/,
    );

    const good = app({ "me.ts": `${HEADER}export const x = 1;\n` });
    expect(appLookupsCheck(good)).toMatchObject({ status: "pass" });
    expect(appLookupsCheck(join(root, "absent"))).toMatchObject({ status: "skip" });
  });
});
