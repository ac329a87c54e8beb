/**
 * convex/auth0.ts: the one file of the module's own in the app. It re-exports every Convex
 * function of the module (so they are `api.auth0.*`, `npx convex run auth0:X`) and configures
 * the app's callbacks. Written only when absent; an existing auth0.ts that does not re-export the
 * module is the user's to merge.
 */
import ts from "typescript";
import { parse, type PatchResult } from "./sourceEdits";

/** The file's whole text. */
export function newAuth0File(server: string, functions: string): string {
  return `/**
 * convex-auth0-users: the module's Convex functions, served from this file as \`api.auth0.*\`.
 * Written by \`npx convex-auth0-users init\`; yours to edit.
 */
import { configureAuth0Users } from "${server}";
import type { DataModel } from "./_generated/dataModel";

export * from "${functions}";

configureAuth0Users<DataModel>({
  // Runs inside the mutation that removes (or, with AUTH0_USER_DELETION=anonymize, keeps and
  // clears) a user deleted in Auth0, before the row changes: delete or reassign what references it.
  onUserDeleted: async (_ctx, _user, _related) => {},
});
`;
}

/** An existing convex/auth0.ts: done when it re-exports the module's functions. */
export function checkAuth0File(
  file: string,
  source: string,
  server: string,
  functions: string,
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
  if (reexports) return { kind: "done", notes: [] };
  return {
    kind: "by-hand",
    reason: `${file} is yours and does not re-export the module's functions (they must be served from auth0.ts, as api.auth0.*)`,
    lines: newAuth0File(server, functions).trimEnd().split("\n"),
    notes: [],
  };
}
