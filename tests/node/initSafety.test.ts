/**
 * `init` changes exactly the bytes it means to, or nothing: a file that is not UTF-8, read-only
 * or hard-linked, a folder linked outside the app, and a schema where the module's users table
 * would be shadowed all stop it before anything is written (exit 2, naming the file and why);
 * a byte order mark and Windows line ends come back as they were, and the printed diff is
 * exactly the change written.
 */
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { join } from "node:path";
import { applyPatch } from "diff";
import { describe, expect, test } from "vitest";
import { ROOT } from "../../scripts/lib/childProcess";
import { applyPlan } from "../../scripts/lib/init/apply";
import { PACKAGE_SPECIFIERS, planInit } from "../../scripts/lib/init/plan";
import { fileDiff } from "../../scripts/lib/init/report";
import { firstInvalidUtf8 } from "../../scripts/lib/init/targetFile";
import { appFolders, snapshot } from "./helpers/initApps";

const { work, app, init } = appFolders("init-safety-");

const plan = (dir: string) =>
  planInit({ root: dir, convexDir: join(dir, "convex"), ...PACKAGE_SPECIFIERS, packageRoot: ROOT });

const HTTP = `import { httpRouter } from "convex/server";

const http = httpRouter();

export default http;
`;
const SCHEMA = `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  messages: defineTable({ body: v.string() }),
});
`;

describe("init refuses, and writes nothing", () => {
  test("a file that is not UTF-8 (Latin-1 é in a comment and a literal): named with its first bad byte, exit 2", async () => {
    const latin1 = Buffer.concat([
      Buffer.from(`import { defineSchema, defineTable } from "convex/server";\n// caf`),
      Buffer.from([0xe9]),
      Buffer.from(
        ` menu\nexport default defineSchema({\n  drinks: defineTable({ kind: v.literal("caf`,
      ),
      Buffer.from([0xe9]),
      Buffer.from(`") }),\n});\n`),
    ]);
    const dir = app({ "convex/schema.ts": latin1, "convex/http.ts": HTTP });
    const before = snapshot(dir, true);
    const run = await init(dir, "--yes");
    expect(run.code, run.output).toBe(2);
    expect(run.stderr).toContain(
      "init: convex/schema.ts is not UTF-8 (byte 0xe9 at offset 65; Latin-1 or Windows-1252 text?)",
    );
    expect(run.stderr).toContain("nothing was written");
    expect(snapshot(dir, true)).toEqual(before);
  });

  test("the first byte that is not UTF-8, whatever the way it breaks", () => {
    const at = (...bytes: number[]) => firstInvalidUtf8(Uint8Array.from(bytes));
    expect(at(0x61, 0xc3, 0xa9, 0xef, 0xbb, 0xbf, 0xf0, 0x9f, 0x98, 0x80)).toBe(-1);
    expect(at(0x61, 0xe9, 0x62)).toBe(1); // Latin-1 é
    expect(at(0x61, 0xc0, 0xaf)).toBe(1); // overlong "/"
    expect(at(0xed, 0xa0, 0x80)).toBe(0); // a UTF-16 surrogate
    expect(at(0x61, 0xe2, 0x82)).toBe(1); // cut short at the end
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0); // past U+10FFFF
  });

  test("a read-only schema.ts (0444): named; and one made read-only after the plan is not written", () => {
    const dir = app({ "convex/schema.ts": SCHEMA, "convex/http.ts": HTTP });
    chmodSync(join(dir, "convex/schema.ts"), 0o444);
    expect(plan(dir).problems).toEqual([
      "convex/schema.ts is read-only (mode 0444): init does not change read-only files; make it writable (chmod u+w) if it should change; nothing was written",
    ]);
    chmodSync(join(dir, "convex/schema.ts"), 0o644);
    const p = plan(dir);
    expect(p.problems).toEqual([]);
    chmodSync(join(dir, "convex/schema.ts"), 0o444);
    const result = applyPlan(p.files);
    expect(result.skipped.map((s) => s.shown)).toEqual(["convex/schema.ts"]);
    expect(readFileSync(join(dir, "convex/schema.ts"), "utf8")).toBe(SCHEMA);
    expect(statSync(join(dir, "convex/schema.ts")).mode & 0o777).toBe(0o444);
  });

  test("a hard-linked http.ts: named; both names stay the same file", () => {
    const dir = app({ "convex/http.ts": HTTP });
    linkSync(join(dir, "convex/http.ts"), join(dir, "http-copy.ts"));
    const p = plan(dir);
    expect(p.problems).toEqual([
      "convex/http.ts has 2 hard links: init replaces a file with a new one, which would cut the other links off; make it a file of its own (cp it, then mv the copy over it) or add the lines yourself; nothing was written",
    ]);
    expect(statSync(join(dir, "http-copy.ts")).ino).toBe(statSync(join(dir, "convex/http.ts")).ino);
  });

  test("auth0-actions/ linked to a folder outside the app: named, nothing written there or here; a link made after the plan is refused too", () => {
    const outside = join(work, "outside-folder");
    mkdirSync(outside);
    const dir = app({ "convex/http.ts": HTTP });
    symlinkSync(outside, join(dir, "auth0-actions"));
    expect(plan(dir).problems).toEqual([
      `auth0-actions/tenant.yaml leads outside the app (to ${join(outside, "tenant.yaml")}) through a symbolic link: init writes only inside ${dir}; nothing was written`,
    ]);
    expect(readdirSync(outside)).toEqual([]);

    const later = app({ "convex/http.ts": HTTP });
    const p = plan(later);
    expect(p.problems).toEqual([]);
    symlinkSync(outside, join(later, "auth0-actions"));
    const result = applyPlan(p.files);
    expect(result.skipped.map((s) => s.shown)).toEqual(["auth0-actions/tenant.yaml"]);
    expect(readdirSync(outside)).toEqual([]);
  });

  test("a spread from another file that defines users after the module's tables: exit 2, naming the lines", async () => {
    const dir = app({
      "convex/tables.ts": `import { defineTable } from "convex/server";
import { v } from "convex/values";

export const appTables = {
  users: defineTable({ name: v.string(), tokenIdentifier: v.string() }),
};
`,
      "convex/schema.ts": `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { auth0Tables } from "convex-auth0-users/server";
import { appTables } from "./tables";

export default defineSchema({
  ...auth0Tables,
  ...appTables,
  messages: defineTable({ body: v.string() }),
});
`,
    });
    const before = snapshot(dir, true);
    const run = await init(dir, "--yes");
    expect(run.code, run.output).toBe(2);
    expect(run.stderr).toContain(
      "init: convex/schema.ts: the module's users table is shadowed: line 8 `...appTables,` defines users after line 7 `...auth0Tables,`, and in defineSchema({ … }) the later one wins",
    );
    expect(snapshot(dir, true)).toEqual(before);
  });
});

