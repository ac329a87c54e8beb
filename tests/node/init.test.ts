/**
 * `convex-auth0-users init` on real files in temporary app folders, run through the dispatcher as
 * a user runs it: the files an empty app gets, the exact edits to an app written as the Convex docs
 * teach, a dry run and a second run that write nothing, a schema it cannot edit left alone with
 * the lines printed, no terminal without --yes, and a file changed between the plan and the write.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { execFile } from "node:child_process";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import { CLI, ROOT, runScript, start, TSX } from "../../scripts/lib/childProcess";
import { applyPlan } from "../../scripts/lib/init/apply";
import { definedNames, envAppendix } from "../../scripts/lib/init/envExample";
import { PACKAGE_SPECIFIERS, planInit } from "../../scripts/lib/init/plan";
import { convexDevTsconfig, writeDeploymentCodegen } from "./helpers/deploymentCodegen";
import { appFolders, snapshot } from "./helpers/initApps";

const { work, app, init } = appFolders("init-");

const read = (dir: string, path: string) => readFileSync(join(dir, path), "utf8");
/** The module's public entries (`convex-auth0-users/server`, `/functions`) in this repository. */
const SERVER_ENTRY = join(ROOT, "server/index.ts");
const FUNCTIONS_ENTRY = join(ROOT, "server/functions.ts");
const PACKAGE_TENANT = readFileSync(join(ROOT, "auth0-actions/tenant.yaml"), "utf8");
const PACKAGE_ENV = readFileSync(join(ROOT, ".env.local.example"), "utf8");

/** layout.md's convex/auth0.ts, word for word. */
const AUTH0_TS = `/**
 * convex-auth0-users: the module's Convex functions, served from this file as \`api.auth0.*\`.
 * Written by \`npx convex-auth0-users init\`; yours to edit.
 */
import { configureAuth0Users } from "convex-auth0-users/server";
import type { DataModel } from "./_generated/dataModel";

export * from "convex-auth0-users/functions";

configureAuth0Users<DataModel>({
  // Runs inside the mutation that removes (or, with AUTH0_USER_DELETION=anonymize, keeps and
  // clears) a user deleted in Auth0, before the row changes: delete or reassign what references it.
  onUserDeleted: async (_ctx, _user, _related) => {},
});
`;

/** AUTH0_TS for an app whose messages.author holds v.id("users"): a deletion anonymizes. */
const AUTH0_TS_ANONYMIZE = AUTH0_TS.replace(
  "configureAuth0Users<DataModel>({\n",
  `configureAuth0Users<DataModel>({
  // messages.author holds v.id("users"): a user deleted in Auth0 keeps their row, every Auth0 fact
  // cleared and deletedAt set, so it still resolves. For "remove" instead, delete or rewrite that
  // reference in onUserDeleted. The Convex variable AUTH0_USER_DELETION, when set, wins.
  userDeletion: "anonymize",
`,
);

/** An app written as the Convex docs teach ("Storing users in the Convex database"). */
const DOCS_APP = {
  "package.json": `{ "name": "docs-app", "dependencies": { "convex-auth0-users": "0.1.0" } }\n`,
  "convex/schema.ts": `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  users: defineTable({
    name: v.string(),
    tokenIdentifier: v.string(),
  }).index("by_token", ["tokenIdentifier"]),
  messages: defineTable({
    author: v.id("users"),
    body: v.string(),
  }),
});
`,
  "convex/http.ts": `import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";

const http = httpRouter();

http.route({
  path: "/hello",
  method: "GET",
  handler: httpAction(async () => new Response("hello")),
});

export default http;
`,
  "convex/crons.ts": `import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

crons.interval("clear old messages", { hours: 24 }, internal.messages.clearOld, {});

export default crons;
`,
  "convex/auth.config.ts": `export default {
  providers: [
    {
      domain: "https://clerk.example.com",
      applicationID: "convex",
    },
  ],
};
`,
  "convex/messages.ts": `import { internalMutation, query } from "./_generated/server";

export const list = query({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) return [];
    const user = await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
    if (!user) return [];
    return ctx.db.query("messages").collect();
  },
});

export const clearOld = internalMutation({ args: {}, handler: async () => {} });
`,
};

