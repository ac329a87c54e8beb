/**
 * The doctor's check of the app's own code: places in `convex/` that look a row up by the
 * signed-in identity's `tokenIdentifier`, as the Convex docs teach
 * (`q.eq("tokenIdentifier", identity.tokenIdentifier)`). With an Auth0 custom domain the same
 * person signs in with another issuer, hence another tokenIdentifier, and such lookups miss;
 * the module's `getCurrentUser(ctx)` accepts every configured issuer. Syntax only (the
 * TypeScript parser, no type checker), no network, no variables.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";
import type { CheckResult } from "../convexPing";

export interface AppLookup {
  /** Path as given (the Convex folder joined with the file's path inside it). */
  file: string;
  line: number;
  column: number;
  /** The comparison's source text, on one line. */
  text: string;
}

/** What to do instead, printed with the places. */
export const LOOKUP_FIX =
  "use getCurrentUser(ctx) (or getCurrentUserOrThrow(ctx)) from convex-auth0-users/server: it finds the row under every configured issuer (an Auth0 custom domain gives the same person another tokenIdentifier). To reference a user from other tables, store the row's _id, not the tokenIdentifier";

/** Helpers (convex-helpers relationships) that look a row up by a value. */
const LOOKUP_HELPERS = new Set(["getOneFrom", "getOneFromOrThrow", "getManyFrom", "getManyVia"]);
const COMPARISONS = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);

/** The app's Convex source files: `.ts`/`.tsx` under `dir`, without `_generated`, declaration
 * files and tests (the module itself is in node_modules). Paths relative to `dir`, with `/`, sorted. */
export function appSourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== "_generated" && entry.name !== "node_modules") walk(rel);
      } else if (
        entry.isFile() &&
        /\.tsx?$/.test(entry.name) &&
        !entry.name.endsWith(".d.ts") &&
        // Convex ignores files with more than one dot (tests): they are not functions.
        entry.name.split(".").length === 2
      ) {
        out.push(rel);
      }
    }
  };
  walk("");
  return out.sort();
}

/** Strips what does not change a value: parentheses, `await`, `!`, `as`/`satisfies`. */
function unwrap(node: ts.Expression): ts.Expression {
  for (;;) {
    if (
      ts.isParenthesizedExpression(node) ||
      ts.isAwaitExpression(node) ||
      ts.isNonNullExpression(node) ||
      ts.isAsExpression(node) ||
      ts.isSatisfiesExpression(node) ||
      ts.isTypeAssertionExpression(node)
    ) {
      node = node.expression;
    } else return node;
  }
}

/** `….getUserIdentity()`. */
function isIdentityCall(node: ts.Expression): boolean {
  const n = unwrap(node);
  return (
    ts.isCallExpression(n) &&
    ts.isPropertyAccessExpression(n.expression) &&
    n.expression.name.text === "getUserIdentity"
  );
}

function isUserIdentityType(type: ts.TypeNode | undefined): boolean {
  if (!type) return false;
  if (ts.isUnionTypeNode(type)) return type.types.some(isUserIdentityType);
  return (
    ts.isTypeReferenceNode(type) &&
    (ts.isIdentifier(type.typeName) ? type.typeName.text : type.typeName.right.text) ===
      "UserIdentity"
  );
}

type Declaration = ts.VariableDeclaration | ts.ParameterDeclaration | ts.BindingElement;

