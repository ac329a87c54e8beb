/**
 * `convex/_generated` as a deployment-connected `npx convex dev` / `npx convex deploy` writes it,
 * reproduced with convex's own codegen templates (tests/node/deploymentCodegen.test.ts holds the
 * reproduction to the CLI's source).
 *
 * Connected to a deployment, the CLI (convex 1.48, cli/lib/codegen.js `doFinalComponentCodegen`)
 * writes `_generated/server.{js,d.ts}` with `serverCodegen({ envVars })`, where `envVars` are the
 * variables convex/convex.config.ts declares ([] when there is none), so `env` is typed as an `Env`
 * holding only CONVEX_CLOUD_URL and CONVEX_SITE_URL; and `_generated/api.d.ts` with
 * `componentApiDTS`, which adds a `components` export. `dataModel.d.ts` is the same dynamic one.
 * It then runs `tsc --project convex` (cli/lib/typecheck.js) with the `convex/tsconfig.json` that
 * `npx convex dev` creates when missing (codegen_templates/tsconfig.js).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "prettier";

const ROOT = resolve(import.meta.dirname, "../../..");

/** The codegen templates of the convex package installed under `root`. */
export const templatesOf = (root: string = ROOT) =>
  join(root, "node_modules/convex/dist/esm/cli/codegen_templates");

/** Loads one of convex's codegen templates (those that load without the CLI's bundle). */
export async function template<T>(file: string, templates = templatesOf()): Promise<T> {
  return (await import(pathToFileURL(join(templates, file)).href)) as T;
}

/** What the CLI's `writeFormattedFile` does to every generated file. */
export const formatted = (contents: string, parser = "typescript") => format(contents, { parser });

/** The module paths the CLI's `entryPoints` lists (bundler/index.js): script files under the
 * Convex folder except _generated, schema, dotfiles and names with more than one dot. */
export function convexModulePaths(convexDir: string, dir = convexDir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        return entry.name === "_generated" ? [] : convexModulePaths(convexDir, full);
      }
      const base = entry.name;
      if (!/\.(js|mjs|cjs|ts|tsx|mts|cts|jsx)$/.test(base)) return [];
      if (base.startsWith(".") || base.startsWith("#") || /^schema\.(ts|js)$/.test(base)) return [];
      if ((base.match(/\./g) ?? []).length > 1) return [];
      return [relative(convexDir, full).split("\\").join("/")];
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface ServerTemplate {
  serverCodegen(opts: { useTypeScript: false; envVars?: unknown[] }): { JS: string; DTS: string };
}
interface ApiTemplate {
  apiCodegen(paths: string[], opts: { useTypeScript: false }): { JS: string; DTS: string };
}

/** The files a deployment-connected codegen writes differently from the offline one
 * (`server.d.ts`, `server.js`, `api.d.ts`), plus `api.js`, for an app that declares no variables. */
export async function deploymentGenerated(
  convexDir: string,
  templates = templatesOf(),
): Promise<Record<string, string>> {
  const { serverCodegen } = await template<ServerTemplate>("server.js", templates);
  const { apiCodegen } = await template<ApiTemplate>("api.js", templates);
  const server = serverCodegen({ useTypeScript: false, envVars: [] });
  const api = apiCodegen(convexModulePaths(convexDir), { useTypeScript: false });
  // componentApiDTS (not loadable outside the CLI bundle: it imports @babel/parser) = the same
  // imports, `fullApi`, `api` and `internal` as the offline template, plus the components of
  // the root, none here.
  return {
    "server.d.ts": await formatted(server.DTS),
    "server.js": await formatted(server.JS),
    "api.d.ts": await formatted(`${api.DTS}\nexport declare const components: {\n};`),
    "api.js": await formatted(api.JS),
  };
}

/** Writes {@link deploymentGenerated} into `convexDir/_generated`; a folder without a
 * `dataModel.d.ts` gets this repository's, which is the same for every schema (it derives the
 * types from `../schema.js`). */
export async function writeDeploymentCodegen(
  convexDir: string,
  templates = templatesOf(),
): Promise<void> {
  const generated = join(convexDir, "_generated");
  mkdirSync(generated, { recursive: true });
  for (const [name, text] of Object.entries(await deploymentGenerated(convexDir, templates))) {
    writeFileSync(join(generated, name), text);
  }
  if (!existsSync(join(generated, "dataModel.d.ts"))) {
    writeFileSync(
      join(generated, "dataModel.d.ts"),
      readFileSync(join(ROOT, "convex/_generated/dataModel.d.ts"), "utf8"),
    );
  }
}

/** The offline codegen (`npx convex codegen --system-udfs --typecheck=disable`, the files this
 * repository commits) of `convexDir`, written into its `_generated`. */
export async function writeOfflineCodegen(
  convexDir: string,
  templates = templatesOf(),
): Promise<void> {
  const { serverCodegen } = await template<ServerTemplate>("server.js", templates);
  const { apiCodegen } = await template<ApiTemplate>("api.js", templates);
  const server = serverCodegen({ useTypeScript: false });
  const api = apiCodegen(convexModulePaths(convexDir), { useTypeScript: false });
  const generated = join(convexDir, "_generated");
  mkdirSync(generated, { recursive: true });
  for (const [name, text] of Object.entries({
    "server.d.ts": server.DTS,
    "server.js": server.JS,
    "api.d.ts": api.DTS,
    "api.js": api.JS,
  })) {
    writeFileSync(join(generated, name), await formatted(text));
  }
  writeFileSync(
    join(generated, "dataModel.d.ts"),
    readFileSync(join(ROOT, "convex/_generated/dataModel.d.ts"), "utf8"),
  );
}

/** The `convex/tsconfig.json` that `npx convex dev` writes when there is none, as text. */
export async function convexDevTsconfig(templates = templatesOf()): Promise<string> {
  const { tsconfigCodegen } = await template<{ tsconfigCodegen(): string }>(
    "tsconfig.js",
    templates,
  );
  return tsconfigCodegen();
}
