/**
 * convex/schema.ts: `...auth0Tables,` as the first entry of the app's `defineSchema({`, its
 * import after the last import, and an existing `users` table rewritten into the module's
 * (./usersTable.ts). A schema built another way (`defineSchema(tables)`, two `defineSchema`
 * calls, an app table named like one of the module's, a spread init cannot see into) is left
 * alone and the lines are printed. Where an app table or spread would replace one of the
 * module's tables (or be replaced by it) once `...auth0Tables` is in, init stops, naming the
 * lines: the later key wins in an object, silently. Every clash is named in the same run (each
 * table, spread, users field and index), not the first one only.
 */
import ts from "typescript";
import { MODULE_TABLES, MODULE_USER_FIELDS } from "./moduleNames";
import {
  allNodes,
  applyEdits,
  boundElsewhere,
  callsOf,
  fileStyle,
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
import { localSpreadTables, type SpreadTables } from "./spreadTables";
import {
  isModuleUsersTable,
  rewriteUsersTable,
  USERS_TABLE,
  type LoosenedField,
} from "./usersTable";

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

/**
 * Adds the module's tables to an existing schema, or says why it cannot. `tablesOf` tells what a
 * spread the file itself does not explain holds (see ./spreadTables.ts).
 */
export function patchSchema(
  file: string,
  source: string,
  server: string,
  tablesOf?: SpreadTables,
): PatchResult {
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
  const loosened: LoosenedField[] = [];
  const edits: Edit[] = [];
  const line = (node: ts.Node) =>
    `line ${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
  // A member as a person finds it: its line number and that line of the file, as written.
  const at = (node: ts.Node) => {
    const n = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
    return `line ${n + 1} \`${source.split("\n")[n].trim()}\``;
  };
  const resolve = localSpreadTables(sf);
  const moduleSpread = tables.properties.find(
    (m) =>
      ts.isSpreadAssignment(m) && ts.isIdentifier(m.expression) && m.expression.text === TABLES,
  );
  const spread = moduleSpread !== undefined;
  // Where the module's tables are (or go: first), as a person finds it in the file.
  const modulePlace = moduleSpread
    ? at(moduleSpread)
    : `\`...${TABLES},\` (init puts it first in defineSchema({, ${line(tables)})`;
  /** The app member `member` defines module tables `clash` after (or before) the module's. */
  const takeOut = (clash: readonly string[]) =>
    `Take ${clash.join(", ")} out of it (init turns an app's own users table, written in defineSchema({ … }) itself, into the module's), then run init again`;
  const shadowing = (
    member: ts.Node,
    clash: readonly string[],
    after: boolean,
    todo = takeOut(clash),
  ) =>
    after
      ? `the module's ${clash.join(", ")} table${clash.length > 1 ? "s are" : " is"} shadowed: ${at(member)} defines ${clash.join(", ")} after ${modulePlace}, and in defineSchema({ … }) the later one wins, so yours would replace the module's. ${todo}`
      : `${at(member)} defines ${clash.join(", ")} before ${modulePlace}: the module's table${clash.length > 1 ? "s replace" : " replaces"} yours there. ${todo}`;
  // Every problem is collected before deciding, so that one run names them all: `refusals` stop
  // init (adding the lines by hand would do harm too), `hands` leave the file to the user.
  const refusals: string[] = [];
  const hands: string[] = [];
  let handUsers = false;
  let users: ts.PropertyAssignment | undefined;
  let pastModule = !spread;
  for (const member of tables.properties) {
    if (member === moduleSpread) {
      pastModule = true;
      // A later spread replaces what came before it: the app's users would be lost.
      if (users) {
        notes.push(
          `\`...${TABLES}\` comes after your users table, so the module's users replaces yours: move it first in defineSchema({`,
        );
      }
      continue;
    }
    if (ts.isSpreadAssignment(member)) {
      const held = resolve(member.expression) ?? tablesOf?.(member.expression);
      if (held === undefined) {
        hands.push(
          `init cannot tell which tables \`...${member.expression.getText(sf)}\` (${line(member)}) holds: if it holds any of the module's (${MODULE_TABLES.join(", ")}), it and the module's would replace each other`,
        );
        continue;
      }
      const clash = MODULE_TABLES.filter((t) => held.includes(t));
      if (clash.length > 0) refusals.push(shadowing(member, clash, pastModule));
      continue;
    }
    const name =
      ts.isPropertyAssignment(member) || ts.isShorthandPropertyAssignment(member)
        ? propertyName(member.name)
        : undefined;
    if (name === undefined) {
      hands.push(`the table \`${member.getText(sf)}\` has no plain name`);
      continue;
    }
    if (name === "users") {
      if (ts.isPropertyAssignment(member)) users = member;
      else if (spread && pastModule) {
        refusals.push(
          shadowing(
            member,
            ["users"],
            true,
            `Write it as \`users: ${USERS_TABLE}({ … }, { adopting: true })\`, then run init again`,
          ),
        );
      } else {
        hands.push("users is not `users: defineTable(…)`");
        handUsers = true;
      }
    } else if (MODULE_TABLES.includes(name)) {
      if (spread && pastModule) {
        refusals.push(shadowing(member, [name], true, `Rename your table, then run init again`));
      } else {
        hands.push(
          `your table ${name} has the name of one of the module's tables: rename yours first`,
        );
      }
    }
  }
  const names = [TABLES];
  if (users && !isModuleUsersTable(users.initializer)) {
    const rewrite = rewriteUsersTable(sf, users);
    if (!rewrite.ok) {
      refusals.push(...rewrite.conflicts);
      // Left as it is after the module's tables, the app's users would shadow the module's.
      if (rewrite.reasons.length > 0 && spread && users.pos > moduleSpread.pos) {
        refusals.push(
          shadowing(
            users,
            ["users"],
            true,
            `Init cannot turn it into the module's (${rewrite.reasons.join("; ")}): fix that, or write it as ${USERS_TABLE}({ your own fields }, { adopting: true }) yourself, then run init again`,
          ),
        );
      } else if (rewrite.reasons.length > 0) {
        hands.push(...rewrite.reasons);
        handUsers = true;
      }
    } else {
      edits.push({ pos: users.getStart(sf), end: users.end, text: rewrite.text });
      notes.push(...rewrite.notes);
      loosened.push(...rewrite.loosened);
      names.push(USERS_TABLE);
    }
  } else if (users) {
    names.push(USERS_TABLE);
  }
  if (refusals.length > 0) return { kind: "refused", problems: [...refusals, ...hands], notes: [] };
  if (hands.length > 0) return hand(hands.join("; "), handUsers, notes);
  if (!spread) {
    const open = tables.getStart(sf); // the `{`
    const first = tables.properties[0];
    let text: string;
    const outer = lineIndent(source, open);
    if (!first) text = `\n${outer}${fileStyle(sf).indent}...${TABLES},\n${outer}`;
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
  return { kind: "edit", after, notes, loosened };
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
