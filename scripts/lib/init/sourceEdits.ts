/**
 * Textual edits located with the TypeScript parser: `init` changes an app's files by inserting
 * text at positions the syntax tree gives, so everything it does not touch (formatting,
 * comments) stays byte for byte.
 */
import ts from "typescript";

/** Replace `[pos, end)` of the source with `text` (an insertion when pos === end). */
export interface Edit {
  pos: number;
  end: number;
  text: string;
}

/** An app field the module takes over with a looser validator (a required `email` becomes the
 * module's optional one): the app's code that reads it may now get `undefined`. */
export interface LoosenedField {
  name: string;
  /** The app's validator, as written (whitespace squashed). */
  yours: string;
  /** The merged one: the module's. */
  merged: string;
}

/** What a patcher decides for one file. */
export type PatchResult =
  /** Everything is there already. */
  | { kind: "done"; notes: string[] }
  /** `loosened`: the app's users fields the module takes over with a looser validator. */
  | { kind: "edit"; after: string; notes: string[]; loosened?: LoosenedField[] }
  /** Nothing is changed; the user adds `lines` (reason says why it was not done). */
  | { kind: "by-hand"; reason: string; lines: string[]; notes: string[] }
  /** Init stops (nothing is written anywhere): adding the lines by hand would do harm too.
   * `problems` names every one the file has, so that one run tells all there is to change. */
  | { kind: "refused"; problems: string[]; notes: string[] };

/** The file parsed (JavaScript too), with parent pointers. */
export function parse(file: string, text: string): ts.SourceFile {
  const kind = /\.[cm]?jsx?$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
}

/** The file's syntax errors (no type checking), one line each: a file with any is not edited. */
export function syntaxErrors(file: string, text: string): string[] {
  const out = ts.transpileModule(text, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ESNext },
  });
  return (out.diagnostics ?? []).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (d.file && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      return `line ${line + 1}: ${message}`;
    }
    return message;
  });
}

/** `source` with `edits` applied (they must not overlap). */
export function applyEdits(source: string, edits: Edit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.pos - a.pos)) {
    out = out.slice(0, e.pos) + e.text + out.slice(e.end);
  }
  return out;
}

