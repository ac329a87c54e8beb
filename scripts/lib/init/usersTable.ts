/**
 * Rewrites an app's own `users` table (the Convex docs' shape: `defineTable({ name: v.string(),
 * tokenIdentifier: v.string() }).index("by_token", ["tokenIdentifier"])`) into
 * `auth0UsersTable({ <the app's other fields> }, { adopting: true })` with the app's indexes that
 * do not clash with the module's. Only when it is safe: every field a plain `name: validator`,
 * each field the module takes over typed as the module types it (or the module's is that type
 * made optional), the rows keyed by `tokenIdentifier`, and only `.index`/`.searchIndex`/
 * `.vectorIndex` after `defineTable`. Otherwise it says why and changes nothing.
 */
import ts from "typescript";
import { MODULE_USER_FIELDS, MODULE_USER_INDEXES } from "./moduleNames";
import { isCallOf, lineIndent, propertyName } from "./sourceEdits";

export const USERS_TABLE = "auth0UsersTable";

export type UsersRewrite =
  { ok: true; text: string; notes: string[] } | { ok: false; reason: string };

/** Whether the table is already the module's (`auth0UsersTable(...)`, maybe with indexes). */
export function isModuleUsersTable(init: ts.Expression): boolean {
  let e: ts.Expression = init;
  while (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)) {
    e = e.expression.expression;
  }
  return isCallOf(e, USERS_TABLE);
}

const squash = (s: string) => s.replace(/\s+/g, "");
const CHAIN = new Set(["index", "searchIndex", "vectorIndex"]);

