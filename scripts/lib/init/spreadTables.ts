/**
 * Which tables an object spread into the app's `defineSchema({ ... })` holds (`...appTables`,
 * `...authTables` from a package): a later spread that holds `users` replaces the module's table,
 * an earlier one is replaced by it. Told from the file itself when the spread names an object
 * literal declared there, else from TypeScript's checker over the app's files as they are on disk
 * (with the schema's text as init read it).
 */
import ts from "typescript";
import { propertyName, unwrap } from "./sourceEdits";

/** The table names `expr` holds, or undefined when they cannot be told. */
export type SpreadTables = (expr: ts.Expression) => readonly string[] | undefined;

/** The keys of an object literal, its spreads resolved with `resolve`; undefined if any cannot be. */
function literalKeys(
  obj: ts.ObjectLiteralExpression,
  resolve: (e: ts.Expression) => readonly string[] | undefined,
): string[] | undefined {
  const keys: string[] = [];
  for (const p of obj.properties) {
    if (ts.isSpreadAssignment(p)) {
      const inner = resolve(p.expression);
      if (inner === undefined) return undefined;
      keys.push(...inner);
      continue;
    }
    const name = p.name && propertyName(p.name);
    if (name === undefined) return undefined;
    keys.push(name);
  }
  return keys;
}

/**
 * Resolves what the file says itself: an object literal, or an identifier declared at the top of
 * the file as `const x = { ... }`.
 */
export function localSpreadTables(sf: ts.SourceFile): SpreadTables {
  const resolve = (expr: ts.Expression, depth = 0): readonly string[] | undefined => {
    if (depth > 20) return undefined;
    const e = unwrap(expr);
    if (ts.isObjectLiteralExpression(e)) return literalKeys(e, (x) => resolve(x, depth + 1));
    if (!ts.isIdentifier(e)) return undefined;
    for (const st of sf.statements) {
      if (!ts.isVariableStatement(st)) continue;
      if (!(st.declarationList.flags & ts.NodeFlags.Const)) continue;
      for (const d of st.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.name.text === e.text && d.initializer) {
          return resolve(d.initializer, depth + 1);
        }
      }
    }
    return undefined;
  };
  return (expr) => resolve(expr);
}

/** The checker's view: the app's files with their imports, no library types (they cost
 * seconds and tell nothing about which keys an object has). */
const CHECKER_OPTIONS: ts.CompilerOptions = {
  allowJs: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ESNext,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  types: [],
  noLib: true,
};

/**
 * Resolves through TypeScript's checker: the schema at `path` holding `text` (as init parsed
 * it), its imports resolved from the app's files and node_modules. Built on first use.
 */
export function checkerSpreadTables(path: string, text: string): SpreadTables {
  let program: ts.Program | undefined;
  return (expr) => {
    if (!program) {
      const host = ts.createCompilerHost(CHECKER_OPTIONS, true);
      const getSourceFile = host.getSourceFile.bind(host);
      host.getSourceFile = (file, language, ...rest) =>
        ts.sys.resolvePath(file) === ts.sys.resolvePath(path)
          ? ts.createSourceFile(file, text, language, true)
          : getSourceFile(file, language, ...rest);
      program = ts.createProgram({ rootNames: [path], options: CHECKER_OPTIONS, host });
    }
    const sf = program.getSourceFile(path);
    if (!sf) return undefined;
    const start = expr.getStart();
    const find = (n: ts.Node): ts.Node | undefined => {
      if (n.getStart(sf) === start && n.end === expr.end && n.kind === expr.kind) return n;
      if (n.pos > expr.end || n.end < start) return undefined;
      return ts.forEachChild(n, find);
    };
    const node = find(sf);
    if (!node) return undefined;
    const checker = program.getTypeChecker();
    const type = checker.getTypeAtLocation(node);
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return undefined;
    return checker.getPropertiesOfType(type).map((p) => p.name);
  };
}
