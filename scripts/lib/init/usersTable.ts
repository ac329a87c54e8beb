/**
 * Rewrites an app's own `users` table (the Convex docs' shape: `defineTable({ name: v.string(),
 * tokenIdentifier: v.string() }).index("by_token", ["tokenIdentifier"])`) into
 * `auth0UsersTable({ <the app's other fields> }, { adopting: true })` with the app's indexes that
 * do not clash with the module's. Only when it is safe: every field a plain `name: validator`,
 * each field the module takes over typed as the module types it (or the module's is that type
 * made optional), the rows keyed by `tokenIdentifier`, and only `.index`/`.searchIndex`/
 * `.vectorIndex` after `defineTable`. Otherwise it says why, every reason at once, and changes
 * nothing; a field of the module's name that means something else to the app (its own
 * `deletedAt`, another validator) is a conflict that stops init. Every comment of the app's
 * table is carried into the rewrite.
 */
import ts from "typescript";
import { commentsWithin, lostComments, textWithoutComments, type Comment } from "./comments";
import { MODULE_STATE_FIELDS, MODULE_USER_FIELDS, MODULE_USER_INDEXES } from "./moduleNames";
import { indentUnit, isCallOf, lineIndent, propertyName, type LoosenedField } from "./sourceEdits";

export type { LoosenedField };

export const USERS_TABLE = "auth0UsersTable";

/** The rewrite, or every reason there is none: `conflicts` are fields of the module's name with
 * another meaning (init must stop, not print lines that would merge them), `reasons` the rest. */