/** What init makes of DOCS_APP, file by file. */
const DOCS_APP_AFTER = {
  "convex/schema.ts": `import { auth0Tables, auth0UsersTable } from "convex-auth0-users/server";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  ...auth0Tables,
  users: auth0UsersTable({}, { adopting: true }),
  messages: defineTable({
    author: v.id("users"),
    body: v.string(),
  }),
});
`,
  "convex/http.ts": `import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { registerRoutes } from "convex-auth0-users/server";

const http = httpRouter();
registerRoutes(http);

http.route({
  path: "/hello",
  method: "GET",
  handler: httpAction(async () => new Response("hello")),
});

export default http;
`,
  "convex/crons.ts": `import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";
import { registerCrons } from "convex-auth0-users/server";

const crons = cronJobs();
registerCrons(crons);

crons.interval("clear old messages", { hours: 24 }, internal.messages.clearOld, {});

export default crons;
`,
  "convex/auth.config.ts": `import { auth0Providers } from "convex-auth0-users/server";

export default {
  providers: [
    ...auth0Providers(),
    {
      domain: "https://clerk.example.com",
      applicationID: "convex",
    },
  ],
};
`,
  "convex/auth0.ts": AUTH0_TS_ANONYMIZE,
  "auth0-actions/tenant.yaml": PACKAGE_TENANT,
  ".env.local.example": envAppendix(PACKAGE_ENV, ""),
  "convex/messages.ts": DOCS_APP["convex/messages.ts"],
  "package.json": DOCS_APP["package.json"],
};