/** Every node of the tree, depth first. */
export function allNodes(sf: ts.SourceFile): ts.Node[] {
  const out: ts.Node[] = [];
  const visit = (n: ts.Node) => {
    out.push(n);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Strips what does not change a value: parentheses, `as`, `satisfies`, `!`. */
export function unwrap(node: ts.Expression): ts.Expression {
  while (
    ts.isParenthesizedExpression(node) ||
    ts.isAsExpression(node) ||
    ts.isSatisfiesExpression(node) ||
    ts.isNonNullExpression(node)
  ) {
    node = node.expression;
  }
  return node;
}

/** Whether `node` is a call of the plain identifier `name`: `name(...)`. */
export function isCallOf(node: ts.Node, name: string): node is ts.CallExpression {
  return (
    ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name
  );
}

/** Every call of `name(...)` in the file. */
export function callsOf(sf: ts.SourceFile, name: string): ts.CallExpression[] {
  return allNodes(sf).filter((n): n is ts.CallExpression => isCallOf(n, name));
}

/** A property's name when it is a plain identifier or string literal. */
export function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/** The whitespace that starts the line holding `pos`. */
export function lineIndent(text: string, pos: number): string {
  const start = text.lastIndexOf("\n", pos - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/** Whether two positions are on the same line. */
export function sameLine(text: string, a: number, b: number): boolean {
  return !text.slice(Math.min(a, b), Math.max(a, b)).includes("\n");
}

/** The value names imported (not `import type`) from `specifier`. */
export function importedNames(sf: ts.SourceFile, specifier: string): Set<string> {
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (!isImportFrom(st, specifier) || !st.importClause || st.importClause.isTypeOnly) continue;
    const bindings = st.importClause.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      for (const el of bindings.elements) {
        if (!el.isTypeOnly && (el.propertyName ?? el.name).text === el.name.text) {
          names.add(el.name.text);
        }
      }
    }
  }
  return names;
}

function isImportFrom(st: ts.Statement, specifier: string): st is ts.ImportDeclaration {
  return (
    ts.isImportDeclaration(st) &&
    ts.isStringLiteral(st.moduleSpecifier) &&
    st.moduleSpecifier.text === specifier
  );
}

/** How a file writes code: its quote, whether statements end in `;`, its indentation step. */
export interface FileStyle {
  quote: '"' | "'";
  semi: boolean;
  indent: string;
}

/** The style init writes in (a new file, or one with nothing to tell from). */
export const DEFAULT_STYLE: FileStyle = { quote: '"', semi: true, indent: "  " };

/** The file's own style, by majority: quotes of its string literals (not template strings),
 * `;` at the end of its top-level statements, tabs or the smallest run of leading spaces. */
export function fileStyle(sf: ts.SourceFile): FileStyle {
  let single = 0;
  let double = 0;
  const visit = (n: ts.Node) => {
    if (ts.isStringLiteral(n)) {
      if (sf.text[n.getStart(sf)] === "'") single++;
      else double++;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  let withSemi = 0;
  let without = 0;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) || ts.isExpressionStatement(st) || ts.isVariableStatement(st)) {
      if (sf.text[st.end - 1] === ";") withSemi++;
      else without++;
    }
  }
  return {
    quote: single > double ? "'" : '"',
    semi: withSemi >= without,
    indent: indentUnit(sf.text),
  };
}

/** `text` with the string literal `"value"` in the file's quote. */
export const quoted = (value: string, style: FileStyle) => `${style.quote}${value}${style.quote}`;

/** `import { a, b } from "specifier";` (in `style`'s quote and `;`). */
export function importLine(
  names: string[],
  specifier: string,
  style: FileStyle = DEFAULT_STYLE,
): string {
  return `import { ${names.join(", ")} } from ${quoted(specifier, style)}${style.semi ? ";" : ""}`;
}

/**
 * The edit that imports `names` from `specifier`: the missing names go into an existing
 * `import { … } from "specifier"`, else a new import line, in the file's quote and `;`, goes
 * where the file keeps its imports: at its sorted place when the file's imports are sorted by
 * module, else after the last import (at the top when it has none). Undefined when every name
 * is imported already.
 */
export function importEdit(
  sf: ts.SourceFile,
  specifier: string,
  names: string[],
): Edit | undefined {
  const have = importedNames(sf, specifier);
  const missing = names.filter((n) => !have.has(n));
  if (missing.length === 0) return undefined;
  for (const st of sf.statements) {
    if (!isImportFrom(st, specifier) || !st.importClause || st.importClause.isTypeOnly) continue;
    const bindings = st.importClause.namedBindings;
    if (bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0) {
      const last = bindings.elements[bindings.elements.length - 1];
      return { pos: last.end, end: last.end, text: missing.map((n) => `, ${n}`).join("") };
    }
  }
  const line = importLine(missing, specifier, fileStyle(sf));
  const imports = sf.statements.filter(ts.isImportDeclaration);
  if (imports.length === 0) return { pos: 0, end: 0, text: `${line}\n\n` };
  const from = imports.map((i) => (i.moduleSpecifier as ts.StringLiteral).text.toLowerCase());
  const sorted = imports.length > 1 && from.every((m, i) => i === 0 || from[i - 1] <= m);
  // Sorted imports stay sorted; an import goes before the first that sorts after it, on its line.
  const next = sorted ? imports.find((_, i) => from[i] > specifier.toLowerCase()) : undefined;
  if (next) {
    const at = next.getStart(sf);
    return { pos: at, end: at, text: `${line}\n${lineIndent(sf.text, at)}` };
  }
  const last = imports[imports.length - 1];
  return { pos: last.end, end: last.end, text: `\n${line}` };
}

/**
 * Which of `names` the file already binds to something else: imported from another module (or
 * as a type only), or declared at its top level. Importing them from `specifier` too would not
 * compile, so the patchers leave such a file to the user.
 */
export function boundElsewhere(sf: ts.SourceFile, names: string[], specifier: string): string[] {
  const ours = importedNames(sf, specifier);
  const bound = new Set<string>();
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && st.importClause) {
      const clause = st.importClause;
      if (clause.name) bound.add(clause.name.text);
      const b = clause.namedBindings;
      if (b && ts.isNamespaceImport(b)) bound.add(b.name.text);
      if (b && ts.isNamedImports(b)) for (const el of b.elements) bound.add(el.name.text);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (ts.isIdentifier(d.name)) bound.add(d.name.text);
      }
    } else if (
      (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) &&
      st.name !== undefined
    ) {
      bound.add(st.name.text);
    }
  }
  return names.filter((n) => bound.has(n) && !ours.has(n));
}

/** The file's indentation step: a tab, or the smallest run of leading spaces (default 2). */
export function indentUnit(source: string): string {
  let tabs = 0;
  let smallest = Infinity;
  for (const line of source.split("\n")) {
    const m = /^([ \t]+)\S/.exec(line);
    if (!m || line.trimStart().startsWith("*")) continue;
    if (m[1].startsWith("\t")) tabs++;
    else smallest = Math.min(smallest, m[1].length);
  }
  if (tabs > 0 && smallest === Infinity) return "\t";
  return smallest === Infinity ? "  " : " ".repeat(smallest);
}
