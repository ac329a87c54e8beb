/**
 * What apps rely on does not move when the source does: the names each package entry point
 * exports (package.json "exports", read from the TypeScript source each one is built from, types
 * included) and the Convex functions an app serves as `auth0:<name>` (what convex/auth0.ts
 * re-exports, so what convex/_generated/api.d.ts types as `api.auth0`), each with its kind and
 * visibility, equal the committed list in tests/node/publicSurface.json. A change to that list is
 * a change to the package's API and shows as such in review. Cost: one TypeScript program over
 * the four entries (a few seconds).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const committed = JSON.parse(readFileSync(join(ROOT, "tests/node/publicSurface.json"), "utf8")) as {
  entries: Record<string, string[]>;
  functions: Record<string, string>;
};

/** Each package.json export (but ./package.json) and the source file its `import` is built from. */
function entrySources(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, string | { import: string }>;
  };
  const sources: Record<string, string> = {};
  for (const [name, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string") continue;
    sources[name] = target.import.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts");
  }
  return sources;
}

test("every package entry point exports the committed names", () => {
  const sources = entrySources();
  expect(Object.keys(sources).sort()).toEqual(Object.keys(committed.entries).sort());
  const configPath = join(ROOT, "tsconfig.json");
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configPath);
  const files = Object.values(sources).map((file) => join(ROOT, file));
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const exported: Record<string, string[]> = {};
  for (const [name, file] of Object.entries(sources)) {
    const source = program.getSourceFile(join(ROOT, file));
    expect(source, file).toBeDefined();
    const symbol = checker.getSymbolAtLocation(source!);
    exported[name] = checker
      .getExportsOfModule(symbol!)
      .map((s) => s.name)
      .sort();
  }
  expect(exported).toEqual(committed.entries);
});

test("the functions an app serves as auth0:<name> are the committed ones, of the same kind", async () => {
  const served = (await import("../../convex/auth0")) as Record<string, unknown>;
  const functions: Record<string, string> = {};
  for (const [name, value] of Object.entries(served)) {
    const fn = value as Record<string, unknown>;
    const kind = fn.isQuery ? "query" : fn.isMutation ? "mutation" : fn.isAction ? "action" : null;
    if (kind === null) continue;
    functions[name] = `${fn.isPublic ? "public" : "internal"} ${kind}`;
  }
  // The reader is not blind: the browser's store and the Action's upsert are there.
  expect(functions.store).toBe("public mutation");
  expect(functions.upsertFromAuth0).toBe("internal mutation");
  expect(functions).toEqual(committed.functions);
});
