/**
 * The README's code is written for an app: every import of the package names an entry point it
 * ships (`convex-auth0-users/server`, `/functions`, `/react`, `/testing`), every name imported
 * from one is exported by the BUILT entry (its declarations in dist/, types included: `npm test`
 * builds first), and no snippet imports a file of this repository (`./organizations`,
 * `../server/...`): the only relative imports are the app's own `./_generated/*` and `./schema`.
 * Reads README.md, react/README.md and docs/*.md. Cost: one TypeScript program over dist's declarations.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const READMES = [
  "README.md",
  "react/README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
const PACKAGE = "convex-auth0-users";

interface Import {
  readme: string;
  specifier: string;
  names: string[];
}

/** Every import and re-export of the README's ts/tsx blocks, read with the TypeScript parser. */
function snippetImports(readme: string): Import[] {
  const text = readFileSync(join(ROOT, readme), "utf8");
  const blocks = [...text.matchAll(/```(ts|tsx|typescript)\n([\s\S]*?)```/g)];
  return blocks.flatMap(([, lang, code]) => {
    const source = ts.createSourceFile(
      `snippet.${lang === "tsx" ? "tsx" : "ts"}`,
      code,
      ts.ScriptTarget.Latest,
      true,
    );
    return source.statements.flatMap((s): Import[] => {
      if (
        !(ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) ||
        !s.moduleSpecifier ||
        !ts.isStringLiteral(s.moduleSpecifier)
      ) {
        return [];
      }
      const names: string[] = [];
      const bindings = ts.isImportDeclaration(s) ? s.importClause?.namedBindings : undefined;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) names.push((el.propertyName ?? el.name).text);
      }
      if (ts.isExportDeclaration(s) && s.exportClause && ts.isNamedExports(s.exportClause)) {
        for (const el of s.exportClause.elements) names.push((el.propertyName ?? el.name).text);
      }
      return [{ readme, specifier: s.moduleSpecifier.text, names }];
    });
  });
}

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, string | { types?: string }>;
};

/** The declarations file of a built entry point. */
function declarationsOf(entry: string): string {
  const target = pkg.exports[`./${entry}`];
  const types = typeof target === "string" ? target : target?.types;
  if (!types) throw new Error(`${PACKAGE}/${entry} is not an entry point of the package`);
  const file = join(ROOT, types);
  if (!existsSync(file)) throw new Error(`${types} is missing: run npm run build:package first`);
  return file;
}

/** Per entry point, the names its built declarations export, types included (one program). */
function exportedNames(entries: string[]): Map<string, Set<string>> {
  const files = entries.map(declarationsOf);
  const program = ts.createProgram(files, { noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  return new Map(
    entries.map((entry, i) => {
      const module = checker.getSymbolAtLocation(program.getSourceFile(files[i])!)!;
      return [entry, new Set(checker.getExportsOfModule(module).map((symbol) => symbol.name))];
    }),
  );
}

const imports = READMES.flatMap(snippetImports);

test("the README's snippets import the package, and every name from a built entry point", () => {
  const fromPackage = imports.filter((i) => i.specifier.startsWith(`${PACKAGE}/`));
  // The snippets do show the package: the lookups, the hooks, the functions and the testing helpers.
  expect(new Set(fromPackage.map((i) => i.specifier))).toEqual(
    new Set(["server", "functions", "react", "testing"].map((e) => `${PACKAGE}/${e}`)),
  );
  const entryOf = (specifier: string) => specifier.slice(PACKAGE.length + 1);
  const exported = exportedNames([...new Set(fromPackage.map((i) => entryOf(i.specifier)))]);
  const missing: string[] = [];
  for (const { readme, specifier, names } of fromPackage) {
    const entry = entryOf(specifier);
    for (const name of names) {
      if (!exported.get(entry)!.has(name)) missing.push(`${readme}: ${name} from ${specifier}`);
    }
  }
  expect(missing).toEqual([]);
});

test("no snippet imports a file of this repository", () => {
  const relative = imports.filter((i) => i.specifier.startsWith("."));
  const foreign = relative.filter(
    (i) =>
      !/^\.\/_generated\/(api|dataModel|server)$/.test(i.specifier) && i.specifier !== "./schema",
  );
  expect(foreign.map((i) => `${i.readme}: ${i.specifier}`)).toEqual([]);
  expect(imports.some((i) => i.specifier === `${PACKAGE}`)).toBe(false);
});
