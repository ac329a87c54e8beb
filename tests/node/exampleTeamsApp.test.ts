/**
 * Adopting the package as a user does, end to end, in `examples/teams/`: a Next.js App Router app
 * on `@auth0/nextjs-auth0` v4 (Convex given the session's ID token through
 * `ConvexProviderWithAuth`), with its own `organizations` and `memberships` tables referenced by
 * `v.id("organizations")`, required app fields on `users` (`usertag`, `plan`), its own
 * `users.store`, a profile page that edits name and avatar, and convex-helpers custom functions
 * whose `ctx.user` every app function uses.
 *
 * Copy the app (without its tests/, written for after the adoption) to a temporary folder,
 * `npm install` its own dependencies (Next.js included: its types are needed to typecheck the
 * pages), check it as it stands (the committed `convex/_generated`, `tsc`), `npm pack` this
 * repository and `npm install` the tarball, `npx convex-auth0-users init --yes`, read what init
 * and the doctor name, make the edits a developer makes, regenerate `convex/_generated` as a
 * deployment-connected `npx convex dev` does, typecheck everything, then add the app's tests and
 * run them (convex-test with transaction limits) against the INSTALLED package.
 *
 * One install, reused by every step: the steps are the tests below, in order.
 */
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  appTests,
  applyHandEdit,
  convexDevCodegen,
  expectCommittedCodegen,
  figuresReport,
  newFigures,
  npmInstall,
  npxPackage,
  outcomes,
  packRepository,
  ROOT,
  run,
  shown,
  tsc,
  typeErrors,
  type HandEdit,
} from "./helpers/exampleApps";

const EXAMPLE = join(ROOT, "examples/teams");

/** A table's definition in a schema file, from `  name: defineTable(` to the next table. */
function tableText(schema: string, table: string): string {
  const start = schema.indexOf(`  ${table}: defineTable(`);
  expect(start, table).toBeGreaterThanOrEqual(0);
  const end = schema.slice(start + 1).search(/\n {2}\w+: |\n\}\);/);
  return schema.slice(start, start + 1 + end);
}

const exampleText = (file: string) => readFileSync(join(EXAMPLE, file), "utf8");
/** The app's own `users.store` (the Convex docs' shape), up to the next function. */
const usersStore = (() => {
  const text = exampleText("convex/users.ts");
  return text.slice(
    text.indexOf("/**\n * Stores the signed-in user"),
    text.indexOf("/** The signed-in user's row. */"),
  );
})();

/** The edits the doctor, init's notes and tsc ask of this app's developer after init. */
const HAND_EDITS: HandEdit[] = [
  {
    file: "convex/functions.ts",
    why: "the doctor names the lookup in the customCtx of userQuery/userMutation: use getCurrentUser(ctx)",
    before: `  const user = await ctx.db
    .query("users")
    .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
    .unique();
`,
    after: `  const user = await getCurrentUser(ctx);
`,
  },
  {
    file: "convex/functions.ts",
    why: "(the same edit's import)",
    before: `import { customCtx, customMutation, customQuery } from "convex-helpers/server/customFunctions";\n`,
    after: `import { getCurrentUser } from "convex-auth0-users/server";
import { customCtx, customMutation, customQuery } from "convex-helpers/server/customFunctions";\n`,
  },
  {
    file: "convex/users.ts",
    why: "the doctor names the app's own insert into users (users.store): delete the function",
    before: usersStore,
    after: "",
  },
  {
    file: "convex/users.ts",
    why: "(the same edit: the imports only store used)",
    before: `import { mutation } from "./_generated/server";\n`,
    after: "",
  },
  {
    file: "convex/users.ts",
    why: "(the same edit: the imports only store used)",
    before: `import { usertagFor } from "./usertags";\n`,
    after: "",
  },
  {
    file: "app/useStoreUserEffect.ts",
    why: "(the same edit: where the client called users.store, call api.auth0.store)",
    before: "useMutation(api.users.store)",
    after: "useMutation(api.auth0.store)",
  },
  {
    file: "convex/auth0.ts",
    why: "users has required fields of the app (usertag, plan), and the profile page owns name and avatar: onUserCreated and appOwnedFields",
    before: "configureAuth0Users<DataModel>({\n",
    after: `configureAuth0Users<DataModel>({
  // Name and avatar are edited on the profile page: Auth0's fill a new row, then they are ours.
  appOwnedFields: ["name", "avatarUrl"],
  // Every new row gets our required fields, whichever path creates it.
  onUserCreated: async (ctx, user) => ({
    usertag: await usertagFor(ctx, user.email ?? user.auth0UserId),
    plan: "free",
  }),
`,
  },
  {
    file: "convex/auth0.ts",
    why: "(the same edit's import)",
    before: `import type { DataModel } from "./_generated/dataModel";\n`,
    after: `import type { DataModel } from "./_generated/dataModel";
import { usertagFor } from "./usertags";\n`,
  },
  {
    file: "app/profile/page.tsx",
    why: "tsc: init made users.name optional (the module's validator) and named its reads in convex/, not this page's, which reads it as a string",
    before: "useState(me.name)",
    after: 'useState(me.name ?? "")',
  },
];

