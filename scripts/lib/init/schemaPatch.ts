/**
 * convex/schema.ts: `...auth0Tables,` as the first entry of the app's `defineSchema({`, its
 * import after the last import, and an existing `users` table rewritten into the module's
 * (./usersTable.ts). A schema built another way (`defineSchema(tables)`, two `defineSchema`
 * calls, an app table named like one of the module's) is left alone and the lines are printed.
 */
import ts from "typescript";
import { MODULE_TABLES, MODULE_USER_FIELDS } from "./moduleNames";
import {
  allNodes,
  applyEdits,
  boundElsewhere,
  callsOf,
  importEdit,
  importLine,
  lineIndent,
  parse,
  propertyName,
  sameLine,
  unwrap,
  type Edit,
  type PatchResult,
} from "./sourceEdits";
import { isModuleUsersTable, rewriteUsersTable, USERS_TABLE } from "./usersTable";

const TABLES = "auth0Tables";

/** The whole file for an app that has none. */
export function newSchema(server: string): string {
  return [
    `import { defineSchema } from "convex/server";`,
    importLine([TABLES], server),
    "",
    "export default defineSchema({",
    `  ...${TABLES},`,
    "});",
    "",
  ].join("\n");
}

/** The lines to add by hand; with `users` when the app has its own users table. */
function handLines(server: string, hasUsers: boolean): string[] {
  const lines = [
    importLine(hasUsers ? [TABLES, USERS_TABLE] : [TABLES], server),
    `...${TABLES},  // first in defineSchema({`,
  ];
  if (hasUsers) {
    lines.push(
      `users: ${USERS_TABLE}({ /* your own users fields, without the module's: ${Object.keys(MODULE_USER_FIELDS).join(", ")} */ }, { adopting: true })`,
      `  /* then your own .index(…) calls, except those on the module's names or fields: by_token, by_auth0_user_id, by_email, by_auth0_updated_at */,`,
    );
  }
  return lines;
}

/** Adds the module's tables to an existing schema, or says why it cannot. */
export function patchSchema(file: string, source: string, server: string): PatchResult {
  const sf = parse(file, source);
  const hand = (reason: string, hasUsers: boolean, notes: string[] = []): PatchResult => ({
    kind: "by-hand",
    reason,
    lines: handLines(server, hasUsers),
    notes,
  });
  const calls = callsOf(sf, "defineSchema");
  const exported = sf.statements.filter(ts.isExportAssignment);
  const value = exported.length === 1 ? unwrap(exported[0].expression) : undefined;
  const call = calls.length === 1 && value === calls[0] ? calls[0] : undefined;
  if (!call || call.arguments.length < 1 || !ts.isObjectLiteralExpression(call.arguments[0])) {
    const why =
      calls.length > 1
        ? `defineSchema is called ${calls.length} times`
        : "the schema is not `export default defineSchema({ … })` with the tables written inside";
    return hand(why, /\busers\b/.test(source));
  }
  const tables = call.arguments[0];
  const notes: string[] = [];
  const edits: Edit[] = [];
  let spread = false;
  let users: ts.PropertyAssignment | undefined;
  for (const member of tables.properties) {
    if (ts.isSpreadAssignment(member)) {
      if (ts.isIdentifier(member.expression) && member.expression.text === TABLES) {
        spread = true;
        // A later spread replaces what came before it: the app's users would be lost.
        if (users) {
          notes.push(
            `\`...${TABLES}\` comes after your users table, so the module's users replaces yours: move it first in defineSchema({`,
          );
        }
      } else {
        notes.push(
          `your schema spreads \`${member.expression.getText(sf)}\`: it must hold none of the module's tables (${MODULE_TABLES.join(", ")})`,
        );
      }
      continue;
    }
    const name =
      ts.isPropertyAssignment(member) || ts.isShorthandPropertyAssignment(member)
        ? propertyName(member.name)
        : undefined;
    if (name === undefined) {
      return hand(`the table \`${member.getText(sf)}\` has no plain name`, false);
    }
    if (name === "users") {
      if (!ts.isPropertyAssignment(member))
        return hand("users is not `users: defineTable(…)`", true);
      users = member;
    } else if (MODULE_TABLES.includes(name)) {
      return hand(
        `your table ${name} has the name of one of the module's tables: rename yours first`,
        false,
      );
    }
  }
  const names = [TABLES];
  if (users && !isModuleUsersTable(users.initializer)) {
    const rewrite = rewriteUsersTable(sf, users);
    if (!rewrite.ok) return hand(rewrite.reason, true);
    edits.push({ pos: users.getStart(sf), end: users.end, text: rewrite.text });
    notes.push(...rewrite.notes);
    names.push(USERS_TABLE);
  } else if (users) {
    names.push(USERS_TABLE);
  }
  if (!spread) {
    const open = tables.getStart(sf); // the `{`
    const first = tables.properties[0];
    let text: string;
    if (!first) text = `\n${lineIndent(source, open)}  ...${TABLES},\n${lineIndent(source, open)}`;
    else if (sameLine(source, open, first.getStart(sf))) text = ` ...${TABLES},`;
    else text = `\n${lineIndent(source, first.getStart(sf))}...${TABLES},`;
    edits.push({ pos: open + 1, end: open + 1, text });
  }
  const taken = boundElsewhere(sf, names, server);
  if (taken.length > 0) {
    return hand(
      `\`${taken.join("`, `")}\` already names something else in this file`,
      names.includes(USERS_TABLE),
      notes,
    );
  }
  const imp = importEdit(sf, server, names);
  if (imp) edits.push(imp);
  if (edits.length === 0) return { kind: "done", notes };
  const after = applyEdits(source, edits);
  if (users) notes.push(...unusedImports(file, source, after));
  return { kind: "edit", after, notes };
}

/** Imports the users rewrite left unused (the app's linter may ask to remove them). */
function unusedImports(file: string, before: string, after: string): string[] {
  const uses = (text: string) => {
    const sf = parse(file, text);
    const count = new Map<string, number>();
    for (const node of allNodes(sf)) {
      if (ts.isIdentifier(node) && !ts.isImportSpecifier(node.parent)) {
        count.set(node.text, (count.get(node.text) ?? 0) + 1);
      }
    }
    return count;
  };
  const was = uses(before);
  const now = uses(after);
  return ["defineTable", "v"]
    .filter((name) => (was.get(name) ?? 0) > 0 && !now.has(name))
    .map(
      (name) =>
        `schema.ts no longer uses \`${name}\`: remove it from its import if your linter asks`,
    );
}
