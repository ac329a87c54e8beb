/**
 * The layout's import rules (README "Project layout"): what ships (the scripts, the sandbox, the
 * demo) and the benchmarks never import from tests/, and the local Auth0 stands on its own.
 * Import specifiers are read with the TypeScript parser, so comments and strings that merely
 * mention a path do not count, and dynamic `import()`, `import type` and `require` do.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
/** Not source of ours, or generated. */
const SKIP = new Set(["node_modules", "tests", "auth0-actions/dist", "convex/_generated"]);

/** Every source file outside tests/, relative to the root, with `/` separators. */
function sourceFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    const rel = relative(ROOT, full).split(sep).join("/");
    if (entry.name.startsWith(".") || SKIP.has(rel)) return [];
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(c|m)?(ts|tsx|js|jsx)$/.test(entry.name) && !entry.name.endsWith(".d.ts")
      ? [rel]
      : [];
  });
}

/** The module specifiers `file` imports: static, type-only, re-exports, `import()`, `require()`.
 * For a dynamic import of an expression, every string literal in it (`import(x ?? "./a")`). */
function importSpecifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const literals = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node)) found.push(node.text);
    else ts.forEachChild(node, literals);
  };
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteralLike(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      literals(node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      literals(node.argument.literal);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      node.arguments[0]
    ) {
      literals(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `spec` imported from `file`, as a root-relative path; undefined for a package. */
function target(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  return relative(ROOT, resolve(ROOT, dirname(file), spec))
    .split(sep)
    .join("/");
}

const graph = sourceFiles().map((file) => {
  const specs = importSpecifiers(file, readFileSync(join(ROOT, file), "utf8"));
  return { file, specs, targets: specs.map((s) => target(file, s)) };
});

const under = (path: string | undefined, folder: string) =>
  path !== undefined && (path === folder || path.startsWith(`${folder}/`));

test("the walk sees every folder and the imports that are there", () => {
  const folders = new Set(graph.map((g) => g.file.split("/")[0]));
  for (const f of ["convex", "scripts", "local-auth0", "bench", "react", "auth0-actions"]) {
    expect(folders, f).toContain(f);
  }
  // The walker is not blind: the sandbox's import of the emulator is found and resolved.
  const sandbox = graph.find((g) => g.file === "scripts/lib/sandbox.ts");
  expect(sandbox?.targets).toContain("local-auth0/managementApiEmulator");
  // Dynamic imports of an expression count too (bench/lib/lockRaceWorker.ts's fallback module).
  const worker = graph.find((g) => g.file === "bench/lib/lockRaceWorker.ts");
  expect(worker?.targets).toContain("scripts/lib/reconcile/lock");
});

test("the specifier reader counts every kind of import and ignores mere mentions", () => {
  const text = [
    `import a from "../tests/a";`,
    `import type { B } from "../tests/b";`,
    `export * from "../tests/c";`,
    `const d = await import(process.env.X ?? "../tests/d");`,
    `type E = typeof import("../tests/e");`,
    `const f = require("../tests/f");`,
    `import g = require("../tests/g");`,
    `// import h from "../tests/h";`,
    `const i = "../tests/i";`,
  ].join("\n");
  expect(importSpecifiers("scripts/x.ts", text)).toEqual(
    ["a", "b", "c", "d", "e", "f", "g"].map((n) => `../tests/${n}`),
  );
});

test("nothing outside tests/ imports from tests/", () => {
  const offending = graph.flatMap(({ file, specs, targets }) =>
    specs.filter((_, i) => under(targets[i], "tests")).map((spec) => `${file}: ${spec}`),
  );
  expect(offending).toEqual([]);
});

test("the local Auth0 imports only itself and packages (the sandbox and tests build on it)", () => {
  const offending = graph
    .filter(({ file }) => under(file, "local-auth0"))
    .flatMap(({ file, specs, targets }) =>
      specs
        .filter((_, i) => targets[i] !== undefined && !under(targets[i], "local-auth0"))
        .map((spec) => `${file}: ${spec}`),
    );
  expect(offending).toEqual([]);
});