export type UsersRewrite =
  | { ok: true; text: string; notes: string[]; loosened: LoosenedField[] }
  | { ok: false; reasons: string[]; conflicts: string[] };

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
  // Every reason is collected, so that one run names all there is to change.
  const reasons: string[] = [];
  const conflicts: string[] = [];
  const fail = (): UsersRewrite => ({ ok: false, reasons, conflicts });
  const links: ts.CallExpression[] = [];
  let base: ts.Expression = prop.initializer;
  while (ts.isCallExpression(base) && ts.isPropertyAccessExpression(base.expression)) {
    const method = base.expression.name.text;
    if (!CHAIN.has(method)) reasons.push(`users ends in .${method}(…)`);
    else links.unshift(base);
    base = base.expression.expression;
  }
  if (!isCallOf(base, "defineTable") || base.arguments.length !== 1) {
    reasons.push("users is not `defineTable({ … })`");
    return fail();
  }
  const fieldsArg = base.arguments[0];
  if (!ts.isObjectLiteralExpression(fieldsArg)) {
    reasons.push("users' fields are not an object literal `defineTable({ … })`");
    return fail();
  }
  const notes: string[] = [];
  const loosened: LoosenedField[] = [];
  const kept: ts.PropertyAssignment[] = [];
  const taken = new Map<ts.PropertyAssignment, string>();
  // Whether a tokenIdentifier was seen, or could hide in a field init cannot read.
  let keyed = false;
  for (const field of fieldsArg.properties) {
    const name = ts.isPropertyAssignment(field) ? propertyName(field.name) : undefined;
    if (name === "tokenIdentifier") keyed = true;
    if (!ts.isPropertyAssignment(field) || name === undefined) {
      keyed = true;
      reasons.push(`users' field \`${field.getText(sf)}\` is not \`name: validator\``);
      continue;
    }
    if (!Object.hasOwn(MODULE_USER_FIELDS, name)) {
      kept.push(field);
      continue;
    }
    const module = MODULE_USER_FIELDS[name];
    const yours = squash(textWithoutComments(sf, field.initializer));
    const line = sf.getLineAndCharacterOfPosition(field.getStart(sf)).line + 1;
    const rename = `rename your field (in the schema, your code and your rows, e.g. with a migration), then run init again`;
    if (Object.hasOwn(MODULE_STATE_FIELDS, name)) {
      conflicts.push(
        `users.${name} (line ${line}, \`${yours}\`) is your own field, but the module's users table has a ${name} (\`${module}\`) that ${MODULE_STATE_FIELDS[name]}: taking yours over would give it that meaning (a user you marked would count as deleted in Auth0, and signing in again would give them a second row). Init will not take it over: ${rename}`,
      );
      continue;
    }
    if (yours !== squash(module) && squash(module) !== `v.optional(${yours})`) {
      conflicts.push(
        `users.${name} (line ${line}) is \`${yours}\`, the module's users.${name} is \`${module}\`: it is another field with the same name, which the module would take over (and your rows may not fit it). Init will not take it over: ${rename}`,
      );
      continue;
    }
    taken.set(field, yours);
    if (yours !== squash(module)) loosened.push({ name, yours, merged: module });
    notes.push(
      yours === squash(module)
        ? `users.${name}: now the module's (\`${module}\`, as yours)`
        : `users.${name}: now the module's, \`${module}\` (was \`${yours}\`: it becomes optional)`,
    );
  }
  if (!keyed) {
    reasons.push("users has no tokenIdentifier field: the module cannot adopt its rows");
  }
  const moduleIndexes = Object.entries(MODULE_USER_INDEXES);
  /** Each link kept, or dropped with what to say where it was. */
  const chain: { link: ts.CallExpression; dropped?: string }[] = [];
  for (const link of links) {
    const method = (link.expression as ts.PropertyAccessExpression).name.text;
    const [nameArg, fieldsList] = link.arguments;
    if (!nameArg || !ts.isStringLiteralLike(nameArg)) {
      reasons.push(`users' .${method}(…) has no literal name`);
      continue;
    }
    const name = nameArg.text;
    if (method !== "index") {
      if (Object.hasOwn(MODULE_USER_INDEXES, name)) {
        reasons.push(`users' ${method} ${name} has the name of a module index`);
      }
      chain.push({ link });
      continue;
    }
    if (
      !fieldsList ||
      !ts.isArrayLiteralExpression(fieldsList) ||
      !fieldsList.elements.every(ts.isStringLiteralLike) ||
      link.arguments.length !== 2
    ) {
      reasons.push(`users' index ${name} is not \`.index("name", ["field", …])\``);
      continue;
    }
    const fields = fieldsList.elements.map((e) => (e as ts.StringLiteralLike).text);
    const clash = moduleIndexes.find(
      ([n, f]) => n === name || (f.length === fields.length && f.every((x, i) => x === fields[i])),
    );
    if (!clash) {
      chain.push({ link });
    } else if (clash[0] === name && squash(fields.join()) === squash(clash[1].join())) {
      notes.push(`users index ${name}: now the module's (the same fields)`);
      chain.push({ link, dropped: `index ${name}: now the module's (the same fields)` });
    } else if (clash[0] === name) {
      reasons.push(
        `users' index ${name} is on [${fields.join(", ")}], the module's ${name} is on [${clash[1].join(", ")}]`,
      );
    } else {
      notes.push(
        `users index ${name}: dropped, the module's ${clash[0]} is on the same fields: use withIndex("${clash[0]}", …) where your code used "${name}"`,
      );
      chain.push({
        link,
        dropped: `index ${name}: dropped, the module's ${clash[0]} is on the same fields`,
      });
    }
  }
  if (reasons.length + conflicts.length > 0) return fail();

  const text = usersText(sf, prop, base, fieldsArg, kept, taken, chain);
  // Every comment of the app's table is in what replaces it, or the table is left alone.
  const original = commentsWithin(sf, prop, prop.getStart(sf), prop.end).map((c) => c.text);
  const lost = lostComments(original, `{${text}}`);
  if (lost.length > 0) {
    reasons.push(
      `init could not keep the comment \`${lost[0].slice(0, 60)}\` of your users table in the rewrite`,
    );
    return fail();
  }
  notes.push(
    "users rows you already have: run `npx convex run auth0:adoptExistingRows`, then remove `{ adopting: true }` (docs/init.md, Adopting an existing users table)",
  );
  return { ok: true, text, notes, loosened };
}

/**
 * The text of `users: auth0UsersTable(…)` with the app's kept fields, every comment of its
 * table in its place (a taken-over field's or a dropped index's comments stay where it was, with
 * a line saying what became of it), and its kept index calls.
 */
