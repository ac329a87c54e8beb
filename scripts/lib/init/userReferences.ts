/**
 * Which of the app's tables hold `v.id("users")`, read from `schema.ts`'s syntax as `init` reads
 * everything (the doctor reads the evaluated schema: scripts/lib/doctor/appSchema.ts): inside
 * `v.optional`, `v.union`, `v.array`, `v.record` and nested `v.object`s, and through `const`s of
 * the file. Each with its path (`posts.meta.editors[]`), so `init` can name them where it
 * chooses what a deletion does.
 */
import ts from "typescript";
import type { UserReference } from "../doctor/deletionConfig";
import { MODULE_TABLES } from "./moduleNames";
import { callsOf, parse, propertyName, unwrap } from "./sourceEdits";

/** Every field of the schema's own tables (the app's users included) that can hold a users id. */
export function schemaUserReferences(file: string, source: string): UserReference[] {
  const sf = parse(file, source);
  const [schema] = callsOf(sf, "defineSchema");
  const tables = schema?.arguments[0];
  if (!tables || !ts.isObjectLiteralExpression(tables)) return [];
  const consts = new Map<string, ts.Expression>();
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.initializer) consts.set(d.name.text, d.initializer);
    }
  }
  const paths = (node: ts.Expression, at: string, depth: number): string[] => {
    if (depth > 30) return [];
    const e = unwrap(node);
    if (ts.isIdentifier(e)) {
      const init = consts.get(e.text);
      return init ? paths(init, at, depth + 1) : [];
    }
    if (ts.isObjectLiteralExpression(e)) {
      return e.properties.flatMap((p) => {
        if (ts.isSpreadAssignment(p)) return paths(p.expression, at, depth + 1);
        if (ts.isShorthandPropertyAssignment(p)) {
          return paths(p.name, at ? `${at}.${p.name.text}` : p.name.text, depth + 1);
        }
        const name = ts.isPropertyAssignment(p) ? propertyName(p.name) : undefined;
        if (name === undefined || !ts.isPropertyAssignment(p)) return [];
        return paths(p.initializer, at ? `${at}.${name}` : name, depth + 1);
      });
    }
    if (!ts.isCallExpression(e)) return [];
    const callee = e.expression;
    const method = ts.isPropertyAccessExpression(callee)
      ? callee.name.text
      : ts.isIdentifier(callee)
        ? callee.text
        : "";
    const arg = (i: number) => e.arguments[i];
    switch (method) {
      case "id": {
        const table = arg(0);
        return table && ts.isStringLiteralLike(table) && table.text === "users" ? [at] : [];
      }
      case "array":
        return arg(0) ? paths(arg(0), `${at}[]`, depth + 1) : [];
      case "record":
        return arg(1) ? paths(arg(1), `${at}[*]`, depth + 1) : [];
      case "object":
      case "defineTable":
      case "auth0UsersTable":
      case "optional":
      case "union":
      case "nullable":
        return [...new Set(e.arguments.flatMap((a) => paths(a, at, depth + 1)))];
      case "index":
      case "searchIndex":
      case "vectorIndex":
        // .index(…) chained on defineTable(…): the fields are in what it is chained on.
        return ts.isPropertyAccessExpression(callee) ? paths(callee.expression, at, depth + 1) : [];
      default:
        return [];
    }
  };
  const out: UserReference[] = [];
  for (const member of tables.properties) {
    if (!ts.isPropertyAssignment(member)) continue;
    const table = propertyName(member.name);
    if (table === undefined || (table !== "users" && MODULE_TABLES.includes(table))) continue;
    for (const path of paths(member.initializer, "", 0)) out.push({ table, path: path || "(row)" });
  }
  return out;
}