/** The declaration `name` refers to at `from`: the nearest enclosing scope that declares it. */
function findDeclaration(name: string, from: ts.Node): Declaration | undefined {
  const declares = (
    d: ts.VariableDeclaration | ts.ParameterDeclaration,
  ): Declaration | undefined => {
    if (ts.isIdentifier(d.name)) return d.name.text === name ? d : undefined;
    return bindingIn(d.name);
  };
  const bindingIn = (pattern: ts.BindingPattern): ts.BindingElement | undefined => {
    for (const el of pattern.elements) {
      if (ts.isOmittedExpression(el)) continue;
      if (ts.isIdentifier(el.name)) {
        if (el.name.text === name) return el;
      } else {
        const inner = bindingIn(el.name);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  for (let scope: ts.Node | undefined = from.parent; scope; scope = scope.parent) {
    if (ts.isFunctionLike(scope)) {
      for (const p of scope.parameters) {
        const hit = declares(p);
        if (hit) return hit;
      }
    }
    if (
      (ts.isForStatement(scope) || ts.isForOfStatement(scope) || ts.isForInStatement(scope)) &&
      scope.initializer &&
      ts.isVariableDeclarationList(scope.initializer)
    ) {
      for (const d of scope.initializer.declarations) {
        const hit = declares(d);
        if (hit) return hit;
      }
    }
    if (
      ts.isBlock(scope) ||
      ts.isSourceFile(scope) ||
      ts.isModuleBlock(scope) ||
      ts.isCaseClause(scope) ||
      ts.isDefaultClause(scope)
    ) {
      for (const st of scope.statements) {
        if (!ts.isVariableStatement(st)) continue;
        for (const d of st.declarationList.declarations) {
          const hit = declares(d);
          if (hit) return hit;
        }
      }
    }
  }
  return undefined;
}

/** Whether `node` holds the signed-in user's identity (`await ctx.auth.getUserIdentity()`, a
 * variable initialized with it, or a parameter typed `UserIdentity`). */
function isIdentity(node: ts.Expression, seen = new Set<ts.Node>()): boolean {
  const n = unwrap(node);
  if (isIdentityCall(n)) return true;
  if (!ts.isIdentifier(n)) return false;
  const decl = findDeclaration(n.text, n);
  if (!decl || seen.has(decl)) return false;
  seen.add(decl);
  if (ts.isParameter(decl)) return isUserIdentityType(decl.type);
  if (ts.isVariableDeclaration(decl)) {
    return (
      isUserIdentityType(decl.type) || (!!decl.initializer && isIdentity(decl.initializer, seen))
    );
  }
  return false;
}

/** Whether `node` is the identity's tokenIdentifier: `identity.tokenIdentifier` (also with `?.`
 * or `!`), or a variable holding it (assigned or destructured). */
function isIdentityToken(node: ts.Expression, seen = new Set<ts.Node>()): boolean {
  const n = unwrap(node);
  // identity?.tokenIdentifier ?? "" (a default for the signed-out case)
  if (
    ts.isBinaryExpression(n) &&
    (n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken ||
      n.operatorToken.kind === ts.SyntaxKind.BarBarToken)
  ) {
    return isIdentityToken(n.left, seen);
  }
  if (ts.isPropertyAccessExpression(n) && n.name.text === "tokenIdentifier") {
    return isIdentity(n.expression);
  }
  if (
    ts.isElementAccessExpression(n) &&
    ts.isStringLiteralLike(n.argumentExpression) &&
    n.argumentExpression.text === "tokenIdentifier"
  ) {
    return isIdentity(n.expression);
  }
  if (!ts.isIdentifier(n)) return false;
  const decl = findDeclaration(n.text, n);
  if (!decl || seen.has(decl)) return false;
  seen.add(decl);
  if (ts.isVariableDeclaration(decl))
    return !!decl.initializer && isIdentityToken(decl.initializer, seen);
  if (ts.isBindingElement(decl)) {
    // const { tokenIdentifier } = identity;  const { tokenIdentifier: t } = identity;
    const key = decl.propertyName ?? decl.name;
    const pattern = decl.parent;
    const holder = pattern.parent;
    return (
      ts.isObjectBindingPattern(pattern) &&
      ts.isIdentifier(key) &&
      key.text === "tokenIdentifier" &&
      ts.isVariableDeclaration(holder) &&
      !!holder.initializer &&
      isIdentity(holder.initializer)
    );
  }
  return false;
}

/** A field of a stored row: `row.x`, `row["x"]`, or `q.field("x")`. */
function isField(node: ts.Expression): boolean {
  const n = unwrap(node);
  if (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) return true;
  return (
    ts.isCallExpression(n) &&
    ts.isPropertyAccessExpression(n.expression) &&
    n.expression.name.text === "field"
  );
}

/** The comparison that `node` is, when it compares a stored value with the identity's token. */
function lookupAt(node: ts.Node): boolean {
  if (ts.isCallExpression(node)) {
    const callee = node.expression;
    const name = ts.isPropertyAccessExpression(callee)
      ? callee.name.text
      : ts.isIdentifier(callee)
        ? callee.text
        : undefined;
    // q.eq("tokenIdentifier", token) in withIndex; q.eq(q.field("tokenIdentifier"), token) in filter
    if (name === "eq" && ts.isPropertyAccessExpression(callee) && node.arguments.length === 2) {
      return node.arguments.some((a) => isIdentityToken(a));
    }
    if (name && LOOKUP_HELPERS.has(name)) return node.arguments.some((a) => isIdentityToken(a));
    return false;
  }
  if (ts.isBinaryExpression(node) && COMPARISONS.has(node.operatorToken.kind)) {
    const { left, right } = node;
    return (isIdentityToken(left) && isField(right)) || (isIdentityToken(right) && isField(left));
  }
  return false;
}

/** Every lookup by the identity's tokenIdentifier in one file's source. */
export function findLookupsInSource(file: string, source: string): AppLookup[] {
  const kind = file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, kind);
  const found: AppLookup[] = [];
  const visit = (node: ts.Node) => {
    if (lookupAt(node)) {
      const start = node.getStart(sf);
      const { line, character } = sf.getLineAndCharacterOfPosition(start);
      found.push({
        file,
        line: line + 1,
        column: character + 1,
        text: node.getText(sf).replace(/\s+/g, " "),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Every lookup by the identity's tokenIdentifier in the app's files under `dir`. */
export function findAppLookups(dir: string): { files: number; lookups: AppLookup[] } {
  const files = appSourceFiles(dir);
  const lookups = files.flatMap((rel) =>
    findLookupsInSource(join(dir, ...rel.split("/")), readFileSync(join(dir, rel), "utf8")),
  );
  return { files: files.length, lookups };
}

/** Whether `dir` is a folder (the `--convex-dir` check). */
export function isFolder(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}

/** `file:line:col` of a lookup, relative to `cwd` when inside it. */
export function place(l: AppLookup, cwd = process.cwd()): string {
  const rel = relative(cwd, l.file);
  const shown = rel.startsWith("..") ? l.file : rel.split(sep).join("/");
  return `${shown}:${l.line}:${l.column}`;
}

/** The doctor's check: warns with each place and the fix; skips when `dir` is no folder.
 * Lookups `except` names (those of a function the doctor asks to delete) are left out. */
export function appLookupsCheck(
  dir: string,
  except: (l: AppLookup) => boolean = () => false,
): CheckResult {
  const base = { id: "app.lookups", title: "the app's functions find users under every issuer" };
  if (!isFolder(dir)) {
    return { ...base, status: "skip", detail: `no Convex folder at ${dir} (--convex-dir)` };
  }
  const found = findAppLookups(dir);
  const files = found.files;
  const lookups = found.lookups.filter((l) => !except(l));
  if (lookups.length === 0) {
    return {
      ...base,
      status: "pass",
      detail: `no lookup by identity.tokenIdentifier in ${files} app file(s) under ${dir}`,
    };
  }
  return {
    ...base,
    status: "warn",
    detail: `${lookups.length} lookup(s) by identity.tokenIdentifier miss users who sign in through another domain: ${LOOKUP_FIX}`,
    places: lookups.map((l) => `${place(l)}  ${l.text}`),
  };
}
