/**
 * `getCurrentUser`, `getCurrentUserOrThrow`, `getCurrentOrganization`, `requireOrgRole` and
 * `getMemberships` accept every context an app has and return the app's own `users` document
 * (its fields included): tests/fixtures/contextsApp is an app with required fields of its own
 * on `users`, convex-helpers custom functions whose `ctx.user` comes from the module (the withUser
 * recipe, a builder stacked on another), the generated and generic contexts, `GenericQueryCtx<any>`,
 * a union and a generic wrapper. It imports `convex-auth0-users/server` as an app does (mapped
 * to this repository's server/), and must pass `tsc --project convex`, as `npx convex dev` runs
 * it, against the offline codegen and against a deployment-connected one. Type equalities in the
 * fixture make an `any` or the module's own user type fail too. Cost: two tsc runs, ~10 s.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  convexDevTsconfig,
  writeDeploymentCodegen,
  writeOfflineCodegen,
} from "./helpers/deploymentCodegen";

const ROOT = resolve(import.meta.dirname, "../..");
const FIXTURE = join(ROOT, "tests/fixtures/contextsApp");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

let work: string;

/** A copy of the fixture app with the codegen `write` makes, ready for `tsc --project convex`. */
async function appWith(name: string, write: (convexDir: string) => Promise<void>) {
  const app = join(work, name);
  cpSync(FIXTURE, app, { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
  const convexDir = join(app, "convex");
  await write(convexDir);
  // The tsconfig `npx convex dev` writes, with the package's entry mapped to its source.
  const tsconfig = (await convexDevTsconfig()).replace(
    '"noEmit": true,',
    `"noEmit": true,\n    "paths": { "convex-auth0-users/server": [${JSON.stringify(join(ROOT, "server/index.ts"))}] },`,
  );
  expect(tsconfig).toContain('"paths"');
  writeFileSync(join(convexDir, "tsconfig.json"), tsconfig);
  return convexDir;
}

async function typecheck(convexDir: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [TSC, "--project", convexDir], {
      cwd: convexDir,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ""}${e.stderr ?? ""}` || String(err);
  }
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "contexts-app-"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("every context of the app typechecks against the offline codegen", async () => {
  const convexDir = await appWith("offline", writeOfflineCodegen);
  expect(readFileSync(join(convexDir, "_generated/server.d.ts"), "utf8")).toContain(
    "Record<string, string | undefined>",
  );
  // One deliberate mistake, so that the fixture's assertions are shown to bite: the module's own
  // user type is not the app's, and claiming it is must be the one error reported.
  writeFileSync(
    join(convexDir, "probe.ts"),
    [
      'import type { ModuleDoc } from "convex-auth0-users/server";',
      'import type { Doc } from "./_generated/dataModel";',
      'import { assertType, type Equals } from "./typeAssertions";',
      'assertType<Equals<ModuleDoc<"users">, Doc<"users">>>(true);',
      "",
    ].join("\n"),
  );
  const output = await typecheck(convexDir);
  expect(output).toMatch(/^probe\.ts\(4,\d+\): error TS2345/);
  expect(output.trim().split("\n"), output).toHaveLength(1);
}, 180_000);

test("and against a deployment-connected codegen", async () => {
  const convexDir = await appWith("deployment", (dir) => writeDeploymentCodegen(dir));
  expect(readFileSync(join(convexDir, "_generated/server.d.ts"), "utf8")).toContain(
    "readonly CONVEX_SITE_URL: string;",
  );
  expect(await typecheck(convexDir)).toBe("");
}, 180_000);