/** The rewrite of the app's `users` property (`prop`), or why there is none. */
export function rewriteUsersTable(sf: ts.SourceFile, prop: ts.PropertyAssignment): UsersRewrite {
  const links: ts.CallExpression[] = [];
  let base: ts.Expression = prop.initializer;
  while (ts.isCallExpression(base) && ts.isPropertyAccessExpression(base.expression)) {
    const method = base.expression.name.text;
    if (!CHAIN.has(method)) return { ok: false, reason: `users ends in .${method}(…)` };
    links.unshift(base);
    base = base.expression.expression;
  }
  if (!isCallOf(base, "defineTable") || base.arguments.length !== 1) {
    return { ok: false, reason: "users is not `defineTable({ … })`" };
  }
  const fieldsArg = base.arguments[0];
  if (!ts.isObjectLiteralExpression(fieldsArg)) {
    return { ok: false, reason: "users' fields are not an object literal `defineTable({ … })`" };
  }
  const notes: string[] = [];
  const kept: ts.PropertyAssignment[] = [];
  const taken: string[] = [];
  for (const field of fieldsArg.properties) {
    const name = ts.isPropertyAssignment(field) ? propertyName(field.name) : undefined;
    if (!ts.isPropertyAssignment(field) || name === undefined) {
      return {
        ok: false,
        reason: `users' field \`${field.getText(sf)}\` is not \`name: validator\``,
      };
    }
    if (!Object.hasOwn(MODULE_USER_FIELDS, name)) {
      kept.push(field);
      continue;
    }
    const module = MODULE_USER_FIELDS[name];
    const yours = field.initializer.getText(sf);
    if (squash(yours) !== squash(module) && squash(module) !== squash(`v.optional(${yours})`)) {
      return {
        ok: false,
        reason: `users.${name} is \`${yours}\`, the module's is \`${module}\`: your rows may not fit it`,
      };
    }
    taken.push(name);
    notes.push(
      squash(yours) === squash(module)
        ? `users.${name}: now the module's (\`${module}\`, as yours)`
        : `users.${name}: now the module's, \`${module}\` (was \`${yours}\`: it becomes optional)`,
    );
  }
  if (!taken.includes("tokenIdentifier")) {
    return {
      ok: false,
      reason: "users has no tokenIdentifier field: the module cannot adopt its rows",
    };
  }
  const moduleIndexes = Object.entries(MODULE_USER_INDEXES);
  const keptLinks: ts.CallExpression[] = [];
  for (const link of links) {
    const method = (link.expression as ts.PropertyAccessExpression).name.text;
    const [nameArg, fieldsList] = link.arguments;
    if (!nameArg || !ts.isStringLiteralLike(nameArg)) {
      return { ok: false, reason: `users' .${method}(…) has no literal name` };
    }
    const name = nameArg.text;
    if (method !== "index") {
      if (Object.hasOwn(MODULE_USER_INDEXES, name)) {
        return { ok: false, reason: `users' ${method} ${name} has the name of a module index` };
      }
      keptLinks.push(link);
      continue;
    }
    if (
      !fieldsList ||
      !ts.isArrayLiteralExpression(fieldsList) ||
      !fieldsList.elements.every(ts.isStringLiteralLike) ||
      link.arguments.length !== 2
    ) {
      return { ok: false, reason: `users' index ${name} is not \`.index("name", ["field", …])\`` };
    }
    const fields = fieldsList.elements.map((e) => (e as ts.StringLiteralLike).text);
    const clash = moduleIndexes.find(
      ([n, f]) => n === name || (f.length === fields.length && f.every((x, i) => x === fields[i])),
    );
    if (!clash) {
      keptLinks.push(link);
    } else if (clash[0] === name && squash(fields.join()) === squash(clash[1].join())) {
      notes.push(`users index ${name}: now the module's (the same fields)`);
    } else if (clash[0] === name) {
      return {
        ok: false,
        reason: `users' index ${name} is on [${fields.join(", ")}], the module's ${name} is on [${clash[1].join(", ")}]`,
      };
    } else {
      notes.push(
        `users index ${name}: dropped, the module's ${clash[0]} is on the same fields: use withIndex("${clash[0]}", …) where your code used "${name}"`,
      );
    }
  }

  const indent = lineIndent(sf.text, prop.getStart(sf));
  // Each kept field with the comments before it (from the end of what precedes it).
  const fieldTexts = kept.map((f) => {
    const i = fieldsArg.properties.indexOf(f);
    const from = i === 0 ? fieldsArg.getStart(sf) + 1 : fieldsArg.properties[i - 1].end;
    const text = sf.text.slice(from, f.end).replace(/^\s*,/, "").trim();
    return reindent(text, "", lineIndent(sf.text, f.getStart(sf)));
  });
  const oneLine =
    fieldTexts.every((t) => !t.includes("\n") && !/\/[/*]/.test(t)) &&
    fieldTexts.reduce((n, t) => n + t.length + 2, indent.length + 60) <= 100;
  let call: string;
  if (oneLine) {
    const list = fieldTexts.join(", ");
    call = `${USERS_TABLE}(${list ? `{ ${list} }` : "{}"}, { adopting: true })`;
  } else {
    call = [
      `${USERS_TABLE}(`,
      `${indent}  {`,
      ...fieldTexts.map((t) => `${reindent(t, `${indent}    `, "")},`),
      `${indent}  },`,
      `${indent}  { adopting: true },`,
      `${indent})`,
    ].join("\n");
  }
  // Each kept link from the end of what precedes its `.`, so comments between links come along.
  const chain = keptLinks
    .map((link) => {
      const access = link.expression as ts.PropertyAccessExpression;
      const piece = sf.text.slice(access.expression.end, link.end).trim();
      return `\n${reindent(piece, `${indent}  `, lineIndent(sf.text, access.name.getStart(sf)))}`;
    })
    .join("");
  notes.push(
    "users rows you already have: run `npx convex run auth0:adoptExistingRows`, then remove `{ adopting: true }` (README, Adopting an existing users table)",
  );
  return { ok: true, text: `users: ${call}${chain}`, notes };
}

/** `text` (its first line without indentation) indented by `indent`; the lines after the first
 * lose their original indentation `own` first. */
function reindent(text: string, indent: string, own: string): string {
  return text
    .split("\n")
    .map(
      (line, i) =>
        indent +
        (i === 0 ? line : line.startsWith(own) ? line.slice(own.length) : line.trimStart()),
    )
    .join("\n");
}
