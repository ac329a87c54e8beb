/**
 * Adopting the package as a user does, end to end, in the example app `examples/chat/` (a small
 * Convex + Auth0 + React chat in the Convex docs' shapes, with its own `users` rows keyed by
 * `tokenIdentifier` and its own `messages` that reference them):
 *
 * copy the app to a temporary folder, `npm pack` this repository, install the app's dependencies
 * and the tarball (`npm install --prefer-offline`), `npx convex-auth0-users init --yes`, read what
 * init and the doctor name (the app's lookups by `identity.tokenIdentifier`), make the edits the
 * doctor asks for, regenerate `convex/_generated` as a deployment-connected `npx convex dev` does
 * (convex's own templates, no declared variables; see tests/node/deploymentCodegen.test.ts),
 * typecheck (`tsc --project convex`, and the React side), then run the app's own tests
 * (examples/chat/tests/, convex-test with transaction limits) against the INSTALLED package.
 *
 * One install, reused by every step: the steps are the tests below, in order.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  shown,
  tsc,
  typeErrors,
  type HandEdit,
} from "./helpers/exampleApps";

const EXAMPLE = join(ROOT, "examples/chat");

describe("the example app as a user has it, before adopting the package", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "example-app-before-"));
    cpSync(EXAMPLE, join(work, "chat"), { recursive: true });
    // This repository's installation holds every package the app depends on, same versions.
    symlinkSync(join(ROOT, "node_modules"), join(work, "chat/node_modules"), "dir");
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("its dependencies are the versions this repository installs (the install comes from the npm cache)", () => {
    const app = JSON.parse(readFileSync(join(EXAMPLE, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version: string }>;
    };
    for (const [name, version] of Object.entries({ ...app.dependencies, ...app.devDependencies })) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
    expect(app.dependencies).not.toHaveProperty("convex-auth0-users");
  });

  test("its committed convex/_generated is what offline codegen writes for it", async () => {
    await expectCommittedCodegen(EXAMPLE, join(work, "chat"));
  }, 60_000);

  test("it typechecks: its Convex functions (`tsc --project convex`) and its React code", async () => {
    const app = join(work, "chat");
    for (const project of ["convex", "tsconfig.json"]) {
      const r = await tsc(app, project);
      expect(r.code, `${project}: ${shown(r)}`).toBe(0);
    }
  }, 120_000);
});

/** The edits the doctor (or, for the deletion hook, the README) asks of this app's developer. */
const HAND_EDITS: HandEdit[] = [
  {
    file: "convex/messages.ts",
    why: "the doctor names the lookup in messages.send: use getCurrentUserOrThrow(ctx)",
    before: `    const identity = await ctx.auth.getUserIdentity();
    if (!identity) {
      throw new Error("Unauthenticated call to mutation");
    }
    const user = await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
    if (!user) {
      throw new Error("Unauthenticated call to mutation");
    }
`,
    after: `    const user = await getCurrentUserOrThrow(ctx);
`,
  },
  {
    file: "convex/messages.ts",
    why: "(the same edit's import)",
    before: `import { mutation, query } from "./_generated/server";\n`,
    after: `import { getCurrentUserOrThrow } from "convex-auth0-users/server";
import { mutation, query } from "./_generated/server";\n`,
  },
  {
    file: "convex/users.ts",
    why: "init and the doctor name users.store's insert into users: delete it, the module's api.auth0.store replaces it",
    before: "export const store = mutation({",
    after: null,
  },
  {
    file: "src/App.tsx",
    why: "(the same edit: the README's useStoreUserEffect from convex-auth0-users/react calls it)",
    before: `import { useStoreUserEffect } from "./useStoreUserEffect";\n`,
    after: `import { useStoreUserEffect } from "convex-auth0-users/react";\n`,
  },
  {
    file: "src/useStoreUserEffect.ts",
    why: "(the same edit: the app's copy of the docs' hook goes)",
    before: "export function useStoreUserEffect() {",
    after: null,
  },
  {
    file: "convex/auth.config.ts",
    why: "init's note: auth0Providers() covers the tenant and its custom domain now, remove yours",
    before: `    {
      domain: "chat-example.us.auth0.com",
      applicationID: "chatExampleClientId",
    },
`,
    after: "",
  },
  {
    file: "convex/auth0.ts",
    why: "init wrote userDeletion: anonymize (messages reference users); for a deployment set to AUTH0_USER_DELETION=remove, the hook deletes the user's messages with the row",
    before: "  onUserDeleted: async (_ctx, _user, _related) => {},\n",
    after: `  onUserDeleted: async (ctx, user, { mode }) => {
    // anonymize keeps the row, and with it the user's messages; remove deletes both.
    if (mode === "anonymize") return;
    const messages = await ctx.db
      .query("messages")
      .withIndex("by_author", (q) => q.eq("author", user._id))
      .collect();
    for (const message of messages) await ctx.db.delete("messages", message._id);
  },
`,
  },
];

