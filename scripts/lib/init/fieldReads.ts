/**
 * Where the app's functions read a `users` field whose validator init loosens (a required
 * `email` that becomes the module's optional one): `row.email`, `row["email"]`, `const { email }
 * = row`. Syntax only, so every read of a field of that name is named, except on the signed-in
 * identity (`identity.email` is Auth0's claim, not the row); the person reading the list tells
 * which are users rows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { appSourceFiles, place } from "../doctor/appLookups";

/** Receivers that are not a users row: the identity, a function's args. */
const NOT_A_ROW = /identity$|getUserIdentity\(\)$|^args$/i;

/** For each of `fields`, the places (`convex/x.ts:3:10`) under `dir` that read it. */
export function fieldReads(dir: string, fields: string[], root: string): Map<string, string[]> {
  const reads = new Map(fields.map((f) => [f, [] as string[]]));
  if (fields.length === 0) return reads;
  for (const rel of appSourceFiles(dir)) {
    const file = join(dir, ...rel.split("/"));
    const kind = rel.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
    const sf = ts.createSourceFile(
      file,
      readFileSync(file, "utf8"),
      ts.ScriptTarget.Latest,
      true,
      kind,
    );
    const at = (n: ts.Node, name: string) => {
      const { line, character } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
      reads.get(name)!.push(place({ file, line: line + 1, column: character + 1, text: "" }, root));
    };
    const visit = (n: ts.Node) => {
      if (ts.isPropertyAccessExpression(n) && reads.has(n.name.text)) {
        if (!NOT_A_ROW.test(n.expression.getText(sf)) && !isWrite(n)) at(n.name, n.name.text);
      } else if (
        ts.isElementAccessExpression(n) &&
        ts.isStringLiteralLike(n.argumentExpression) &&
        reads.has(n.argumentExpression.text)
      ) {
        if (!NOT_A_ROW.test(n.expression.getText(sf)) && !isWrite(n)) {
          at(n.argumentExpression, n.argumentExpression.text);
        }
      } else if (ts.isBindingElement(n) && ts.isObjectBindingPattern(n.parent)) {
        const key = n.propertyName ?? n.name;
        const holder = n.parent.parent;
        // Only `const { email } = row`: a destructured parameter is a function's arguments.
        const from = ts.isVariableDeclaration(holder) ? holder.initializer?.getText(sf) : undefined;
        if (ts.isIdentifier(key) && reads.has(key.text) && from && !NOT_A_ROW.test(from.trim())) {
          at(key, key.text);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return reads;
}

/** Whether `n` is the target of an assignment (`row.email = …`): a write, not a read. */
function isWrite(n: ts.Expression): boolean {
  const p = n.parent;
  return (
    ts.isBinaryExpression(p) &&
    p.left === n &&
    p.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
    p.operatorToken.kind <= ts.SyntaxKind.LastAssignment
  );
}