describe("adopting the package into the Next.js teams app", () => {
  let work: string;
  let app: string;
  const figures = newFigures();
  const { commands } = figures;
  const npx = (args: string[]) => npxPackage(app, args);

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "example-teams-"));
    app = join(work, "teams");
    const tests = join(EXAMPLE, "tests");
    cpSync(EXAMPLE, app, {
      recursive: true,
      filter: (from) => from !== tests && !from.startsWith(`${tests}${sep}`),
    });
  });
  afterAll(async () => {
    console.log(figuresReport("examples/teams", figures));
    await rm(work, { recursive: true, force: true });
  }, 120_000);

  test("npm install: the app's own dependencies, as its developer has them", async () => {
    const install = await npmInstall(app);
    figures.seconds["npm install (app, Next.js included)"] = Math.round(install.seconds);
    const pinned = JSON.parse(readFileSync(join(EXAMPLE, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const [name, version] of Object.entries({
      ...pinned.dependencies,
      ...pinned.devDependencies,
    })) {
      const installed = JSON.parse(
        readFileSync(join(app, "node_modules", name, "package.json"), "utf8"),
      ) as { version: string };
      expect(installed.version, name).toBe(version);
    }
    expect(pinned.dependencies).not.toHaveProperty("convex-auth0-users");
  }, 900_000);

  test("as it stands: its convex/_generated is offline codegen's, and it typechecks", async () => {
    await expectCommittedCodegen(EXAMPLE, app);
    // Its Convex functions, and its Next.js pages and routes.
    for (const project of ["convex", "tsconfig.json"]) {
      const r = await tsc(app, project);
      expect(r.code, `${project}: ${shown(r)}`).toBe(0);
    }
  }, 300_000);

  test("npm pack, then npm install convex-auth0-users: the tree is valid", async () => {
    const started = performance.now();
    const tarball = await packRepository(work);
    figures.seconds["npm pack"] = Math.round((performance.now() - started) / 1000);
    commands.push("npm install convex-auth0-users");
    const install = await npmInstall(app, [tarball]);
    figures.seconds["npm install (tarball)"] = Math.round(install.seconds);
    const ls = await run("npm", ["ls", "--all"], app);
    expect(ls.code, shown(ls)).toBe(0);
  }, 900_000);

  test("init --yes wires the module in renaming nothing, and names what it leaves to the developer", async () => {
    const schemaBefore = readFileSync(join(app, "convex/schema.ts"), "utf8");
    commands.push("npx convex-auth0-users init");
    const init = await npx(["init", "--yes", "--json"]);
    // Exit 3: the app's own users.store is left to delete (init names it, with the fix).
    expect(init.code, shown(init)).toBe(3);
    const report = JSON.parse(init.stdout) as {
      summary: { byHand: number };
      lookups: { place: string; text: string }[];
      inserts: string[];
      loosened: { name: string; yours: string; merged: string; reads: string[] }[];
      references: string[];
      leftToYou: string[];
    };
    // Every file the module needs is written by init.
    expect(report.summary.byHand, shown(init)).toBe(0);
    const schema = readFileSync(join(app, "convex/schema.ts"), "utf8");
    expect(schema).toMatch(/\.\.\.auth0Tables,/);
    expect(schema).toMatch(/users: auth0UsersTable\(\s*\{[\s\S]*usertag: v\.string\(\),/);
    // The app's own tables stay, under their names, with their references.
    for (const table of ["organizations", "memberships", "projects", "tasks"]) {
      expect(schema, table).toContain(tableText(schemaBefore, table));
    }
    // Its provider, computed from AUTH0_DOMAIN/AUTH0_CLIENT_ID, is the tenant auth0Providers()
    // names: replaced, not doubled.
    const authConfig = readFileSync(join(app, "convex/auth.config.ts"), "utf8");
    expect(authConfig).toMatch(/providers: \[\s*\.\.\.auth0Providers\(\),\s*\]/);
    // Three tables hold v.id("users"): a deletion anonymizes unless the developer says otherwise.
    expect(report.references).toEqual([
      "memberships.userId",
      "projects.createdBy",
      "tasks.assignee",
    ]);
    expect(readFileSync(join(app, "convex/auth0.ts"), "utf8")).toContain(
      '  userDeletion: "anonymize",\n',
    );
    // Its own store (the lookup inside it goes with it), and the lookup of its custom functions.
    expect(report.inserts.map((i) => i.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      expect.stringMatching(/^convex\/users\.ts:\d+:\d+ users\.store:$/),
    ]);
    expect(report.leftToYou).toHaveLength(1);
    expect(report.lookups.map((l) => l.place.replace(/:\d+:\d+$/, ""))).toEqual([
      "convex/functions.ts",
    ]);
    // The required name and email it makes optional, with where the functions read them.
    expect(report.loosened.map((f) => [f.name, f.merged])).toEqual([
      ["name", "v.optional(v.string())"],
      ["email", "v.optional(v.string())"],
    ]);
    expect(report.loosened[0].reads.length).toBeGreaterThan(0);
    // A second run changes nothing.
    const again = await npx(["init", "--yes", "--json"]);
    expect(again.code, shown(again)).toBe(3);
    expect(JSON.parse(again.stdout)).toMatchObject({ written: [], summary: { byHand: 0 } });
  }, 120_000);

  test("the doctor names the app's own store and its lookup, and passes the schema and deletion", async () => {
    const doctor = await npx(["doctor", "--json"]);
    const { checks } = JSON.parse(doctor.stdout) as {
      checks: { id: string; status: string; places?: string[] }[];
    };
    const check = (id: string) => checks.find((c) => c.id === id);
    expect(check("app.schema"), shown(doctor)).toMatchObject({ status: "pass" });
    expect(check("app.inserts")).toMatchObject({ status: "fail" });
    expect(check("app.inserts")!.places!.map((p) => p.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      expect.stringMatching(/^convex\/users\.ts:\d+:\d+ users\.store:$/),
    ]);
    // The lookup inside users.store goes with it; the one in the custom functions stays.
    expect(check("app.lookups")).toMatchObject({ status: "warn" });
    expect(check("app.lookups")!.places!.map((p) => p.split(/\s+/)[0])).toEqual([
      expect.stringMatching(/^convex\/functions\.ts:\d+:\d+$/),
    ]);
    // projects, memberships and tasks reference users: init's default keeps them resolving.
    expect(check("app.deletion"), JSON.stringify(check("app.deletion"))).toMatchObject({
      status: "pass",
    });
  }, 120_000);

  test("before the edits, the app's own tests catch what the issue saw", async () => {
    // A deployment's codegen of the app as init left it, then the app's tests.
    cpSync(join(EXAMPLE, "tests"), join(app, "tests"), { recursive: true });
    await convexDevCodegen(app);
    const { report } = await appTests(app, ["tests/login.test.ts", "tests/profile.test.ts"]);
    const status = outcomes(report);
    // No onUserCreated yet: a row without the app's required usertag and plan is refused.
    expect(
      status["a first login stores one row with the app's fields, and ctx.user is that row"],
    ).toBe("failed");
    // The custom functions' lookup by tokenIdentifier misses a custom-domain login.
    expect(
      status[
        "a custom-domain login goes through the app's own functions as the same user: one row"
      ],
    ).toBe("failed");
    expect(
      status["an avatar set on the profile page survives the next login and Auth0's updates"],
    ).toBe("failed");
  }, 300_000);

  test("the hand edits, a deployment's codegen, and every tsc project passes", async () => {
    for (const edit of HAND_EDITS) applyHandEdit(app, edit);
    figures.handEdits.push(...HAND_EDITS);
    // The deployment already has AUTH0_DOMAIN and AUTH0_CLIENT_ID: the app's own auth.config.ts
    // read them before the module came.
    commands.push("npx convex dev");
    await convexDevCodegen(app);
    const api = readFileSync(join(app, "convex/_generated/api.d.ts"), "utf8");
    expect(api).toContain('import type * as auth0 from "../auth0.js";');
    expect(readFileSync(join(app, "convex/_generated/server.d.ts"), "utf8")).toContain(
      "export declare const env: Env;",
    );
    // Its Convex functions; its pages, routes and tests (the app's tsconfig.json holds them all).
    const checked = [];
    for (const project of ["convex", "tsconfig.json"]) checked.push(await tsc(app, project));
    figures.typeErrors = checked.flatMap(typeErrors).length;
    for (const r of checked) expect(r.code, shown(r)).toBe(0);
    // And the doctor finds no insert or lookup left.
    const doctor = await npx(["doctor", "--json"]);
    const { checks } = JSON.parse(doctor.stdout) as { checks: { id: string; status: string }[] };
    for (const id of ["app.inserts", "app.lookups", "app.schema"]) {
      expect(
        checks.find((c) => c.id === id),
        id,
      ).toMatchObject({ status: "pass" });
    }
  }, 300_000);

  test("the app's own tests pass against the installed package", async () => {
    const { run: r, report } = await appTests(app);
    const status = outcomes(report);
    expect(report.numFailedTests, JSON.stringify(status, null, 2) + shown(r)).toBe(0);
    expect(r.code, shown(r)).toBe(0);
    for (const name of [
      "a first login stores one row with the app's fields, and ctx.user is that row",
      "a custom-domain login goes through the app's own functions as the same user: one row",
      "an avatar set on the profile page survives the next login and Auth0's updates",
      "a user deleted with no hook configured: the other members keep reading",
      "every path that creates a row fills usertag and plan",
      "a login finds the app's old row and keeps its fields; the adoption completes the rest",
    ]) {
      expect(status[name], name).toBe("passed");
    }
    expect(report.numPassedTests).toBe(Object.keys(status).length);
  }, 300_000);
});