describe("the bytes init does not mean to change", () => {
  test("a byte order mark and Windows line ends come back as they were; the diff printed is the change written", () => {
    const crlf = (t: string) => t.replace(/\n/g, "\r\n");
    const http = `\uFEFF${crlf(HTTP)}`;
    const dir = app({ "convex/http.ts": http, "convex/schema.ts": `\uFEFF${SCHEMA}` });
    const p = plan(dir);
    expect(p.problems).toEqual([]);
    const diffs = Object.fromEntries(p.files.map((f) => [f.shown, fileDiff(f)]));
    expect(applyPlan(p.files).skipped).toEqual([]);
    // What the same file gets with plain \n line ends and no mark, in the file's own form.
    const plain = app({ "convex/http.ts": HTTP });
    expect(applyPlan(plan(plain).files).skipped).toEqual([]);
    const after = readFileSync(join(dir, "convex/http.ts"));
    expect(after.toString("utf8")).toBe(
      `\uFEFF${crlf(readFileSync(join(plain, "convex/http.ts"), "utf8"))}`,
    );
    expect(after.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    for (const name of ["convex/http.ts", "convex/schema.ts"]) {
      const before = name === "convex/http.ts" ? http : `\uFEFF${SCHEMA}`;
      // The printed diff, applied to the file as it was, gives the bytes written: no changed
      // line shows as unchanged.
      expect(applyPatch(before, diffs[name]!)).toBe(readFileSync(join(dir, name), "utf8"));
    }
    expect(readFileSync(join(dir, "convex/schema.ts"), "utf8").startsWith("\uFEFFimport")).toBe(
      true,
    );
  });
});
