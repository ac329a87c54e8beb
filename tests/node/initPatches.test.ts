/**
 * init's patchers on source text: what an app's existing users table becomes (fields and indexes
 * kept, taken over or refused), each anchor missing or ambiguous leading to "by hand" with the
 * lines, imports merged, the .env.local.example appendix, and the module's names as init knows
 * them held to the schema this repository deploys.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import schema from "../../convex/schema";
import { ROOT } from "../../scripts/lib/childProcess";
import { checkAuth0File, newAuth0File } from "../../scripts/lib/init/auth0File";
import { patchAuthConfig } from "../../scripts/lib/init/authConfigPatch";
import { definedNames, envAppendix, ENV_HEADER } from "../../scripts/lib/init/envExample";
import {
  MODULE_TABLES,
  MODULE_USER_FIELDS,
  MODULE_USER_INDEXES,
} from "../../scripts/lib/init/moduleNames";
import { CRONS, HTTP, patchRouter } from "../../scripts/lib/init/routerPatch";
import { patchSchema } from "../../scripts/lib/init/schemaPatch";
import type { PatchResult } from "../../scripts/lib/init/sourceEdits";

const S = "convex-auth0-users/server";
const F = "convex-auth0-users/functions";

function edited(r: PatchResult): string {
  if (r.kind !== "edit") throw new Error(`expected an edit, got ${JSON.stringify(r)}`);
  return r.after;
}
function byHand(r: PatchResult): { reason: string; lines: string[] } {
  if (r.kind !== "by-hand") throw new Error(`expected by-hand, got ${JSON.stringify(r)}`);
  return r;
}

const schemaWith = (
  users: string,
  rest = "",
) => `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  users: ${users},${rest}
});
`;

describe("schema.ts", () => {
  test("an app's users table keeps its own fields, comments and indexes; clashing indexes go", () => {
    const source = schemaWith(`defineTable({
    name: v.string(),
    // Billing plan, set by the app.
    plan: v.union(v.literal("free"), v.literal("pro")),
    tokenIdentifier: v.string(),
    teamId: v.optional(v.id("teams")),
  })
    .index("by_token", ["tokenIdentifier"])
    // Team pages list members.
    .index("by_team", ["teamId"])
    .index("by_tok", ["tokenIdentifier"])
    .searchIndex("search_name", { searchField: "name" })`);
    const result = patchSchema("convex/schema.ts", source, S);
    expect(edited(result))
      .toBe(`import { auth0Tables, auth0UsersTable } from "convex-auth0-users/server";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  ...auth0Tables,
  users: auth0UsersTable(
    {
      // Billing plan, set by the app.
      plan: v.union(v.literal("free"), v.literal("pro")),
      teamId: v.optional(v.id("teams")),
    },
    { adopting: true },
  )
    // Team pages list members.
    .index("by_team", ["teamId"])
    .searchIndex("search_name", { searchField: "name" }),
});
`);
    expect(result.notes).toContain(
      "users.name: now the module's, `v.optional(v.string())` (was `v.string()`: it becomes optional)",
    );
    expect(result.notes).toContain(
      'users index by_tok: dropped, the module\'s by_token is on the same fields: use withIndex("by_token", …) where your code used "by_tok"',
    );
    // Run again on its own output: done.
    expect(patchSchema("convex/schema.ts", edited(result), S).kind).toBe("done");
  });

  test("imports the rewrite leaves unused are named", () => {
    const source = schemaWith(`defineTable({ name: v.string(), tokenIdentifier: v.string() })`);
    const result = patchSchema("convex/schema.ts", source, S);
    expect(edited(result)).toContain("  users: auth0UsersTable({}, { adopting: true }),\n");
    expect(result.notes).toContain(
      "schema.ts no longer uses `defineTable`: remove it from its import if your linter asks",
    );
    expect(result.notes).toContain(
      "schema.ts no longer uses `v`: remove it from its import if your linter asks",
    );
  });

  test("the module's tables spread after the app's users: nothing to edit, but said", () => {
    const source = `import { defineSchema } from "convex/server";
import { auth0Tables, auth0UsersTable } from "convex-auth0-users/server";
export default defineSchema({ users: auth0UsersTable({}, { adopting: true }), ...auth0Tables });
`;
    const result = patchSchema("convex/schema.ts", source, S);
    expect(result.kind).toBe("done");
    expect(result.notes[0]).toContain("the module's users replaces yours: move it first");
  });

  test("every comment of the app's users table is kept: on fields, a field commented out, on indexes", () => {
    const source = schemaWith(`defineTable({
    // 1 shown in the profile
    name: v.string(),
    tokenIdentifier: v.string(), // 2 from Convex auth
    plan: v.string(), // 3 billing plan
    /* 4 age: v.optional(v.number()),
       until the form asks for it */
  })
    // 5 lookup by identity
    .index("by_token", ["tokenIdentifier"])
    // 6 plan pages
    .index("by_plan", ["plan"]) /* 7 end */`);
    expect(edited(patchSchema("convex/schema.ts", source, S)))
      .toBe(`import { auth0Tables, auth0UsersTable } from "convex-auth0-users/server";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  ...auth0Tables,
  users: auth0UsersTable(
    {
      // 1 shown in the profile
      // name: now the module's field (yours was \`v.string()\`)
      // tokenIdentifier: now the module's field (yours was \`v.string()\`)
      // 2 from Convex auth
      plan: v.string(), // 3 billing plan
      /* 4 age: v.optional(v.number()),
         until the form asks for it */
    },
    { adopting: true },
  )
    // 5 lookup by identity
    // index by_token: now the module's (the same fields)
    // 6 plan pages
    .index("by_plan", ["plan"]) /* 7 end */,
});
`);
  });

  test.each([
    [
      "its own deletedAt (a soft delete)",
      schemaWith(`defineTable({ tokenIdentifier: v.string(), deletedAt: v.optional(v.number()) })`),
      "users.deletedAt (line 5, `v.optional(v.number())`) is your own field, but the module's users table has a deletedAt (`v.optional(v.number())`) that marks a user deleted in Auth0",
    ],
    [
      "a field of the module's name typed otherwise",
      schemaWith(`defineTable({ tokenIdentifier: v.string(), email: v.number() })`),
      "users.email (line 5) is `v.number()`, the module's users.email is `v.optional(v.string())`",
    ],
  ])(
    "an app's users table with %s: init stops, naming both validators and what to do",
    (_n, source, reason) => {
      const result = patchSchema("convex/schema.ts", source, S);
      if (result.kind !== "refused")
        throw new Error(`expected refused, got ${JSON.stringify(result)}`);
      expect(result.problems.join("\n")).toContain(reason);
      expect(result.problems.join("\n")).toContain("rename your field");
    },
  );

  const appTables = `const appTables = {
  users: defineTable({ name: v.string() }),
  teams: defineTable({ name: v.string() }),
};
`;
  test.each([
    [
      "an app spread after the module's tables",
      `import { auth0Tables } from "convex-auth0-users/server";\n${appTables}\nexport default defineSchema({\n  ...auth0Tables,\n  ...appTables,\n});\n`,
      "the module's users table is shadowed: line 11 `...appTables,` defines users after line 10 `...auth0Tables,`",
    ],
    [
      "an app spread where init would put the module's tables first",
      `${appTables}\nexport default defineSchema({\n  ...appTables,\n});\n`,
      "line 9 `...appTables,` defines users after `...auth0Tables,` (init puts it first in defineSchema({, line 8)",
    ],
    [
      "an app spread before the module's tables",
      `import { auth0Tables } from "convex-auth0-users/server";\n${appTables}\nexport default defineSchema({\n  ...appTables,\n  ...auth0Tables,\n});\n`,
      "line 10 `...appTables,` defines users before line 11 `...auth0Tables,`: the module's table replaces yours there",
    ],
    [
      "an app users table after the module's tables that init cannot rewrite",
      `import { auth0Tables } from "convex-auth0-users/server";\nexport default defineSchema({\n  ...auth0Tables,\n  users: defineTable({ name: v.string() }),\n});\n`,
      "the module's users table is shadowed: line 6 `users: defineTable({ name: v.string() }),` defines users after line 5 `...auth0Tables,`",
    ],
  ])("%s: init stops, naming the lines", (_n, body, problem) => {
    const source = `import { defineSchema, defineTable } from "convex/server";\nimport { v } from "convex/values";\n${body}`;
    const result = patchSchema("convex/schema.ts", source, S);
    if (result.kind !== "refused")
      throw new Error(`expected refused, got ${JSON.stringify(result)}`);
    expect(result.problems.join("\n")).toContain(problem);
  });

  test("a spread init cannot see into: by hand, with the lines, never edited", () => {
    const source = `import { defineSchema } from "convex/server";
