/**
 * convex/auth0.ts: the one file of the module's own in the app. It re-exports every Convex
 * function of the module (so they are `api.auth0.*`, `npx convex run auth0:X`) and configures
 * the app's callbacks. Written only when absent; an existing auth0.ts that does not re-export the
 * module is the user's to merge. When the app's tables hold `v.id("users")`, a deletion must not
 * leave them dangling: init writes `userDeletion: "anonymize"` (naming those fields), also into
 * an auth0.ts it wrote before whose deletion still removes the row with a hook that does nothing.
 */
import ts from "typescript";
import { readDeletionConfig, referencesText, type UserReference } from "../doctor/deletionConfig";
import {
  applyEdits,
  DEFAULT_STYLE,
  fileStyle,
  indentUnit,
  lineIndent,
  parse,
  quoted,
  sameLine,
  type Edit,
  type FileStyle,
  type PatchResult,
} from "./sourceEdits";

/** `text` as `// ` comment lines of at most `width` columns (with `indent`). */
function commentLines(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && indent.length + 3 + line.length + 1 + word.length > width) {
      lines.push(`${indent}// ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(`${indent}// ${line}`);
  return lines;
}

/** The `userDeletion: "anonymize",` entry with the comment that says why, one line each. */
function anonymizeLines(
  refs: UserReference[],
  indent: string,
  style: FileStyle = DEFAULT_STYLE,
): string[] {
  return [
    ...commentLines(
      `${referencesText(refs)} hold${refs.length === 1 ? "s" : ""} v.id("users"): a user deleted in Auth0 keeps their row, every Auth0 fact cleared and deletedAt set, so ${refs.length === 1 ? "it still resolves" : "they still resolve"}. For "remove" instead, delete or rewrite ${refs.length === 1 ? "that reference" : "those references"} in onUserDeleted. The Convex variable AUTH0_USER_DELETION, when set, wins.`,
      indent,
    ),
    `${indent}userDeletion: ${quoted("anonymize", style)},`,
  ];
}

/** The file's whole text; `refs` are the app's fields that hold a users id. */
export function newAuth0File(
  server: string,
  functions: string,
  refs: UserReference[] = [],
): string {
  return `/**
 * convex-auth0-users: the module's Convex functions, served from this file as \`api.auth0.*\`.
 * Written by \`npx convex-auth0-users init\`; yours to edit.
 */
import { configureAuth0Users } from "${server}";
import type { DataModel } from "./_generated/dataModel";

export * from "${functions}";

configureAuth0Users<DataModel>({
${refs.length > 0 ? `${anonymizeLines(refs, "  ").join("\n")}\n` : ""}  // Runs inside the mutation that removes (or, with AUTH0_USER_DELETION=anonymize, keeps and
  // clears) a user deleted in Auth0, before the row changes: delete or reassign what references it.
  onUserDeleted: async (_ctx, _user, _related) => {},
});
`;
}

/**
 * An existing convex/auth0.ts: done when it re-exports the module's functions and a deletion
 * leaves none of `refs` dangling; `userDeletion: "anonymize"` added when it would.
 */
export function checkAuth0File(
  file: string,
  source: string,
  server: string,
  functions: string,
  refs: UserReference[] = [],
): PatchResult {
  const sf = parse(file, source);
  const reexports = sf.statements.some(
    (st) =>
      ts.isExportDeclaration(st) &&
      !st.exportClause &&
      !st.isTypeOnly &&
      st.moduleSpecifier !== undefined &&
      ts.isStringLiteral(st.moduleSpecifier) &&
      st.moduleSpecifier.text === functions,
  );
  if (!reexports) {
    return {
      kind: "by-hand",
      reason: `${file} is yours and does not re-export the module's functions (they must be served from auth0.ts, as api.auth0.*)`,
      lines: newAuth0File(server, functions, refs).trimEnd().split("\n"),
      notes: [],
    };
  }
  const config = readDeletionConfig(sf);
  const dangling =
    refs.length > 0 &&
    config.mode === "remove" &&
    (config.hook.kind === "absent" || config.hook.kind === "empty");
  if (!dangling) return { kind: "done", notes: [] };
  const options = config.options;
  if (!options) {
    return {
      kind: "by-hand",
      reason: `a deletion removes the row and nothing handles ${referencesText(refs)}, and ${file} has no configureAuth0Users({ … }) init can add userDeletion to`,
      lines: [`configureAuth0Users<DataModel>({`, ...anonymizeLines(refs, "  "), `});`],
      notes: [],
    };
  }
  // First in the options object, indented as its first entry (or one step in from the call).
  const first = options.properties[0];
  const open = options.getStart(sf);
  const outer = lineIndent(source, open);
  const style = fileStyle(sf);
  const lines = (indent: string) => `\n${anonymizeLines(refs, indent, style).join("\n")}`;
  let edit: Edit;
  if (!first)
    edit = {
      pos: open + 1,
      end: options.end - 1,
      text: `${lines(outer + indentUnit(source))}\n${outer}`,
    };
  else if (sameLine(source, open, first.getStart(sf))) {
    const indent = outer + indentUnit(source);
    edit = { pos: open + 1, end: first.getStart(sf), text: `${lines(indent)}\n${indent}` };
  } else
    edit = { pos: open + 1, end: open + 1, text: lines(lineIndent(source, first.getStart(sf))) };
  return {
    kind: "edit",
    after: applyEdits(source, [edit]),
    notes: [
      `auth0.ts: userDeletion: "anonymize" (${referencesText(refs)} hold v.id("users"), and onUserDeleted did nothing: a removed row would leave them dangling)`,
    ],
  };
}
