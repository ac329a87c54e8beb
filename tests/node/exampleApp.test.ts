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
import { execFile, execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  convexDevTsconfig,
  formatted,
  templatesOf,
  writeDeploymentCodegen,
} from "./helpers/deploymentCodegen";

const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLE = join(ROOT, "examples/chat");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: nothing of this repository's or this test's settings. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AUTH0_|CONVEX_|VITEST|VITE_|NODE_OPTIONS$|TEST$)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };
}

/** Runs a command to its end; never throws for a non-zero exit. */
async function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, {
      cwd,
      env: userEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === "number" ? e.code : 1,
      stdout: e.stdout ?? "",
      stderr: `${e.stderr ?? ""}${typeof e.code === "string" ? ` (${e.code})` : ""}`,
    };
  }
}

const shown = (r: Run) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-8000);

/** `tsc --project <dir>` with the TypeScript that `typescript` resolves to from `cwd`. */
const tsc = (cwd: string, project: string) =>
  run(process.execPath, [join(cwd, "node_modules/typescript/bin/tsc"), "--project", project], cwd);

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
    const app = join(work, "chat");
    const r = await run(
      process.execPath,
      [
        join(ROOT, "node_modules/convex/bin/main.js"),
        "codegen",
        "--system-udfs",
        "--typecheck=disable",
      ],
      app,
    );
    expect(r.code, shown(r)).toBe(0);
    for (const file of ["api.d.ts", "api.js", "dataModel.d.ts", "server.d.ts", "server.js"]) {
      expect(readFileSync(join(app, "convex/_generated", file), "utf8"), file).toBe(
        readFileSync(join(EXAMPLE, "convex/_generated", file), "utf8"),
      );
    }
  }, 60_000);

  test("it typechecks: its Convex functions (`tsc --project convex`) and its React code", async () => {
    const app = join(work, "chat");
    for (const project of ["convex", "tsconfig.json"]) {
      const r = await tsc(app, project);
      expect(r.code, `${project}: ${shown(r)}`).toBe(0);
    }
  }, 120_000);
});

/** A text edit the user makes by hand: `before` must be in the file exactly once. */
interface HandEdit {
  file: string;
  why: string;
  before: string;
  /** The replacement; null deletes the whole file. */
  after: string | null;
}

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

function applyHandEdit(app: string, edit: HandEdit): void {
  const path = join(app, edit.file);
  const text = readFileSync(path, "utf8");
  const at = text.indexOf(edit.before);
  expect(at, `${edit.file}: the text to edit is there`).toBeGreaterThanOrEqual(0);
  expect(text.indexOf(edit.before, at + 1), `${edit.file}: once`).toBe(-1);
  if (edit.after === null) rmSync(path);
  else
    writeFileSync(
      path,
      text.replace(edit.before, () => edit.after!),
    );
}

/** convex/_generated as a deployment-connected codegen writes it, with the app's own convex
 * templates (tests/node/helpers/deploymentCodegen.ts). */
async function deploymentCodegen(app: string): Promise<void> {
  const templates = templatesOf(app);
  await writeDeploymentCodegen(join(app, "convex"), templates);
  // `npx convex dev` writes convex/tsconfig.json only when missing: the app's own stays.
  expect(readFileSync(join(app, "convex/tsconfig.json"), "utf8")).toBe(
    await formatted(await convexDevTsconfig(templates), "json"),
  );
}

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

/** The app's own vitest, from its own node_modules, with a JSON report per test. */
async function appTests(
  app: string,
  files: string[] = [],
): Promise<{ run: Run; report: VitestReport }> {
  const out = join(app, `vitest-${Date.now()}.json`);
  const r = await run(
    process.execPath,
    [
      join(app, "node_modules/vitest/vitest.mjs"),
      "run",
      ...files,
      "--reporter=json",
      `--outputFile=${out}`,
    ],
    app,
  );
  const report = JSON.parse(readFileSync(out, "utf8")) as VitestReport;
  return { run: r, report };
}

const outcomes = (report: VitestReport) =>
  Object.fromEntries(
    report.testResults.flatMap((f) => f.assertionResults.map((a) => [a.fullName, a.status])),
  );

/**
 * This repository's files (tracked, or new and not ignored) in `work/repo`, with its node_modules
 * linked: `npm pack` there runs the prepack build into the copy's own dist/, so it never races
 * another test's pack or build of the repository's dist/ (they run in parallel).
 */
function sourceCopy(work: string): string {
  const repo = join(work, "repo");
  const listed = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  for (const file of listed.split("\0")) {
    // A file deleted in the work tree is still listed by --cached.
    if (file === "" || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(repo, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"), "dir");
  return repo;
}

describe("adopting the package into the example app", () => {
  let work: string;
  let app: string;
  const commands: string[] = [];
  const npx = (args: string[]) =>
    run(process.execPath, [join(app, "node_modules/.bin/convex-auth0-users"), ...args], app);

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "example-app-"));
    app = join(work, "chat");
    cpSync(EXAMPLE, app, { recursive: true });
  });
  afterAll(async () => {
    const edits = HAND_EDITS.filter((e) => !e.why.startsWith("("));
    const files = [...new Set(HAND_EDITS.map((e) => e.file))];
    console.log(
      [
        `example app: ${commands.length} commands from a clean app to a first login: ${commands.join("; ")}`,
        `${edits.length} edits by hand in ${files.length} files (${files.join(", ")}), none for the module's own wiring:`,
        ...edits.map((e) => `  ${e.file}: ${e.why}`),
      ].join("\n"),
    );
    await rm(work, { recursive: true, force: true });
  }, 120_000);

  test("npm pack, then one npm install of the app's dependencies and the tarball", async () => {
    const pack = await run("npm", ["pack", "--json", "--pack-destination", work], sourceCopy(work));
    expect(pack.code, shown(pack)).toBe(0);
    const [{ filename }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("[\n"))) as {
      filename: string;
    }[];
    const tarball = join(work, filename);
    commands.push("npm install convex-auth0-users");
    const install = await run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball],
      app,
      600_000,
    );
    expect(install.code, shown(install)).toBe(0);
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
    const codegen = await run(
      process.execPath,
      [
        join(app, "node_modules/convex/bin/main.js"),
        "codegen",
        "--system-udfs",
        "--typecheck=disable",
      ],
      app,
    );
    expect(codegen.code, shown(codegen)).toBe(0);
    await deploymentCodegen(app);
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
    commands.push("npx convex env set AUTH0_DOMAIN …", "npx convex env set AUTH0_CLIENT_ID …");
    // `npx convex dev`: codegen against the deployment, then its typecheck.
    commands.push("npx convex dev");
    const codegen = await run(
      process.execPath,
      [
        join(app, "node_modules/convex/bin/main.js"),
        "codegen",
        "--system-udfs",
        "--typecheck=disable",
      ],
      app,
    );
    expect(codegen.code, shown(codegen)).toBe(0);
    await deploymentCodegen(app);
    const api = readFileSync(join(app, "convex/_generated/api.d.ts"), "utf8");
    expect(api).toContain('import type * as auth0 from "../auth0.js";');
    expect(api).not.toContain("../users.js");
    expect(readFileSync(join(app, "convex/_generated/server.d.ts"), "utf8")).toContain(
      "export declare const env: Env;",
    );
    // Its Convex functions, its React code and its tests.
    for (const project of ["convex", "tsconfig.json", "tests"]) {
      const r = await tsc(app, project);
      expect(r.code, `${project}: ${shown(r)}`).toBe(0);
    }
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
