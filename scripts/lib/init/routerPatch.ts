/**
 * convex/http.ts and convex/crons.ts: the module's `registerRoutes(http)` / `registerCrons(crons)`
 * right after the app's `const http = httpRouter();` / `const crons = cronJobs();`, and its import
 * after the last import. A new file when the app has none.
 */
import ts from "typescript";
import {
  applyEdits,
  boundElsewhere,
  fileStyle,
  callsOf,
  importEdit,
  importedNames,
  importLine,
  lineIndent,
  parse,
  type Edit,
  type PatchResult,
} from "./sourceEdits";

/** One of the two files: which convex/server factory makes the object and what registers on it. */
export interface RouterKind {
  /** `httpRouter` or `cronJobs`. */
  factory: string;
  /** The app's usual variable name (`http`, `crons`). */
  variable: string;
  /** `registerRoutes` or `registerCrons`. */
  register: string;
}

export const HTTP: RouterKind = {
  factory: "httpRouter",
  variable: "http",
  register: "registerRoutes",
};
export const CRONS: RouterKind = {
  factory: "cronJobs",
  variable: "crons",
  register: "registerCrons",
};

/** The whole file for an app that has none. */
export function newRouterFile(kind: RouterKind, server: string): string {
  return [
    `import { ${kind.factory} } from "convex/server";`,
    importLine([kind.register], server),
    "",
    `const ${kind.variable} = ${kind.factory}();`,
    `${kind.register}(${kind.variable});`,
    "",
    `export default ${kind.variable};`,
    "",
  ].join("\n");
}

/** The lines to add by hand. */
function handLines(kind: RouterKind, server: string, variable = kind.variable): string[] {
  return [
    importLine([kind.register], server),
    `${kind.register}(${variable});  // right after \`const ${variable} = ${kind.factory}();\``,
  ];
}

/** Adds the import and the register call to an existing file, or says why it cannot. */
export function patchRouter(
  file: string,
  source: string,
  kind: RouterKind,
  server: string,
): PatchResult {
  const sf = parse(file, source);
  const edits: Edit[] = [];
  if (boundElsewhere(sf, [kind.register], server).length > 0) {
    return {
      kind: "by-hand",
      reason: `\`${kind.register}\` already names something else in this file: import the module's under another name`,
      lines: handLines(kind, server),
      notes: [],
    };
  }
  const imported = importedNames(sf, server).has(kind.register);
  const called = callsOf(sf, kind.register).length > 0;
  if (imported && called) return { kind: "done", notes: [] };
  if (!called) {
    // const http = httpRouter();  (the one place the object is made, at the top level)
    const anchors = callsOf(sf, kind.factory).filter((c) => c.arguments.length === 0);
    const declarations = anchors
      .map((c) => c.parent)
      .filter(
        (d): d is ts.VariableDeclaration => ts.isVariableDeclaration(d) && ts.isIdentifier(d.name),
      );
    const statement = declarations[0]?.parent?.parent;
    if (
      anchors.length !== 1 ||
      declarations.length !== 1 ||
      !statement ||
      !ts.isVariableStatement(statement) ||
      statement.parent !== sf ||
      statement.declarationList.declarations.length !== 1
    ) {
      const why =
        anchors.length > 1
          ? `${kind.factory}() is called ${anchors.length} times`
          : `no top-level \`const ${kind.variable} = ${kind.factory}();\``;
      return {
        kind: "by-hand",
        reason: `${why}: cannot tell where ${kind.register} goes`,
        lines: handLines(kind, server),
        notes: [],
      };
    }
    const variable = (declarations[0].name as ts.Identifier).text;
    const indent = lineIndent(source, statement.getStart(sf));
    edits.push({
      pos: statement.end,
      end: statement.end,
      text: `\n${indent}${kind.register}(${variable})${fileStyle(sf).semi ? ";" : ""}`,
    });
  }
  const imp = importEdit(sf, server, [kind.register]);
  if (imp) edits.push(imp);
  return { kind: "edit", after: applyEdits(source, edits), notes: [] };
}
