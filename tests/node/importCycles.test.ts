/**
 * Imports point one way: no cycle among the project's own source files (convex/, scripts/,
 * react/, auth0-actions/). A cycle makes evaluation order decide which names are still undefined
 * at load time, and ties files together that should change independently.
 *
 * Specifiers are read with the TypeScript compiler API and resolved as `tsc` does (the root
 * tsconfig.json). Type-only imports count too: they are a dependency of the design even when
 * erased. convex/_generated is left out: Convex writes it, its api.d.ts names every module by
 * type to describe `api`, and its api.js imports nothing from them.
 */
import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SOURCE_DIRS = ["convex", "server", "scripts", "react", "auth0-actions"];
const SKIPPED = new Set(["convex/_generated", "auth0-actions/dist", "node_modules"]);
// Like convex/_generated/api.d.ts for an app, server/api.ts names the module's functions by type
// (`import type * as functions`) to type the references the functions themselves use; at run
// time it imports only convex's anyApi.
const DESCRIBES_BY_TYPE = new Set(["server/api.ts"]);
const SCRIPT = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return SKIPPED.has(path) ? [] : sourceFiles(path);
    return SCRIPT.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports, `import()`, `require()`
 * and `import("x").T` types. */
function moduleSpecifiers(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      node.arguments.length === 1 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, "tsconfig.json");
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configPath).options;
}

/** The import graph among `files` (paths relative to the root). */
function importGraph(files: string[]): Map<string, string[]> {
  const options = compilerOptions();
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    if (DESCRIBES_BY_TYPE.has(file)) {
      graph.set(file, []);
      continue;
    }
    const full = join(ROOT, file);
    const source = ts.createSourceFile(full, ts.sys.readFile(full)!, ts.ScriptTarget.Latest, true);
    const targets = new Set<string>();
    for (const specifier of moduleSpecifiers(source)) {
      const resolved = ts.resolveModuleName(specifier, full, options, ts.sys).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport) continue;
      const target = relative(ROOT, resolved.resolvedFileName);
      if (known.has(target)) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself
 * (Tarjan's algorithm). Each is a cycle, or several sharing files. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) {
        found.push(component.sort());
      }
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return found;
}

test("the cycle finder finds cycles, of two files, of three, and a self-import", () => {
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["a", "c"]],
    ["c", ["d"]],
    ["d", ["e"]],
    ["e", ["c"]],
    ["f", ["f"]],
    ["g", ["a"]],
  ]);
  expect(cycles(graph)).toEqual(expect.arrayContaining([["a", "b"], ["c", "d", "e"], ["f"]]));
  expect(cycles(graph)).toHaveLength(3);
});

test("the specifier reader sees every kind of import", () => {
  const source = ts.createSourceFile(
    "x.ts",
    [
      'import a from "./a";',
      'import type { B } from "./b";',
      'export { c } from "./c";',
      'export * from "./d";',
      'const e = await import("./e");',
      'const f = require("./f");',
      'type G = import("./g").G;',
      'import "./h";',
    ].join("\n"),
    ts.ScriptTarget.Latest,
    true,
  );
  expect(moduleSpecifiers(source)).toEqual([
    "./a",
    "./b",
    "./c",
    "./d",
    "./e",
    "./f",
    "./g",
    "./h",
  ]);
});

test("no import cycle among the project's own source files", () => {
  const files = SOURCE_DIRS.flatMap((dir) => sourceFiles(dir));
  expect(files).toContain("server/users/users.ts");
  expect(files).toContain("scripts/lib/reconcile/plan.ts");
  const graph = importGraph(files);
  // The graph is real: the resolver follows relative imports across folders.
  expect(graph.get("server/users/users.ts")).toContain("server/tokenIdentifier.ts");
  expect(graph.get("scripts/lib/reconcile/plan.ts")).toContain("server/users/users.ts");
  expect(cycles(graph)).toEqual([]);
});