describe("adopting the package into the example app", () => {
  let work: string;
  let app: string;
  const figures = newFigures();
  const { commands } = figures;
  const npx = (args: string[]) => npxPackage(app, args);

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "example-app-"));
    app = join(work, "chat");
    cpSync(EXAMPLE, app, { recursive: true });
  });
  afterAll(async () => {
    console.log(figuresReport("examples/chat", figures));
    await rm(work, { recursive: true, force: true });
  }, 120_000);

  test("npm pack, then one npm install of the app's dependencies and the tarball", async () => {
    const started = performance.now();
    const tarball = await packRepository(work);
    figures.seconds["npm pack"] = Math.round((performance.now() - started) / 1000);
    commands.push("npm install convex-auth0-users");
    const install = await npmInstall(app, [tarball]);
    figures.seconds["npm install (app + tarball)"] = Math.round(install.seconds);
    const installed = JSON.parse(
      readFileSync(join(app, "node_modules/convex-auth0-users/package.json"), "utf8"),
    ) as { name: string };
    expect(installed.name).toBe("convex-auth0-users");
  }, 900_000);

  test("init --yes wires the module in without a hand edit and names the app's lookups and its own store", async () => {
    commands.push("npx convex-auth0-users init");
    const init = await npx(["init", "--yes", "--json"]);
    // Exit 3: the app's own users.store is left to delete (init names it, with the fix).
    expect(init.code, shown(init)).toBe(3);
    const report = JSON.parse(init.stdout) as {
      summary: { byHand: number };
      files: { path: string; action: string; notes: string[] }[];
      lookups: { place: string; text: string }[];
      inserts: string[];
      leftToYou: string[];
      nextSteps: string[];
    };
    // Every file the module needs is written by init: nothing is left to do by hand.
    expect(report.summary.byHand, JSON.stringify(report.files)).toBe(0);
    const schema = readFileSync(join(app, "convex/schema.ts"), "utf8");
    expect(schema).toMatch(/\.\.\.auth0Tables,/);
    expect(schema).toMatch(/users: auth0UsersTable\(\{\s*\}, \{ adopting: true \}\)/);
    expect(schema).toMatch(/messages: defineTable/);
    expect(readFileSync(join(app, "convex/http.ts"), "utf8")).toMatch(
      /registerRoutes\(http\);[\s\S]*path: "\/messages"/,
    );
    expect(readFileSync(join(app, "convex/auth.config.ts"), "utf8")).toMatch(
      /providers: \[\s*\.\.\.auth0Providers\(\),\s*\{\s*domain: "chat-example\.us\.auth0\.com"/,
    );
    const auth0 = readFileSync(join(app, "convex/auth0.ts"), "utf8");
    expect(auth0).toContain('export * from "convex-auth0-users/functions";');
    // messages.author references users: a deletion anonymizes unless told otherwise.
    expect(auth0).toContain('  // messages.author holds v.id("users")');
    expect(auth0).toContain('  userDeletion: "anonymize",\n');
    expect(report.inserts.map((i) => i.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "convex/users.ts:28:18 users.store:",
    ]);
    expect(report.leftToYou).toHaveLength(1);
    // The app's own Auth0 provider is named, to be removed (a hand edit below).
    const authConfig = report.files.find((f) => f.path === "convex/auth.config.ts");
    expect(authConfig?.notes.join("\n")).toMatch(/auth\.config\.ts:5/);
    // The app's own lookups by identity.tokenIdentifier, each named at its place (the one in
    // users.store goes with it).
    expect(report.lookups.map((l) => l.place.replace(/:\d+$/, ""))).toEqual([
      "convex/messages.ts:28",
    ]);
    for (const l of report.lookups) {
      expect(l.text).toBe('q.eq("tokenIdentifier", identity.tokenIdentifier)');
    }
    // A second run changes nothing.
    const again = await npx(["init", "--yes", "--json"]);
    expect(again.code, shown(again)).toBe(3);
    expect(JSON.parse(again.stdout)).toMatchObject({ written: [], summary: { byHand: 0 } });
  }, 120_000);

  test("the doctor names users.store's insert and messages.ts's lookup before the fix; the schema is complete", async () => {
    const doctor = await npx(["doctor", "--json"]);
    const { checks } = JSON.parse(doctor.stdout) as {
      checks: { id: string; status: string; places?: string[] }[];
    };
    const lookups = checks.find((c) => c.id === "app.lookups");
    expect(lookups, shown(doctor)).toMatchObject({ status: "warn" });
    expect(lookups!.places!.map((p) => p.split(/\s+/)[0])).toEqual(["convex/messages.ts:28:37"]);
    const inserts = checks.find((c) => c.id === "app.inserts");
    expect(inserts, shown(doctor)).toMatchObject({ status: "fail" });
    expect(inserts!.places!.map((p) => p.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "convex/users.ts:28:18 users.store:",
    ]);
    // The schema init wrote, loaded from the installed package as the Convex CLI loads it.
    expect(
      checks.find((c) => c.id === "app.schema"),
      shown(doctor),
    ).toMatchObject({
      status: "pass",
    });
    expect(checks.find((c) => c.id === "app.deletion")).toMatchObject({ status: "pass" });
  }, 120_000);

  test("before the fix, the app's own tests catch what the issue saw (custom domain, deletion)", async () => {
    // A deployment's codegen of the app as init left it, then the app's tests: the docs' lookups
    // miss the custom-domain user, and a removed author breaks messages.list.
    await convexDevCodegen(app);
    const { report } = await appTests(app, ["tests/login.test.ts", "tests/deletion.test.ts"]);
    const status = outcomes(report);
    expect(
      status[
        "a first login stores one row through api.auth0.store, and the app's functions find it"
      ],
    ).toBe("passed");
    expect(status["a login through the custom domain posts as the same user, one row"]).toBe(
      "failed",
    );
    expect(status["remove: the app's onUserDeleted deletes the user's messages with the row"]).toBe(
      "failed",
    );
    // And the deleted (anonymized) user could still post: the row keeps its tokenIdentifier.
    expect(
      status[
        "anonymize: the row stays without its Auth0 facts and messages.list works for everyone"
      ],
    ).toBe("failed");
  }, 300_000);

  test("the edits the doctor asks for, a deployment's codegen, and `tsc --project convex` passes", async () => {
    for (const edit of HAND_EDITS) applyHandEdit(app, edit);
    figures.handEdits.push(...HAND_EDITS);
    commands.push("npx convex env set AUTH0_DOMAIN …", "npx convex env set AUTH0_CLIENT_ID …");
    // `npx convex dev`: codegen against the deployment, then its typecheck.
    commands.push("npx convex dev");
    await convexDevCodegen(app);
    const api = readFileSync(join(app, "convex/_generated/api.d.ts"), "utf8");
    expect(api).toContain('import type * as auth0 from "../auth0.js";');
    expect(api).not.toContain("../users.js");
    expect(readFileSync(join(app, "convex/_generated/server.d.ts"), "utf8")).toContain(
      "export declare const env: Env;",
    );
    // Its Convex functions, its React code and its tests.
    const checked = [];
    for (const project of ["convex", "tsconfig.json", "tests"])
      checked.push(await tsc(app, project));
    figures.typeErrors = checked.flatMap(typeErrors).length;
    for (const r of checked) expect(r.code, shown(r)).toBe(0);
    // And the doctor now finds no lookup or insert to fix.
    const doctor = await npx(["doctor", "--json"]);
    const { checks } = JSON.parse(doctor.stdout) as { checks: { id: string; status: string }[] };
    for (const id of ["app.lookups", "app.inserts", "app.schema", "app.deletion"]) {
      expect(
        checks.find((c) => c.id === id),
        id,
      ).toMatchObject({ status: "pass" });
    }
  }, 300_000);

  test("the app's own tests pass against the installed package", async () => {
    const { run: r, report } = await appTests(app);
    expect(report.numFailedTests, shown(r)).toBe(0);
    expect(r.code, shown(r)).toBe(0);
    const status = outcomes(report);
    for (const name of [
      "a first login stores one row through api.auth0.store, and the app's functions find it",
      "a login through the custom domain posts as the same user, one row",
      "anonymize: the row stays without its Auth0 facts and messages.list works for everyone",
      "remove: the app's onUserDeleted deletes the user's messages with the row",
      "a login before the adoption finds the old row; the adoption completes the rest",
      "later logins, through either domain, find the old rows: never a second one",
    ]) {
      expect(status[name], name).toBe("passed");
    }
    expect(report.numPassedTests).toBe(Object.keys(status).length);
  }, 300_000);
});
