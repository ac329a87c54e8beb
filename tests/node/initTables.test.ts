/**
 * init and the app's own tables: an app with its own `organizations` and `memberships` (referenced
 * by `v.id("organizations")`) is wired without renaming anything, and a schema with several
 * clashes is refused with every one of them named in the same run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ROOT } from "../../scripts/lib/childProcess";
import { applyPlan } from "../../scripts/lib/init/apply";
import { PACKAGE_SPECIFIERS, planInit } from "../../scripts/lib/init/plan";
import { appFolders, snapshot } from "./helpers/initApps";

const { app, init } = appFolders("init-tables-");

const APP_TABLES = `  organizations: defineTable({ auth0OrgId: v.string(), name: v.string() }).index("by_auth0_org_id", [
    "auth0OrgId",
  ]),
  memberships: defineTable({
    organizationId: v.id("organizations"),
    userId: v.id("users"),
    role: v.string(),
  }).index("by_org", ["organizationId"]),
  projects: defineTable({ organizationId: v.id("organizations"), title: v.string() }),
`;

test("an app's own organizations and memberships: init wires it and renames nothing", async () => {
  const dir = app({
    "convex/schema.ts": `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
${APP_TABLES}  users: defineTable({ name: v.string(), tokenIdentifier: v.string() }).index("by_token", [
    "tokenIdentifier",
  ]),
});
`,
  });
  // What `init --yes` does, in process (the run below spawns the command once).
  const plan = planInit({
    root: dir,
    convexDir: join(dir, "convex"),
    ...PACKAGE_SPECIFIERS,
    packageRoot: ROOT,
  });
  expect(plan.problems).toEqual([]);
  const schemaFile = plan.files.find((f) => f.shown === "convex/schema.ts");
  expect(schemaFile?.kind).toBe("edit");
  expect(applyPlan(plan.files).skipped).toEqual([]);
  const schema = readFileSync(join(dir, "convex/schema.ts"), "utf8");
  expect(schema).toContain("  ...auth0Tables,\n");
  // The app's tables, byte for byte where they were.
  expect(schema).toContain(`\n${APP_TABLES}`);
  expect(plan.files.flatMap((f) => f.notes).join("\n")).not.toMatch(/rename|clash|shadowed/i);
});

test("every clash is named in one run: tables, a spread, users fields and an index; nothing written", async () => {
  const dir = app({
    "convex/schema.ts": `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { auth0Tables } from "convex-auth0-users/server";

const cacheTables = { auth0Organizations: defineTable({ name: v.string() }) };

export default defineSchema({
  auth0Events: defineTable({ kind: v.string() }),
  ...auth0Tables,
  ...cacheTables,
  auth0Memberships: defineTable({ role: v.string() }),
  users: defineTable({
    tokenIdentifier: v.string(),
    email: v.number(),
    deletedAt: v.optional(v.number()),
  }).index("by_email", ["tokenIdentifier", "deletedAt"]),
});
`,
  });
  const before = snapshot(dir, true);
  const run = await init(dir, "--yes");
  expect(run.code, run.output).toBe(2);
  const named = run.stderr.split("\n").filter((l) => l.startsWith("init: convex/schema.ts: "));
  const expected = [
    // a spread after the module's tables that holds one of them
    "the module's auth0Organizations table is shadowed: line 10 `...cacheTables,`",
    // an app table after them with a module table's name
    "the module's auth0Memberships table is shadowed: line 11 `auth0Memberships: defineTable({ role: v.string() }),`",
    // users fields of the module's names with another meaning
    "users.email (line 14) is `v.number()`, the module's users.email is `v.optional(v.string())`",
    "users.deletedAt (line 15, `v.optional(v.number())`) is your own field",
    // a module index name on other fields (the users table left after the module's)
    "users' index by_email is on [tokenIdentifier, deletedAt], the module's by_email is on [email]",
    // an app table before them with a module table's name
    "your table auth0Events has the name of one of the module's tables",
  ];
  for (const clash of expected) expect(named.join("\n"), clash).toContain(clash);
  expect(named).toHaveLength(expected.length);
  expect(snapshot(dir, true)).toEqual(before);
});
