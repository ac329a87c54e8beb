/**
 * What the app's `convex/auth0.ts` says a user deletion does: `configureAuth0Users({
 * userDeletion, onUserDeleted })`, read from the syntax (the TypeScript parser), and whether that
 * leaves the app's references to `users` dangling. `init` writes `userDeletion: "anonymize"` when
 * the app's tables hold `v.id("users")`; the doctor fails a `remove` whose hook does nothing.
 */
import ts from "typescript";
import type { CheckResult } from "../convexPing";

/** One app field that can hold a users id: `messages.author`, `posts.editors[]`. */
export interface UserReference {
  table: string;
  path: string;
}

/** `messages.author, posts.editors[]`. */
export const referencesText = (refs: UserReference[]) =>
  refs.map((r) => `${r.table}.${r.path}`).join(", ");

export interface DeletionConfig {
  /** The `configureAuth0Users({ … })` options, when written as an object literal. */
  options?: ts.ObjectLiteralExpression;
  /** `userDeletion` as written: absent means remove; `unknown` when it is not a literal. */
  mode: "remove" | "anonymize" | "unknown";
  /** `onUserDeleted`: absent, an empty function, defined elsewhere (a name), or its body's
   * string literals (the tables it names). */
  hook:
    | { kind: "absent" }
    | { kind: "empty" }
    | { kind: "elsewhere" }
    | { kind: "body"; names: Set<string> };
}

/** The deletion settings of `convex/auth0.ts`'s source (`sf` parsed with parent pointers). */
export function readDeletionConfig(sf: ts.SourceFile): DeletionConfig {
  let call: ts.CallExpression | undefined;
  const visit = (n: ts.Node) => {
    if (
      !call &&
      ts.isCallExpression(n) &&
      ts.isIdentifier(n.expression) &&
      n.expression.text === "configureAuth0Users"
    ) {
      call = n;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  const arg = call?.arguments[0];
  if (!arg || !ts.isObjectLiteralExpression(arg)) {
    return { mode: call ? "unknown" : "remove", hook: { kind: call ? "elsewhere" : "absent" } };
  }
  const prop = (name: string) =>
    arg.properties.find(
      (p) =>
        (ts.isPropertyAssignment(p) ||
          ts.isMethodDeclaration(p) ||
          ts.isShorthandPropertyAssignment(p)) &&
        p.name !== undefined &&
        (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) &&
        p.name.text === name,
    );
  const modeProp = prop("userDeletion");
  let mode: DeletionConfig["mode"] = "remove";
  if (modeProp) {
    const value = ts.isPropertyAssignment(modeProp) ? modeProp.initializer : undefined;
    mode =
      value &&
      ts.isStringLiteralLike(value) &&
      (value.text === "remove" || value.text === "anonymize")
        ? value.text
        : "unknown";
  }
  const hookProp = prop("onUserDeleted");
  let hook: DeletionConfig["hook"] = { kind: "absent" };
  if (hookProp) {
    const fn = ts.isMethodDeclaration(hookProp)
      ? hookProp
      : ts.isPropertyAssignment(hookProp) &&
          (ts.isArrowFunction(hookProp.initializer) ||
            ts.isFunctionExpression(hookProp.initializer))
        ? hookProp.initializer
        : undefined;
    if (!fn || !fn.body) hook = { kind: "elsewhere" };
    else if (ts.isBlock(fn.body) && fn.body.statements.length === 0) hook = { kind: "empty" };
    else {
      const names = new Set<string>();
      const strings = (n: ts.Node) => {
        if (ts.isStringLiteralLike(n)) names.add(n.text);
        ts.forEachChild(n, strings);
      };
      strings(fn.body);
      hook = { kind: "body", names };
    }
  }
  return { options: arg, mode, hook };
}

/**
 * Whether a deletion leaves `refs` dangling under `config`: fail for `remove` with a hook that
 * does nothing, warn when it cannot tell or the hook never names a referencing table.
 */
export function deletionVerdict(
  refs: UserReference[],
  config: DeletionConfig,
  file: string,
): Pick<CheckResult, "status" | "detail"> {
  if (refs.length === 0) {
    return { status: "pass", detail: 'no table of yours holds v.id("users")' };
  }
  const list = referencesText(refs);
  const variable =
    "(AUTH0_USER_DELETION on the deployment, when set, wins over the code: leave it unset or anonymize)";
  if (config.mode === "anonymize") {
    return {
      status: "pass",
      detail: `userDeletion: "anonymize" keeps the rows ${list} reference ${variable}`,
    };
  }
  if (config.mode === "unknown") {
    return {
      status: "warn",
      detail: `${file}'s userDeletion is not "remove" or "anonymize" as written: make sure a deleted user's rows in ${list} do not dangle`,
    };
  }
  const fix = `write userDeletion: "anonymize" in configureAuth0Users({ … }) in ${file} (the row stays, its Auth0 facts cleared), or make onUserDeleted delete or rewrite what ${list} point at ${variable}`;
  if (config.hook.kind === "absent" || config.hook.kind === "empty") {
    return {
      status: "fail",
      detail: `a user deleted in Auth0 is removed (userDeletion is remove, the default) and onUserDeleted does nothing, so ${list} would point at nothing (ctx.db.get returns null, and a query that assumes a user throws for every reader): ${fix}`,
    };
  }
  if (config.hook.kind === "elsewhere") {
    return {
      status: "warn",
      detail: `userDeletion is remove and onUserDeleted is defined elsewhere: make sure it deletes or rewrites what ${list} point at`,
    };
  }
  const names = config.hook.names;
  const unnamed = [...new Set(refs.map((r) => r.table))].filter((t) => !names.has(t));
  if (unnamed.length > 0) {
    return {
      status: "warn",
      detail: `userDeletion is remove and onUserDeleted never names ${unnamed.join(", ")}: ${refs
        .filter((r) => unnamed.includes(r.table))
        .map((r) => `${r.table}.${r.path}`)
        .join(", ")} would dangle; ${fix}`,
    };
  }
  return { status: "pass", detail: `userDeletion is remove and onUserDeleted handles ${list}` };
}