import { appTables } from "./tables";
export default defineSchema({ ...appTables });
`;
    const hand = byHand(patchSchema("convex/schema.ts", source, S));
    expect(hand.reason).toContain("init cannot tell which tables `...appTables` (line 3) holds");
    // Told by the checker (scripts/lib/init/spreadTables.ts): no users there, edited as usual.
    const told = patchSchema("convex/schema.ts", source, S, () => ["messages"]);
    expect(edited(told)).toContain("defineSchema({ ...auth0Tables, ...appTables })");
  });

  test("short app fields stay on one line", () => {
    const source = schemaWith(
      `defineTable({ tokenIdentifier: v.string(), plan: v.string() }).index("by_plan", ["plan"])`,
    );
    expect(edited(patchSchema("convex/schema.ts", source, S))).toContain(
      `  users: auth0UsersTable({ plan: v.string() }, { adopting: true })\n    .index("by_plan", ["plan"]),\n`,
    );
  });

  test.each([
    [
      "rows without tokenIdentifier",
      schemaWith(`defineTable({ name: v.string() })`),
      "users has no tokenIdentifier field",
    ],
    [
      "fields spread from elsewhere",
      schemaWith(`defineTable({ ...userFields, plan: v.string() })`),
      "is not `name: validator`",
    ],
    [
      "a module index name on other fields",
      schemaWith(
        `defineTable({ tokenIdentifier: v.string() }).index("by_email", ["tokenIdentifier", "name"])`,
      ),
      "users' index by_email is on [tokenIdentifier, name]",
    ],
    [
      "an app table named like a module table",
      schemaWith(
        `defineTable({ tokenIdentifier: v.string() })`,
        "\n  auth0Memberships: defineTable({ name: v.string() }),",
      ),
      "your table auth0Memberships has the name of one of the module's tables",
    ],
    [
      "two defineSchema calls",
      `import { defineSchema } from "convex/server";\nconst a = defineSchema({});\nexport default defineSchema({});\n`,
      "defineSchema is called 2 times",
    ],
    [
      "a schema that is a variable",
      `import { defineSchema } from "convex/server";\nconst s = defineSchema({});\nexport default s;\n`,
      "the schema is not `export default defineSchema({ … })`",
    ],
  ])("%s: by hand, with the lines", (_name, source, reason) => {
    const hand = byHand(patchSchema("convex/schema.ts", source, S));
    expect(hand.reason).toContain(reason);
    expect(hand.lines.join("\n")).toContain("...auth0Tables,");
  });

  test("an existing import from the package is extended; a one-line schema stays one line", () => {
    const source = `import { defineSchema, defineTable } from "convex/server";
