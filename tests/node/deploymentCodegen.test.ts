/**
 * convex/ typechecks against what `npx convex dev` / `npx convex deploy` generate, not only against
 * the offline codegen committed here (`npm run codegen`, `--system-udfs`).
 *
 * Connected to a deployment, the CLI (convex 1.48, cli/lib/codegen.js `doFinalComponentCodegen`)
 * writes `_generated/server.{js,d.ts}` with `serverCodegen({ envVars })`, where `envVars` are the
 * variables convex/convex.config.ts declares ([] when there is none), so `env` is typed as an `Env`
 * holding only CONVEX_CLOUD_URL and CONVEX_SITE_URL; and `_generated/api.d.ts` with
 * `componentApiDTS`, which adds a `components` export. `dataModel.d.ts` is the same dynamic one.
 * It then runs `tsc --project convex` (cli/lib/typecheck.js) with the `convex/tsconfig.json` that
 * `npx convex dev` creates when missing (codegen_templates/tsconfig.js). This test does the same
 * in a temporary copy of convex/, calling convex's own templates where they load without the
 * CLI's bundled dependencies.
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
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { format } from "prettier";
import { afterAll, beforeAll, expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const CONVEX = join(ROOT, "convex");
const TEMPLATES = join(ROOT, "node_modules/convex/dist/esm/cli/codegen_templates");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

interface ServerTemplate {
  serverCodegen(opts: { useTypeScript: false; envVars?: unknown[] }): { JS: string; DTS: string };
}
const template = async <T>(file: string): Promise<T> =>
  (await import(pathToFileURL(join(TEMPLATES, file)).href)) as T;

/** What the CLI's `writeFormattedFile` does to every generated file. */
const formatted = (contents: string) => format(contents, { parser: "typescript" });

/** The module paths the CLI's `entryPoints` lists (bundler/index.js): script files under
 * convex/ except _generated, schema, dotfiles and names with more than one dot. */
function modulePaths(dir = CONVEX): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "_generated" ? [] : modulePaths(full);
      const base = entry.name;
      if (!/\.(js|mjs|cjs|ts|tsx|mts|cts|jsx)$/.test(base)) return [];
      if (base.startsWith(".") || base.startsWith("#") || /^schema\.(ts|js)$/.test(base)) return [];
      if ((base.match(/\./g) ?? []).length > 1) return [];
      return [relative(CONVEX, full)];
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

let work: string;

/** The three files a deployment-connected codegen writes differently, for an app that declares
 * no variables. */
async function deploymentGenerated(): Promise<Record<string, string>> {
  const { serverCodegen } = await template<ServerTemplate>("server.js");
  const { apiCodegen } = await template<{
    apiCodegen(paths: string[], opts: { useTypeScript: false }): { DTS: string };
  }>("api.js");
  const server = serverCodegen({ useTypeScript: false, envVars: [] });
  // componentApiDTS (not loadable outside the CLI bundle: it imports @babel/parser) = the same
  // imports, `fullApi`, `api` and `internal` as the offline template, plus the components of
  // the root, none here. The template-source test below holds this reproduction to it.
  const api = `${apiCodegen(modulePaths(), { useTypeScript: false }).DTS}
  export declare const components: {
};`;
  return {
    "server.d.ts": await formatted(server.DTS),
    "server.js": await formatted(server.JS),
    "api.d.ts": await formatted(api),
  };
}

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
  const { tsconfigCodegen } = await template<{ tsconfigCodegen(): string }>("tsconfig.js");
  writeFileSync(join(work, "convex/tsconfig.json"), tsconfigCodegen());
  for (const [name, contents] of Object.entries(await deploymentGenerated())) {
    writeFileSync(join(work, "convex/_generated", name), contents);
  }
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

  const generated = await deploymentGenerated();
  expect(generated["server.d.ts"]).toMatch(
    /type Env = \{\s*readonly CONVEX_CLOUD_URL: string;\s*readonly CONVEX_SITE_URL: string;\s*\};/,
  );
  expect(generated["server.d.ts"]).toContain("export declare const env: Env;");
  expect(generated["api.d.ts"]).toContain("export declare const components: {};");
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
    ...readdirSync(SERVER).map((file) => join(SERVER, file)),
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
