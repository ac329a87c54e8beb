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
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

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

  test("its dependencies are the repository's own versions (the install comes from the npm cache)", () => {
    const app = JSON.parse(readFileSync(join(EXAMPLE, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const repo = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as typeof app;
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version: string }>;
    };
    const ours = { ...repo.dependencies, ...repo.devDependencies };
    for (const [name, version] of Object.entries({ ...app.dependencies, ...app.devDependencies })) {
      // Direct dependencies of the repository, or (vite) locked in its tree.
      expect(ours[name] ?? lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
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
