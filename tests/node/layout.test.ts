/**
 * The layout's import rules (README "Project layout"): what ships (the scripts, the sandbox, the
 * demo) and the benchmarks never import from tests/, the local Auth0 stands on its own, and
 * server/ is in folders by capability that enter each other only through their doors, in one
 * direction, with the users at the base.
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

// server/ by capability (README "Project layout"): each folder of server/ is one capability or
// one piece of plumbing; the files at its top are what every folder shares (tables, builders,
// limits, ...) and the package's entries, which assemble the folders.
const CAPABILITIES = ["users", "login", "events", "organizations", "reconcile", "logSync"];
/** Shared by the routes (http/) and by every table reader (legacy/): below every capability. */
const PLUMBING = ["http", "legacy"];
/** The files at server/'s top that assemble the folders into the package's entries. */
const ENTRIES = ["server/index", "server/functions", "server/routes", "server/crons"];

/** An import inside server/, by folder: `folder` is null for a file at server/'s top. */
interface ServerImport {
  file: string;
  from: string | null;
  target: string;
  to: string | null;
  /** Whether the target is the folder's door (`server/<folder>` or its index.ts). */
  door: boolean;
}

const folderOf = (path: string) => {
  const parts = path.split("/");
  return parts[0] === "server" && parts.length > 2 ? parts[1] : null;
};

function serverImports(edges: { file: string; target: string }[]): ServerImport[] {
  return edges
    .filter(({ file, target }) => under(file, "server") && under(target, "server"))
    .map(({ file, target }) => {
      const plain = target.replace(/\.(js|ts)$/, "").replace(/\/index$/, "");
      const asFolder = plain.split("/").length === 2 && existsAsFolder(plain);
      const to = asFolder ? plain.split("/")[1] : folderOf(plain);
      return { file, from: folderOf(file), target: plain, to, door: asFolder };
    });
}

function existsAsFolder(path: string): boolean {
  try {
    return readdirSync(join(ROOT, path)).includes("index.ts");
  } catch {
    return false;
  }
}

/** Every broken rule of the layout, one line each. */
function layoutProblems(imports: ServerImport[]): string[] {
  const problems: string[] = [];
  const folderEdges = new Map<string, Set<string>>();
  for (const i of imports) {
    const where = `${i.file} imports ${i.target}`;
    if (i.to === null || i.from === i.to) continue;
    if (!i.door) problems.push(`${where}: another folder is entered through its door only`);
    if (i.from === null) {
      if (!ENTRIES.some((e) => i.file === `${e}.ts`)) {
        problems.push(`${where}: a shared file imports no folder`);
      }
      continue;
    }
    if (!CAPABILITIES.includes(i.to) && !PLUMBING.includes(i.to)) {
      problems.push(`${where}: ${i.to} is neither a capability nor plumbing`);
    }
    if (i.from === "users" && CAPABILITIES.includes(i.to)) {
      problems.push(`${where}: the users are the base capability and import no other`);
    }
    if (PLUMBING.includes(i.from) && CAPABILITIES.includes(i.to)) {
      problems.push(`${where}: plumbing imports no capability`);
    }
    if (!folderEdges.has(i.from)) folderEdges.set(i.from, new Set());
    folderEdges.get(i.from)!.add(i.to);
  }
  // No cycle between folders: a folder reached again from itself.
  for (const start of folderEdges.keys()) {
    const seen = new Set<string>();
    const stack = [...(folderEdges.get(start) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (next === start) {
        problems.push(`the folders ${start} and ${[...seen].join(", ")} import each other`);
        break;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(folderEdges.get(next) ?? []));
    }
  }
  return problems;
}

test("the layout rules catch an import through a folder's inside, upward from users, and a cycle", () => {
  const edge = (file: string, target: string) => ({ file, target });
  expect(
    layoutProblems(
      serverImports([
        edge("server/users/users.ts", "server/organizations/writes"),
        edge("server/organizations/writes.ts", "server/users"),
        edge("server/http/common.ts", "server/events"),
        edge("server/tables.ts", "server/users"),
      ]),
    ),
  ).toEqual([
    "server/users/users.ts imports server/organizations/writes: another folder is entered through its door only",
    "server/users/users.ts imports server/organizations/writes: the users are the base capability and import no other",
    "server/http/common.ts imports server/events: plumbing imports no capability",
    "server/tables.ts imports server/users: a shared file imports no folder",
    "the folders users and organizations import each other",
    "the folders organizations and users import each other",
  ]);
});

test("server/ is in folders by capability, each entered through its door, the users at the base", () => {
  const folders = readdirSync(join(ROOT, "server"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  expect(folders).toEqual([...CAPABILITIES, ...PLUMBING].sort());
  for (const folder of folders) expect(existsAsFolder(`server/${folder}`), folder).toBe(true);
  const imports = serverImports(
    graph.flatMap(({ file, targets }) =>
      targets.flatMap((target) => (target === undefined ? [] : [{ file, target }])),
    ),
  );
  // The walk sees the folders' imports: the organizations use the users through their door.
  expect(imports).toContainEqual(
    expect.objectContaining({ file: "server/organizations/writes.ts", to: "users", door: true }),
  );
  expect(layoutProblems(imports)).toEqual([]);
});