function usersText(
  sf: ts.SourceFile,
  prop: ts.PropertyAssignment,
  base: ts.CallExpression,
  fieldsArg: ts.ObjectLiteralExpression,
  kept: ts.PropertyAssignment[],
  taken: Map<ts.PropertyAssignment, string>,
  chain: { link: ts.CallExpression; dropped?: string }[],
): string {
  const text = sf.text;
  const indent = lineIndent(text, prop.getStart(sf));
  // One step of the file's own indentation (a tab, 2 or 4 spaces) per level.
  const step = indentUnit(text);
  const inner = `${indent}${step}${step}`;
  const comment = (c: Comment, to: string) => reindent(c.text, to, lineIndent(text, c.pos));
  const within = (from: number, to: number) => commentsWithin(sf, prop, from, to);
  const sameLine = (from: number, to: number) => !text.slice(from, to).includes("\n");

  // Comments around the fields object: between `users:` and `{`, and between `}` and `)`.
  const outer = [
    ...within(prop.getStart(sf), fieldsArg.getStart(sf)),
    ...within(fieldsArg.end, base.end),
  ];
  const lines: string[] = outer.map((c) => comment(c, inner));
  const props = fieldsArg.properties;
  const close = fieldsArg.end - 1;
  let commented = outer.length > 0;
  props.forEach((field, i) => {
    const from = i === 0 ? fieldsArg.getStart(sf) + 1 : props[i - 1].end;
    const next = i + 1 < props.length ? props[i + 1].getStart(sf) : close;
    const before = within(from, field.getStart(sf)).filter(
      (c) => i === 0 || !sameLine(props[i - 1].end, c.pos),
    );
    const after = within(field.end, next).filter((c) => sameLine(field.end, c.pos));
    const own = within(field.getStart(sf), field.end);
    if (before.length + after.length + own.length > 0) commented = true;
    lines.push(...before.map((c) => comment(c, inner)));
    const yours = taken.get(field as ts.PropertyAssignment);
    if (yours === undefined) {
      const code = reindent(
        text.slice(field.getStart(sf), field.end),
        inner,
        lineIndent(text, field.getStart(sf)),
      );
      const tail = after.map((c) => ` ${c.text}`).join("");
      lines.push(`${code},${tail}`);
    } else if (before.length + after.length + own.length > 0) {
      const name = propertyName((field as ts.PropertyAssignment).name);
      lines.push(`${inner}// ${name}: now the module's field (yours was \`${yours}\`)`);
      lines.push(...own.map((c) => comment(c, inner)), ...after.map((c) => comment(c, inner)));
    }
  });
  // After the last field: its own line's comment is taken above; the rest stays at the end.
  const lastEnd = props.length > 0 ? props[props.length - 1].end : fieldsArg.getStart(sf) + 1;
  const tail = within(lastEnd, close).filter(
    (c) => props.length === 0 || !sameLine(lastEnd, c.pos),
  );
  if (tail.length > 0) commented = true;
  lines.push(...tail.map((c) => comment(c, inner)));

  const keptTexts = kept.map((f) => text.slice(f.getStart(sf), f.end));
  const oneLine =
    !commented &&
    keptTexts.every((t) => !t.includes("\n")) &&
    keptTexts.reduce((n, t) => n + t.length + 2, indent.length + 60) <= 100;
  let call: string;
  if (oneLine) {
    const list = keptTexts.join(", ");
    call = `${USERS_TABLE}(${list ? `{ ${list} }` : "{}"}, { adopting: true })`;
  } else {
    call = [
      `${USERS_TABLE}(`,
      `${indent}${step}{`,
      ...lines,
      `${indent}${step}},`,
      `${indent}${step}{ adopting: true },`,
      `${indent})`,
    ].join("\n");
  }
  // Each link from the end of what precedes its `.`, so comments between links come along; a
  // dropped link leaves its comments, and a line saying why it went.
  let links = "";
  for (const { link, dropped } of chain) {
    const access = link.expression as ts.PropertyAccessExpression;
    const own = lineIndent(text, access.name.getStart(sf));
    if (dropped === undefined) {
      const piece = text.slice(access.expression.end, link.end).trim();
      links += `\n${reindent(piece, `${indent}${step}`, own)}`;
      continue;
    }
    const gone = within(access.expression.end, link.end);
    if (gone.length === 0) continue;
    for (const c of gone) links += `\n${comment(c, `${indent}${step}`)}`;
    links += `\n${indent}${step}// ${dropped}`;
  }
  return `users: ${call}${links}`;
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
