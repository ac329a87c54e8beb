/**
 * convex/ typechecks against what `npx convex dev` / `npx convex deploy` generate, not only against
 * the offline codegen committed here (`npm run codegen`, `--system-udfs`): the reproduction in
 * tests/node/helpers/deploymentCodegen.ts (held to convex's sources below) is written into a
 * temporary copy of convex/, then `tsc --project convex` runs as the CLI runs it.
 */
import { execFile } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  convexDevTsconfig,
  convexModulePaths,
  deploymentGenerated,
  formatted,
  template,
  templatesOf,
  writeDeploymentCodegen,
} from "./helpers/deploymentCodegen";

const ROOT = resolve(import.meta.dirname, "../..");
const CONVEX = join(ROOT, "convex");
const TEMPLATES = templatesOf();
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const modulePaths = () => convexModulePaths(CONVEX);

interface ServerTemplate {
  serverCodegen(opts: { useTypeScript: false; envVars?: unknown[] }): { JS: string; DTS: string };
}

let work: string;

async function typecheck(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [TSC, "--project", dir], {
      cwd: work,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "deployment-codegen-"));
  symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");
  cpSync(CONVEX, join(work, "convex"), { recursive: true });
  // The module's source, which convex/ imports as an app imports the installed package.
  cpSync(join(ROOT, "server"), join(work, "server"), { recursive: true });
  writeFileSync(join(work, "convex/tsconfig.json"), await convexDevTsconfig());
  await writeDeploymentCodegen(join(work, "convex"));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the reproduction follows convex's templates: offline output matches the committed files", async () => {
  const { serverCodegen } = await template<ServerTemplate>("server.js");
  const { apiCodegen } = await template<{
    apiCodegen(paths: string[], opts: { useTypeScript: false }): { DTS: string };
  }>("api.js");
  // Same templates, same formatting as the CLI: the offline run reproduces the committed files.
  const committed = (name: string) => readFileSync(join(CONVEX, "_generated", name), "utf8");
  expect(await formatted(serverCodegen({ useTypeScript: false }).DTS)).toBe(
    committed("server.d.ts"),
  );
  expect(await formatted(apiCodegen(modulePaths(), { useTypeScript: false }).DTS)).toBe(
    committed("api.d.ts"),
  );

  // The deployment's api.d.ts: componentApiDTS's declarations, as its source writes them.
  const componentApi = readFileSync(join(TEMPLATES, "component_api.js"), "utf8");
  for (const line of [
    'export declare const api: FilterApi<typeof fullApi, FunctionReference<any, "public">>;',
    'export declare const internal: FilterApi<typeof fullApi, FunctionReference<any, "internal">>;',
    "export declare const components: {",
  ]) {
    expect(componentApi).toContain(line);
  }
  // The deployment's codegen passes the declared variables; the offline one passes none.
  const codegen = readFileSync(join(TEMPLATES, "../lib/codegen.js"), "utf8");
  expect(codegen).toMatch(/const envVars = analysis\?\.definition\.envVars/);

  const generated = await deploymentGenerated(CONVEX);
  expect(generated["server.d.ts"]).toMatch(
    /type Env = \{\s*readonly CONVEX_CLOUD_URL: string;\s*readonly CONVEX_SITE_URL: string;\s*\};/,
  );
  expect(generated["server.d.ts"]).toContain("export declare const env: Env;");
  expect(generated["api.d.ts"]).toContain("export declare const components: {};");
  // api.js is the offline one: a deployment writes the same.
  expect(generated["api.js"]).toBe(committed("api.js"));
});

test("convex/ passes `tsc --project convex` against a deployment's codegen", async () => {
  const { code, output } = await typecheck(join(work, "convex"));
  expect(output).toBe("");
  expect(code).toBe(0);
}, 180_000);

test("convex/ needs no @types/node: the same typecheck with no ambient types passes", async () => {
  // An app need not install @types/node; convex's tsconfig includes whatever @types it finds.
  const bareDir = join(work, "bare");
  cpSync(join(work, "convex"), bareDir, { recursive: true });
  const tsconfig = readFileSync(join(bareDir, "tsconfig.json"), "utf8");
  const bare = tsconfig.replace('"noEmit": true,', '"noEmit": true,\n    "types": [],');
  expect(bare).not.toBe(tsconfig);
  writeFileSync(join(bareDir, "tsconfig.json"), bare);
  const { code, output } = await typecheck(bareDir);
  expect(output).toBe("");
  expect(code).toBe(0);
}, 180_000);

test("and that typecheck catches a read through the generated `env`", async () => {
  // The shape every variable read had before: it compiles offline and fails here.
  const probeDir = join(work, "probe");
  cpSync(join(work, "convex"), probeDir, { recursive: true });
  writeFileSync(
    join(probeDir, "envProbe.ts"),
    'import { env } from "./_generated/server";\nexport const domain = () => env.AUTH0_DOMAIN;\n',
  );
  const { code, output } = await typecheck(probeDir);
  expect(code).not.toBe(0);
  expect(output).toMatch(
    /envProbe\.ts\(2,\d+\): error TS2339: Property 'AUTH0_DOMAIN' does not exist/,
  );
  expect(output.trim().split("\n")).toHaveLength(1);
}, 180_000);

test("every variable is read through server/deploymentVariables.ts", () => {
  // The lint rule cannot enforce this (it does not see the globalThis form), so this test does:
  // a read through `env` fails a deployment's typecheck, a stray process.env bypasses the one
  // reader.
  const SERVER = join(ROOT, "server");
  const files = [
    ...modulePaths()
      .concat("auth.config.ts")
      .map((file) => join(CONVEX, file)),
    ...readdirSync(SERVER, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => join(SERVER, file)),
  ];
  const offenders = files
    .filter((file) => file !== join(SERVER, "deploymentVariables.ts"))
    .filter((file) => {
      const source = readFileSync(file, "utf8");
      return (
        /\bprocess\s*\.\s*env\b/.test(source) ||
        /import\s*\{[^}]*\benv\b[^}]*\}\s*from\s*"\.\/_generated\/server"/.test(source)
      );
    });
  expect(files).toContain(join(SERVER, "deploymentVariables.ts"));
  expect(offenders).toEqual([]);
});