import { getCurrentUser } from "convex-auth0-users/server";
export default defineSchema({ things: defineTable({}) });
`;
    expect(edited(patchSchema("convex/schema.ts", source, S)))
      .toBe(`import { defineSchema, defineTable } from "convex/server";
import { getCurrentUser, auth0Tables } from "convex-auth0-users/server";
export default defineSchema({ ...auth0Tables, things: defineTable({}) });
`);
  });
});

describe("init writes as the app writes", () => {
  test("a router file in tabs, single quotes and no semicolons gets its import and call so", () => {
    const source = `import { httpRouter } from 'convex/server'\nimport { httpAction } from './_generated/server'\n\nconst http = httpRouter()\n\nif (true) {\n\thttp.route({ path: '/x', method: 'GET', handler: httpAction(async () => new Response('x')) })\n}\n\nexport default http\n`;
    expect(edited(patchRouter("convex/http.ts", source, HTTP, S))).toBe(
      `import { httpRouter } from 'convex/server'\nimport { httpAction } from './_generated/server'\nimport { registerRoutes } from 'convex-auth0-users/server'\n\nconst http = httpRouter()\nregisterRoutes(http)\n\nif (true) {\n\thttp.route({ path: '/x', method: 'GET', handler: httpAction(async () => new Response('x')) })\n}\n\nexport default http\n`,
    );
  });

  test("sorted imports get the import at its sorted place; unsorted ones after the last", () => {
    const sorted = `import { cronJobs } from "convex/server";\nimport { internal } from "./_generated/api";\nimport { z } from "zod";\n\nconst crons = cronJobs();\nexport default crons;\n`;
    // "./_generated/api" < "convex/server" is not sorted: after the last import.
    expect(edited(patchRouter("convex/crons.ts", sorted, CRONS, S))).toContain(
      `import { z } from "zod";\nimport { registerCrons } from "convex-auth0-users/server";\n`,
    );
    const abc = `import { a } from "@app/a";\nimport { cronJobs } from "convex/server";\nimport { z } from "zod";\n\nconst crons = cronJobs();\nexport default crons;\n`;
    expect(edited(patchRouter("convex/crons.ts", abc, CRONS, S))).toBe(
      `import { a } from "@app/a";\nimport { registerCrons } from "convex-auth0-users/server";\nimport { cronJobs } from "convex/server";\nimport { z } from "zod";\n\nconst crons = cronJobs();\nregisterCrons(crons);\nexport default crons;\n`,
    );
  });

  test("a schema indented with 4 spaces or tabs keeps its step in what init adds and rewrites", () => {
    const four = `import { defineSchema } from "convex/server";\n\nexport default defineSchema({});\n\nfunction f() {\n    return 1;\n}\n`;
    expect(edited(patchSchema("convex/schema.ts", four, S))).toContain(
      "export default defineSchema({\n    ...auth0Tables,\n});",
    );
    const tabs = `import { defineSchema, defineTable } from "convex/server";\nimport { v } from "convex/values";\n\nexport default defineSchema({\n\tusers: defineTable({\n\t\t// the handle shown in the app\n\t\thandle: v.string(),\n\t\ttokenIdentifier: v.string(),\n\t}).index("by_token", ["tokenIdentifier"]),\n});\n`;
    expect(edited(patchSchema("convex/schema.ts", tabs, S))).toContain(
      `\tusers: auth0UsersTable(\n\t\t{\n\t\t\t// the handle shown in the app\n\t\t\thandle: v.string(),\n\t\t},\n\t\t{ adopting: true },\n\t),\n`,
    );
  });

  test("an auth0.ts in single quotes gets userDeletion in single quotes", () => {
    const own = newAuth0File(S, F).replace(/"/g, "'");
    const r = checkAuth0File("convex/auth0.ts", own, S, F, [{ table: "messages", path: "author" }]);
    expect(edited(r)).toContain("\n  userDeletion: 'anonymize',\n  // Runs inside");
  });
});

describe("http.ts and crons.ts", () => {
  test("two routers, or none made at the top level: by hand", () => {
    const two = `import { httpRouter } from "convex/server";\nconst http = httpRouter();\nconst other = httpRouter();\nexport default http;\n`;
    expect(byHand(patchRouter("convex/http.ts", two, HTTP, S)).reason).toContain(
      "httpRouter() is called 2 times",
    );
    const inner = `import { cronJobs } from "convex/server";\nfunction make() {\n  const crons = cronJobs();\n  return crons;\n}\nexport default make();\n`;
    const hand = byHand(patchRouter("convex/crons.ts", inner, CRONS, S));
    expect(hand.lines).toEqual([
      `import { registerCrons } from "convex-auth0-users/server";`,
      "registerCrons(crons);  // right after `const crons = cronJobs();`",
    ]);
  });

  test("a registerRoutes of another package: by hand, never a second import of the name", () => {
    const source = `import { httpRouter } from "convex/server";\nimport { registerRoutes } from "@acme/convex-component";\nconst http = httpRouter();\nregisterRoutes(http);\nexport default http;\n`;
    expect(byHand(patchRouter("convex/http.ts", source, HTTP, S)).reason).toContain(
      "`registerRoutes` already names something else in this file",
    );
  });

  test("the router's own name is used; an existing call only gets its import", () => {
    const source = `import { httpRouter } from "convex/server";\nconst router = httpRouter();\nexport default router;\n`;
    expect(edited(patchRouter("convex/http.ts", source, HTTP, S))).toBe(
      `import { httpRouter } from "convex/server";\nimport { registerRoutes } from "convex-auth0-users/server";\nconst router = httpRouter();\nregisterRoutes(router);\nexport default router;\n`,
    );
    const called = `import { httpRouter } from "convex/server";\nconst http = httpRouter();\nregisterRoutes(http);\nexport default http;\n`;
    expect(edited(patchRouter("convex/http.ts", called, HTTP, S))).toBe(
      `import { httpRouter } from "convex/server";\nimport { registerRoutes } from "convex-auth0-users/server";\nconst http = httpRouter();\nregisterRoutes(http);\nexport default http;\n`,
    );
  });
});

describe("auth.config.ts", () => {
  test("an app's own provider of the module's variables is replaced; another that looks like Auth0's is named, to be removed; a one-line array stays one line", () => {
    const source = `export default {\n  providers: [{ domain: process.env.AUTH0_DOMAIN, applicationID: process.env.AUTH0_CLIENT_ID }],\n};\n`;
    const result = patchAuthConfig("convex/auth.config.ts", source, S);
    expect(edited(result)).toBe(
      `import { auth0Providers } from "convex-auth0-users/server";\n\nexport default {\n  providers: [...auth0Providers()],\n};\n`,
    );
    expect(result.notes[0]).toContain(
      "the provider at convex/auth.config.ts:2 (`process.env.AUTH0_DOMAIN`) is the tenant auth0Providers() names",
    );
    const other = `export default {\n  providers: [{ domain: process.env.AUTH0_ISSUER_BASE_URL, applicationID: "convex" }],\n};\n`;
    const named = patchAuthConfig("convex/auth.config.ts", other, S);
    expect(edited(named)).toContain(
      "providers: [...auth0Providers(), { domain: process.env.AUTH0_ISSUER_BASE_URL",
    );
    expect(named.notes[0]).toContain("convex/auth.config.ts:2 looks like Auth0's");
    const literal = `export default { providers: [{ domain: "https://acme.eu.auth0.com/", applicationID: "x" }] };\n`;
    expect(patchAuthConfig("convex/auth.config.ts", literal, S).notes[0]).toContain(
      "convex/auth.config.ts:1 looks like Auth0's",
    );
    expect(patchAuthConfig("convex/auth.config.ts", edited(result), S).kind).toBe("done");
  });

  test("computed domains of the tenant (a const, a template string) are replaced, in the file's tabs, quotes and no semicolons", () => {
    const source = `const domain = process.env.AUTH0_DOMAIN
const clientId = process.env.AUTH0_CLIENT_ID

export default {
\tproviders: [
\t\t{ domain, applicationID: clientId },
\t\t{
\t\t\tdomain: \`https://\${process.env.AUTH0_CUSTOM_DOMAIN}/\`,
\t\t\tapplicationID: process.env.AUTH0_CLIENT_ID,
\t\t},
\t\t{ domain: 'https://clerk.example.com', applicationID: 'convex' },
\t],
}
`;
    const result = patchAuthConfig("convex/auth.config.ts", source, S);
    expect(edited(result)).toBe(`import { auth0Providers } from 'convex-auth0-users/server'

const domain = process.env.AUTH0_DOMAIN
const clientId = process.env.AUTH0_CLIENT_ID

export default {
\tproviders: [
\t\t...auth0Providers(),
\t\t{ domain: 'https://clerk.example.com', applicationID: 'convex' },
\t],
}
`);
    expect(result.notes.map((n) => n.slice(0, 45))).toEqual([
      "the provider at convex/auth.config.ts:6 (`dom",
      "the provider at convex/auth.config.ts:7 (``ht",
    ]);
    expect(patchAuthConfig("convex/auth.config.ts", edited(result), S).kind).toBe("done");
  });

  test("providers that are not an array literal: by hand", () => {
    const source = `const providers = [];\nexport default { providers: providers };\n`;
    expect(byHand(patchAuthConfig("convex/auth.config.ts", source, S)).lines).toEqual([
      `import { auth0Providers } from "convex-auth0-users/server";`,
      "...auth0Providers(),  // first in `providers: [`",
    ]);
  });
});

describe("auth0.ts", () => {
  test("an app's own auth0.ts is left alone with the whole file to merge; the module's is done", () => {
    const hand = byHand(checkAuth0File("convex/auth0.ts", "export const x = 1;\n", S, F));
    expect(hand.lines.join("\n")).toBe(newAuth0File(S, F).trimEnd());
    expect(checkAuth0File("convex/auth0.ts", newAuth0File(S, F), S, F).kind).toBe("done");
  });
});

describe(".env.local.example", () => {
  const template = readFileSync(join(ROOT, ".env.local.example"), "utf8");

  test("only the missing names are appended, under the header, with their comments", () => {
    const existing = "VITE_CONVEX_URL=https://x.convex.cloud\nAUTH0_DOMAIN=tenant.us.auth0.com";
    const more = envAppendix(template, existing);
    expect(more.startsWith(`\n\n${ENV_HEADER}\n`)).toBe(true);
    expect(more).not.toMatch(/^AUTH0_DOMAIN=/m);
    expect(more).not.toMatch(/^VITE_CONVEX_URL=/m);
    expect(more).toContain(
      "# Your web app's Client ID (same page): the audience of the ID tokens Convex verifies.\nAUTH0_CLIENT_ID=\n",
    );
    const all = existing + more;
    expect([...definedNames(all)].sort()).toEqual([...definedNames(template)].sort());
    expect(envAppendix(template, all)).toBe("");
  });

  test("what an app gets names the bin's commands, not this repository's npm scripts", () => {
    expect(template).toContain("npm run deploy:auth0");
    const appended = envAppendix(template, "");
    expect(appended).not.toContain("npm run");
    expect(appended).toContain(
      "# ── Post-Login Action secrets (written into the Action by npx convex-auth0-users deploy-auth0) ───\n",
    );
    expect(appended).toContain("# ── Deploying (npx convex-auth0-users deploy, deploy-auth0) ──");
    expect(appended).toContain(
      "# ── Reconcile (npx convex-auth0-users check-sync, sync, cron-sync, backup-users) ──",
    );
    // Each header keeps the template's width.
    const width = (t: string) =>
      t.split("\n").filter((l) => l.startsWith("# ── Deploying"))[0].length;
    expect(width(appended)).toBe(width(template));
  });
});

describe("init's knowledge of the module", () => {
  const tables = (schema as unknown as { tables: Record<string, unknown> }).tables;
  const users = tables.users as {
    validator: { fields: Record<string, { kind: string; isOptional: string }> };
    export(): { indexes: { indexDescriptor: string; fields: string[] }[] };
  };

  test("the module's tables, users fields and indexes are the deployed schema's", () => {
    expect([...MODULE_TABLES].sort()).toEqual(Object.keys(tables).sort());
    expect(Object.keys(MODULE_USER_FIELDS).sort()).toEqual(
      Object.keys(users.validator.fields).sort(),
    );
    expect(
      Object.fromEntries(users.export().indexes.map((i) => [i.indexDescriptor, i.fields])),
    ).toEqual(MODULE_USER_INDEXES);
  });

  test("each users field has the schema's type; optional as the schema has it, or while adopting", () => {
    const adoptionOptional = ["auth0UserId", "createdAt", "updatedAt"];
    for (const [name, text] of Object.entries(MODULE_USER_FIELDS)) {
      const field = users.validator.fields[name];
      // v.number() builds a float64 validator.
      expect(text, name).toContain(`v.${field.kind === "float64" ? "number" : field.kind}()`);
      const optional = text.startsWith("v.optional(");
      expect(optional, name).toBe(
        field.isOptional === "optional" || adoptionOptional.includes(name),
      );
    }
  });
});
