/**
 * The app's own user creation: calls in `convex/` that insert into `users`, as the Convex docs'
 * `store` mutation does (`ctx.db.insert("users", { name, tokenIdentifier })`). With the module,
 * the Action and `api.auth0.store` create and update the row; a second path that inserts keyed
 * by `tokenIdentifier` gives a person who signs in through an Auth0 custom domain a second row.
 * The fix for such a function is to delete it (a lookup's fix, `getCurrentUser`, does not apply
 * to an insert). Syntax only (the TypeScript parser), like ./appLookups.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import type { CheckResult } from "../convexPing";
import { appSourceFiles, isFolder, place, type AppLookup } from "./appLookups";

/** One insert into `users`, with the app function that holds it. */
export interface AppInsert extends AppLookup {
  /** The Convex function's name as the app calls it (`users.store`), when it is one. */
  functionName?: string;
  /** The lines of the statement that declares that function (1-based, inclusive). */
  lines: { from: number; to: number };
}

/** What to do instead, printed with the places. */
export const INSERT_FIX =
  "delete the function: the module creates and updates the users row itself (the Action at login, and api.auth0.store, which useStoreUserEffect from convex-auth0-users/react calls once the browser is signed in); where your client called it, call api.auth0.store (useMutation(api.auth0.store)) or use that hook. Your own insert keyed by tokenIdentifier gives a person who signs in through another Auth0 domain a second row";

/** Whether `node` is `….insert("users", …)`. */
function isUsersInsert(node: ts.Node): node is ts.CallExpression {
  if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return false;
  const [table] = node.arguments;
  return (
    node.expression.name.text === "insert" &&
    table !== undefined &&
    ts.isStringLiteralLike(table) &&
    table.text === "users"
  );
}

/** The top-level statement holding `node`, and the name it declares (`store`), if any. */
function enclosing(node: ts.Node): { statement: ts.Node; name?: string } {
  let n: ts.Node = node;
  while (n.parent && !ts.isSourceFile(n.parent)) n = n.parent;
  if (ts.isVariableStatement(n)) {
    const decl = n.declarationList.declarations.find((d) => d.pos <= node.pos && node.end <= d.end);
    return { statement: n, name: decl && ts.isIdentifier(decl.name) ? decl.name.text : undefined };
  }
  if (ts.isFunctionDeclaration(n) && n.name) return { statement: n, name: n.name.text };
  return { statement: n };
}

/** Every insert into `users` in one file's source; `module` is the file's path in convex/
 * without its extension (`users`, `admin/users`). */
export function findInsertsInSource(file: string, source: string, module: string): AppInsert[] {
  const kind = file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, kind);
  const found: AppInsert[] = [];
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (isUsersInsert(node)) {
      const start = node.getStart(sf);
      const { line, character } = sf.getLineAndCharacterOfPosition(start);
      const { statement, name } = enclosing(node);
      const text = node.getText(sf).replace(/\s+/g, " ");
      found.push({
        file,
        line: line + 1,
        column: character + 1,
        text: text.length > 80 ? `${text.slice(0, 77)}…` : text,
        functionName: name === undefined ? undefined : `${module.replace(/\//g, ".")}.${name}`,
        lines: { from: lineOf(statement.getStart(sf)), to: lineOf(statement.end) },
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Every insert into `users` in the app's files under `dir`. */
export function findAppInserts(dir: string): AppInsert[] {
  return appSourceFiles(dir).flatMap((rel) =>
    findInsertsInSource(
      join(dir, ...rel.split("/")),
      readFileSync(join(dir, rel), "utf8"),
      rel.replace(/\.tsx?$/, ""),
    ),
  );
}

/** Whether a lookup sits in a function that inserts into users: deleting that function is its fix. */
export function insideInsert(lookup: AppLookup, inserts: AppInsert[]): boolean {
  return inserts.some(
    (i) => i.file === lookup.file && i.lines.from <= lookup.line && lookup.line <= i.lines.to,
  );
}

/** `place  users.store: ctx.db.insert("users", …)`: one line per insert. */
export function insertLine(i: AppInsert, cwd = process.cwd()): string {
  return `${place(i, cwd)}  ${i.functionName ? `${i.functionName}: ` : ""}${i.text}`;
}

/** The doctor's check: fails naming each insert and the fix; skips when `dir` is no folder. */
export function appInsertsCheck(dir: string): CheckResult {
  const base = { id: "app.inserts", title: "only the module creates users rows" };
  if (!isFolder(dir)) {
    return { ...base, status: "skip", detail: `no Convex folder at ${dir} (--convex-dir)` };
  }
  const inserts = findAppInserts(dir);
  if (inserts.length === 0) {
    return { ...base, status: "pass", detail: `no insert into users under ${dir}` };
  }
  return {
    ...base,
    status: "fail",
    detail: `${inserts.length} insert(s) into users by your own functions: ${INSERT_FIX}`,
    places: inserts.map((i) => insertLine(i)),
  };
}