describe("init", () => {
  test("an app with an empty convex/ gets every file, as layout.md writes them", async () => {
    const dir = app({ "package.json": "{}\n" });
    mkdirSync(join(dir, "convex"));
    const run = await init(dir, "--yes");
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain("init: 7 written, 0 unchanged, by hand: 0 files");
    expect(read(dir, "convex/auth0.ts")).toBe(AUTH0_TS);
    expect(read(dir, "convex/schema.ts")).toBe(`import { defineSchema } from "convex/server";
import { auth0Tables } from "convex-auth0-users/server";

export default defineSchema({
  ...auth0Tables,
});
`);
    expect(read(dir, "convex/http.ts")).toBe(`import { httpRouter } from "convex/server";
import { registerRoutes } from "convex-auth0-users/server";

const http = httpRouter();
registerRoutes(http);

export default http;
`);
    expect(read(dir, "convex/crons.ts")).toBe(`import { cronJobs } from "convex/server";
import { registerCrons } from "convex-auth0-users/server";

const crons = cronJobs();
registerCrons(crons);

export default crons;
`);
    expect(read(dir, "convex/auth.config.ts"))
      .toBe(`import type { AuthConfig } from "convex/server";
import { auth0Providers } from "convex-auth0-users/server";

export default { providers: auth0Providers() } satisfies AuthConfig;
`);
    expect(read(dir, "auth0-actions/tenant.yaml")).toBe(PACKAGE_TENANT);
    // Every variable of the package's example, each once.
    const env = read(dir, ".env.local.example");
    expect([...definedNames(env)].sort()).toEqual([...definedNames(PACKAGE_ENV)].sort());
    expect(env.match(/^AUTH0_DOMAIN=/gm)).toHaveLength(1);
    expect(run.stdout).toContain("Next steps:");
    expect(run.stdout).toContain("npx convex-auth0-users deploy");
    expect(run.stdout).not.toContain("adoptExistingRows");
    expect(run.stdout).toContain(
      "npm install convex-auth0-users (your package.json does not list it)",
    );
  });

  test("an app written as the Convex docs teach gets exactly these edits, and its own lookup named", async () => {
    const dir = app(DOCS_APP);
    const run = await init(dir, "--yes");
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain("init: 7 written, 0 unchanged, by hand: 0 files");
    const after: Record<string, string> = {};
    for (const path of Object.keys(snapshot(dir))) after[path] = read(dir, path);
    expect(after).toEqual(DOCS_APP_AFTER);
    // What the module took over, and how to adopt the rows.
    expect(run.stdout).toContain(
      "users.name: now the module's, `v.optional(v.string())` (was `v.string()`: it becomes optional)",
    );
    expect(run.stdout).toContain("npx convex run auth0:adoptExistingRows");
    expect(run.stdout).toMatch(/remove \{ adopting: true \}/);
    // The app's own lookup by tokenIdentifier, with its place.
    expect(run.stdout).toContain("convex/messages.ts:10:37");
    expect(run.stdout).toContain("getCurrentUser(ctx)");
    expect(run.stdout).not.toContain("npm install");
  });

  test("--dry-run prints the diffs and writes nothing", async () => {
    const dir = app(DOCS_APP);
    const before = snapshot(dir);
    const run = await init(dir, "--dry-run");
    expect(run.code, run.output).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    expect(run.stdout).toContain("--- a/convex/http.ts\n+++ b/convex/http.ts\n");
    expect(run.stdout).toContain("\n+registerRoutes(http);\n");
    expect(run.stdout).toContain("--- /dev/null\n+++ b/convex/auth0.ts\n");
    expect(run.stdout).toContain("(dry run: nothing was written)");
  });

  test("--dry-run --json prints the plan as data and writes nothing", async () => {
    const dir = app(DOCS_APP);
    const before = snapshot(dir);
    const run = await init(dir, "--dry-run", "--json");
    expect(run.code, run.output).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    const doc = JSON.parse(run.stdout);
    expect(doc.dryRun).toBe(true);
    expect(doc.summary).toEqual({ create: 3, edit: 4, done: 0, byHand: 0 });
    expect(doc.files.map((f: { path: string; action: string }) => `${f.action} ${f.path}`)).toEqual(
      [
        "create convex/auth0.ts",
        "edit convex/schema.ts",
        "edit convex/http.ts",
        "edit convex/crons.ts",
        "edit convex/auth.config.ts",
        "create auth0-actions/tenant.yaml",
        "create .env.local.example",
      ],
    );
    expect(doc.lookups).toEqual([
      {
        place: "convex/messages.ts:10:37",
        text: 'q.eq("tokenIdentifier", identity.tokenIdentifier)',
      },
    ]);
    expect(doc.written).toEqual([]);
  });

  test("--dry-run --yes writes nothing: every file and folder keeps its bytes and mtime, none appears", async () => {
    // The docs app gets edits, new files and a new folder (auth0-actions/) from a real run.
    const dir = app(DOCS_APP);
    const before = snapshot(dir, true);
    const run = await init(dir, "--dry-run", "--yes");
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain(
      "init: 3 to create, 4 to edit, 0 unchanged, by hand: 0 files (dry run: nothing was written)",
    );
    expect(run.stdout).not.toMatch(/\d+ written/);
    expect(snapshot(dir, true)).toEqual(before);
  });

  test("a second run finds everything there and writes nothing, without asking", async () => {
    const dir = app(DOCS_APP);
    expect((await init(dir, "--yes")).code).toBe(0);
    const before = snapshot(dir);
    // No --yes and no terminal: it would refuse if it had anything to write.
    const run = await init(dir);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain(
      "init: 0 to create, 0 to edit, 7 unchanged, by hand: 0 files: nothing to do",
    );
    expect(snapshot(dir)).toEqual(before);
  });

  test("a schema built another way is left untouched, its lines printed; the other files are applied", async () => {
    const schema = `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

const tables = {
  messages: defineTable({ body: v.string() }),
};

export default defineSchema(tables);
`;
    const dir = app({ "convex/schema.ts": schema });
    const run = await init(dir, "--yes");
    expect(read(dir, "convex/schema.ts")).toBe(schema);
    expect(run.stdout).toContain(
      "by hand: convex/schema.ts: the schema is not `export default defineSchema({ … })`",
    );
    expect(run.stdout).toContain(`    import { auth0Tables } from "convex-auth0-users/server";`);
    expect(run.stdout).toContain("    ...auth0Tables,  // first in defineSchema({");
    expect(run.stdout).toContain("init: 6 written, 0 unchanged, by hand: 1 file");
    expect(read(dir, "convex/http.ts")).toContain("registerRoutes(http);");
    // The edit left to the user makes it exit 3 (not "done"), naming it last.
    expect(run.code, run.output).toBe(3);
    expect(run.stdout).toContain(
      'init: 1 edit left to you (the lines are above; exit 3):\n  - convex/schema.ts: add the lines printed under "by hand: convex/schema.ts"',
    );
    // Still by hand the second time, and nothing else to do: still exit 3.
    const again = await init(dir);
    expect(again.code, again.output).toBe(3);
    expect(again.stdout).toContain("6 unchanged, by hand: 1 file: nothing to do");
  });

  test("no terminal and no --yes: the plan is printed, nothing written, exit 2", async () => {
    const dir = app(DOCS_APP);
    const before = snapshot(dir);
    const run = await init(dir);
    expect(run.code, run.output).toBe(2);
    expect(run.stderr).toContain("pass --yes");
    expect(run.stdout).toContain("+registerRoutes(http);");
    expect(snapshot(dir)).toEqual(before);
  });

  // util-linux `script` gives the command a terminal, as a person running it has.
  const SCRIPT = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));
  test.skipIf(!SCRIPT)("on a terminal it asks once: no writes nothing, yes applies", async () => {
    const dir = app(DOCS_APP);
    const before = snapshot(dir);
    const onTerminal = (answer: string) =>
      start(SCRIPT!, ["-qec", `${TSX} ${CLI} init --dir ${dir}`, "/dev/null"], {
        env: { PATH: process.env.PATH },
        cwd: work,
        input: answer,
      }).done;
    const no = await onTerminal("n\n");
    expect(no.code, no.output).toBe(1);
    expect(no.output).toContain("Apply these changes? [y/N]");
    expect(no.output).toContain("Nothing was written.");
    expect(snapshot(dir)).toEqual(before);
    const yes = await onTerminal("y\n");
    expect(yes.code, yes.output).toBe(0);
    expect(read(dir, "convex/http.ts")).toBe(DOCS_APP_AFTER["convex/http.ts"]);
  });

  test("convex.json's functions folder is the one edited", async () => {
    const dir = app({ "convex.json": `{ "functions": "src/backend/" }\n` });
    mkdirSync(join(dir, "src/backend"), { recursive: true });
    const run = await init(dir, "--yes");
    expect(run.code, run.output).toBe(0);
    expect(existsSync(join(dir, "src/backend/auth0.ts"))).toBe(true);
    expect(existsSync(join(dir, "convex"))).toBe(false);
  });

  test("no Convex folder, a symlinked file or a file that does not parse: exit 2, nothing written", async () => {
    const none = app({ "package.json": "{}\n" });
    const noFolder = await init(none, "--yes");
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toContain("no Convex folder");
    expect(readdirSync(none)).toEqual(["package.json"]);

    const linked = app({ "real/schema.ts": "export default 1;\n", "convex/http.ts": "" });
    symlinkSync(join(linked, "real/schema.ts"), join(linked, "convex/schema.ts"));
    const before = snapshot(linked);
    const run = await init(linked, "--yes");
    expect(run.code, run.output).toBe(2);
    expect(run.stderr).toContain("convex/schema.ts is a symbolic link");
    expect(snapshot(linked)).toEqual(before);

    const broken = app({ "convex/http.ts": "const http = httpRouter(;\n" });
    const before2 = snapshot(broken);
    const run2 = await init(broken, "--yes");
    expect(run2.code, run2.output).toBe(2);
    expect(run2.stderr).toContain("convex/http.ts does not parse");
    expect(snapshot(broken)).toEqual(before2);
  });

  test("a file changed or created between the plan and the write is not clobbered", () => {
    const dir = app(DOCS_APP);
    const plan = planInit({
      root: dir,
      convexDir: join(dir, "convex"),
      ...PACKAGE_SPECIFIERS,
      packageRoot: ROOT,
    });
    // Meanwhile the user edits http.ts and writes their own auth0.ts.
    const edited = `${DOCS_APP["convex/http.ts"]}// edited meanwhile\n`;
    writeFileSync(join(dir, "convex/http.ts"), edited);
    writeFileSync(join(dir, "convex/auth0.ts"), "// mine\n");
    const result = applyPlan(plan.files);
    expect(read(dir, "convex/http.ts")).toBe(edited);
    expect(read(dir, "convex/auth0.ts")).toBe("// mine\n");
    expect(result.skipped.map((s) => s.shown).sort()).toEqual([
      "convex/auth0.ts",
      "convex/http.ts",
    ]);
    expect(result.written).toContain("convex/crons.ts");
    expect(read(dir, "convex/crons.ts")).toBe(DOCS_APP_AFTER["convex/crons.ts"]);
    // No temporary file is left behind.
    expect(readdirSync(join(dir, "convex")).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  test("a file with Windows line ends keeps them", () => {
    const crlf = (t: string) => t.replace(/\n/g, "\r\n");
    const dir = app({
      "convex/http.ts": crlf(DOCS_APP["convex/http.ts"]),
      "convex/crons.ts": DOCS_APP["convex/crons.ts"],
    });
    const plan = planInit({
      root: dir,
      convexDir: join(dir, "convex"),
      ...PACKAGE_SPECIFIERS,
      packageRoot: ROOT,
    });
    applyPlan(plan.files);
    expect(read(dir, "convex/http.ts")).toBe(crlf(DOCS_APP_AFTER["convex/http.ts"]));
    expect(read(dir, "convex/crons.ts")).toBe(DOCS_APP_AFTER["convex/crons.ts"]);
  });

  // This repository's convex/ is an app that uses the module: it holds what init writes for an
  // app that had none of the files, with the module imported from ../server.
  const REPO_SPECIFIERS = { server: "../server/index", functions: "../server/functions" };
  test("this repository's convex/ is what init writes into an empty app, and init finds it done", () => {
    const dir = app({});
    mkdirSync(join(dir, "convex"));
    const plan = planInit({
      root: dir,
      convexDir: join(dir, "convex"),
      ...REPO_SPECIFIERS,
      packageRoot: ROOT,
    });
    for (const name of ["auth0.ts", "schema.ts", "http.ts", "crons.ts", "auth.config.ts"]) {
      const file = plan.files.find((f) => f.shown === `convex/${name}`);
      expect(file?.kind === "create" && file.after, name).toBe(read(ROOT, `convex/${name}`));
    }
    const own = planInit({
      root: ROOT,
      convexDir: join(ROOT, "convex"),
      ...REPO_SPECIFIERS,
      packageRoot: ROOT,
    });
    expect(own.problems).toEqual([]);
    expect(
      own.files.filter((f) => f.shown.startsWith("convex/")).map((f) => `${f.kind} ${f.shown}`),
    ).toEqual([
      "done convex/auth0.ts",
      "done convex/schema.ts",
      "done convex/http.ts",
      "done convex/crons.ts",
      "done convex/auth.config.ts",
    ]);
  });

  test("the npm package ships what init reads at run time", async () => {
    const { stdout } = await promisify(execFile)(
      "npm",
      ["pack", "--dry-run", "--json", "--ignore-scripts"],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const packed = new Set(
      (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path),
    );
    for (const path of [
      "scripts/init.ts",
      "scripts/lib/init/command.ts",
      "auth0-actions/tenant.yaml",
      ".env.local.example",
    ]) {
      expect(packed.has(path), path).toBe(true);
    }
  });

  test("--help lists the flags and exit codes", async () => {
    const run = await runScript("init", ["--help"], { env: { PATH: process.env.PATH }, cwd: work });
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain(
      "Usage: convex-auth0-users init [--dry-run] [--yes] [--json] [--dir <path>]",
    );
    for (const flag of ["--dry-run", "--yes", "--json", "--dir <path>", "-h, --help"]) {
      expect(run.stdout).toContain(`  ${flag}`);
    }
    expect(run.stdout).toMatch(/^ {2}2 {2}bad input/m);
    expect(run.stdout).toMatch(/^ {2}3 {2}done \(or dry run\), but edits are left to you/m);
  });

  test("what init writes into the docs app typechecks as `npx convex dev` checks it", async () => {
    const dir = app(DOCS_APP);
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    const convex = join(dir, "convex");
    const plan = planInit({
      root: dir,
      convexDir: convex,
      ...PACKAGE_SPECIFIERS,
      packageRoot: ROOT,
    });
    expect(applyPlan(plan.files).skipped).toEqual([]);
    await writeDeploymentCodegen(convex);
    // convex/tsconfig.json as `npx convex dev` writes it, with the package's entries mapped to
    // this repository's sources (an installed app resolves them from node_modules instead).
    const config = ts.parseConfigFileTextToJson("tsconfig.json", await convexDevTsconfig()).config;
    config.compilerOptions.paths = {
      "convex-auth0-users/server": [relative(convex, SERVER_ENTRY)],
      "convex-auth0-users/functions": [relative(convex, FUNCTIONS_ENTRY)],
    };
    writeFileSync(join(convex, "tsconfig.json"), JSON.stringify(config, null, 2));
    const tsc = await promisify(execFile)(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "--project", convex],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      () => ({ code: 0, output: "" }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({
        code: err.code ?? 1,
        output: `${err.stdout ?? ""}${err.stderr ?? ""}`,
      }),
    );
    expect(tsc.output).toBe("");
    expect(tsc.code).toBe(0);
  }, 60_000);

  test("references to users anywhere in a table (optional, arrays, unions, nested objects, consts) make a deletion anonymize, naming each", () => {
    const dir = app({
      "convex/schema.ts": `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

const reviewer = v.optional(v.id("users"));

export default defineSchema({
  posts: defineTable({
    meta: v.object({ editors: v.array(v.union(v.id("users"), v.null())), reviewer }),
    title: v.string(),
  }).index("by_title", ["title"]),
  scores: defineTable({ byUser: v.record(v.string(), v.id("users")) }),
  tags: defineTable({ name: v.string(), owner: v.id("organizations") }),
});
`,
    });
    const plan = planInit({
      root: dir,
      convexDir: join(dir, "convex"),
      ...PACKAGE_SPECIFIERS,
      packageRoot: ROOT,
    });
    expect(plan.references.map((r) => `${r.table}.${r.path}`)).toEqual([
      "posts.meta.editors[]",
      "posts.meta.reviewer",
      "scores.byUser[*]",
    ]);
    const auth0 = plan.files.find((f) => f.shown === "convex/auth0.ts");
    expect(auth0?.kind === "create" && auth0.after).toContain(
      `  // posts.meta.editors[], posts.meta.reviewer, scores.byUser[*] hold v.id("users"): a user deleted
  // in Auth0 keeps their row, every Auth0 fact cleared and deletedAt set, so they still resolve.
  // For "remove" instead, delete or rewrite those references in onUserDeleted. The Convex variable
  // AUTH0_USER_DELETION, when set, wins.
  userDeletion: "anonymize",
`,
    );
  });

  test("an auth0.ts init wrote before, whose deletion would leave references dangling, gets userDeletion in its own indentation; a hook that handles them is left alone", async () => {
    const tabbed = AUTH0_TS.replace(/\n {2}/g, "\n\t");
    const dir = app({ ...DOCS_APP, "convex/auth0.ts": tabbed });
    const run = await init(dir, "--yes");
    expect(run.code, run.output).toBe(0);
    expect(read(dir, "convex/auth0.ts")).toBe(AUTH0_TS_ANONYMIZE.replace(/\n {2}/g, "\n\t"));
    expect(run.stdout).toContain('note: auth0.ts: userDeletion: "anonymize" (messages.author hold');

    const handled = AUTH0_TS.replace(
      "onUserDeleted: async (_ctx, _user, _related) => {},",
      `onUserDeleted: async (ctx, user) => {
    for (const m of await ctx.db.query("messages").collect()) {
      if (m.author === user._id) await ctx.db.delete("messages", m._id);
    }
  },`,
    );
    const own = app({ ...DOCS_APP, "convex/auth0.ts": handled });
    expect((await init(own, "--yes")).code).toBe(0);
    expect(read(own, "convex/auth0.ts")).toBe(handled);
  });

  test("the app's own insert into users is named with the fix that applies (delete it), exit 3; its lookup goes with it", async () => {
    const dir = app({
      ...DOCS_APP,
      "convex/users.ts": `import { mutation } from "./_generated/server";

export const store = mutation({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) throw new Error("Called storeUser without authentication present");
    const user = await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
    if (user !== null) return user._id;
    return await ctx.db.insert("users", { name: identity.name ?? "Anonymous", tokenIdentifier: identity.tokenIdentifier });
  },
});
`,
    });
    const run = await init(dir, "--yes", "--json");
    expect(run.code, run.output).toBe(3);
    const doc = JSON.parse(run.stdout);
    expect(doc.inserts).toEqual([
      'convex/users.ts:13:18  users.store: ctx.db.insert("users", { name: identity.name ?? "Anonymous", tokenIdentifier:…',
    ]);
    expect(doc.leftToYou).toEqual([
      `delete the function that inserts into users: ${doc.inserts[0]}`,
    ]);
    // Only messages.ts's lookup keeps the getCurrentUser fix.
    expect(doc.lookups.map((l: { place: string }) => l.place)).toEqual([
      "convex/messages.ts:10:37",
    ]);
    expect(run.stderr).toContain(
      "Fix: delete the function: the module creates and updates the users row",
    );
    expect(run.stderr).toContain("api.auth0.store");
    expect(run.stderr).toContain("init: 1 edit left to you (the lines are above; exit 3):");
  });

  test("a required email and lastActiveAt the module takes over: the merged validator is said, with where the app reads each", async () => {
    const dir = app({
      "convex/schema.ts": `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  users: defineTable({
    email: v.string(),
    lastActiveAt: v.number(),
    tokenIdentifier: v.string(),
  }).index("by_token", ["tokenIdentifier"]),
});
`,
      "convex/profile.ts": `import { query } from "./_generated/server";

export const me = query({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    const user = (await ctx.db.query("users").first())!;
    const { lastActiveAt } = user;
    return { email: user.email.toLowerCase(), claim: identity?.email, lastActiveAt };
  },
});
`,
    });
    const run = await init(dir, "--yes", "--json");
    expect(run.code, run.output).toBe(0);
    expect(JSON.parse(run.stdout).loosened).toEqual([
      {
        name: "email",
        yours: "v.string()",
        merged: "v.optional(v.string())",
        reads: ["convex/profile.ts:9:26"],
      },
      {
        name: "lastActiveAt",
        yours: "v.number()",
        merged: "v.optional(v.number())",
        reads: ["convex/profile.ts:8:13"],
      },
    ]);
    expect(run.stderr).toContain(
      "users.email: yours is `v.string()`, the merged validator is the module's `v.optional(v.string())` (Auth0 may omit it, and rows from before the adoption lack it): your functions read .email at these places; where it is a users row, handle undefined:\n  convex/profile.ts:9:26",
    );
  });
});
