/**
 * convex/auth.config.ts: the module's `auth0Providers()` (the tenant domain and the custom domain,
 * throwing when AUTH0_DOMAIN or AUTH0_CLIENT_ID is unset) as the first element of the app's
 * `providers: [` array, or a new file when the app has none.
 */
import ts from "typescript";
import { commentsWithin } from "./comments";
import {
  allNodes,
  applyEdits,
  boundElsewhere,
  importEdit,
  importLine,
  isCallOf,
  lineIndent,
  parse,
  propertyName,
  sameLine,
  unwrap,
  type Edit,
  type PatchResult,
} from "./sourceEdits";

const PROVIDERS = "auth0Providers";

/** The whole file for an app that has none. */
export function newAuthConfig(server: string): string {
  return [
    `import type { AuthConfig } from "convex/server";`,
    importLine([PROVIDERS], server),
    "",
    `export default { providers: ${PROVIDERS}() } satisfies AuthConfig;`,
    "",
  ].join("\n");
}

/** Whether `element` is `...auth0Providers()`. */
function isModuleSpread(element: ts.Expression): boolean {
  return ts.isSpreadElement(element) && isCallOf(unwrap(element.expression), PROVIDERS);
}

/** Adds `...auth0Providers(),` to an existing providers array, or says why it cannot. */
export function patchAuthConfig(file: string, source: string, server: string): PatchResult {
  const sf = parse(file, source);
  const hand = (reason: string): PatchResult => ({
    kind: "by-hand",
    reason,
    lines: [importLine([PROVIDERS], server), `...${PROVIDERS}(),  // first in \`providers: [\``],
    notes: [],
  });
  if (boundElsewhere(sf, [PROVIDERS], server).length > 0) {
    return hand(`\`${PROVIDERS}\` already names something else in this file`);
  }
  const providers = allNodes(sf).filter(
    (n): n is ts.PropertyAssignment =>
      ts.isPropertyAssignment(n) && propertyName(n.name) === "providers",
  );
  if (providers.length !== 1) {
    return hand(
      providers.length === 0
        ? "no `providers:` property"
        : `${providers.length} \`providers:\` properties: cannot tell which one Convex reads`,
    );
  }
  const value = unwrap(providers[0].initializer);
  const edits: Edit[] = [];
  const notes: string[] = [];
  let present = isCallOf(value, PROVIDERS);
  if (!present) {
    if (!ts.isArrayLiteralExpression(value)) {
      return hand("`providers` is not an array literal (`providers: [ … ]`)");
    }
    present = value.elements.some(isModuleSpread);
    // The app's own providers of the tenant: those computed from the very variables the module
    // reads (AUTH0_DOMAIN or AUTH0_CUSTOM_DOMAIN, with AUTH0_CLIENT_ID) go, replaced by
    // auth0Providers(), so the array does not end with the same tenant twice; others that look
    // like Auth0 (a literal *.auth0.com, another variable) are named, to be checked.
    const resolve = constTexts(sf);
    const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    const replaced: ts.Expression[] = [];
    for (const el of value.elements) {
      const domain = field(el, "domain");
      if (!domain) continue;
      const domainText = resolve(domain);
      const clientText = resolve(field(el, "applicationID"));
      const commented = commentsWithin(sf, el, el.getStart(sf), el.end).length > 0;
      if (
        !present &&
        !commented &&
        /\bAUTH0_(CUSTOM_)?DOMAIN\b/.test(domainText) &&
        /\bAUTH0_CLIENT_ID\b/.test(clientText)
      ) {
        replaced.push(el);
        notes.push(
          `the provider at ${file}:${line(el)} (\`${domain.getText(sf).replace(/\s+/g, " ")}\`) is the tenant ${PROVIDERS}() names (AUTH0_DOMAIN, and AUTH0_CUSTOM_DOMAIN when set, with AUTH0_CLIENT_ID): replaced by it`,
        );
      } else if (/AUTH0|\.auth0\.com/.test(domainText)) {
        notes.push(
          `the provider at ${file}:${line(el)} looks like Auth0's: ${PROVIDERS}() covers the tenant (AUTH0_DOMAIN) and AUTH0_CUSTOM_DOMAIN now; remove yours`,
        );
      }
    }
    if (!present) edits.push(...providerEdits(source, sf, value, replaced));
  }
  const imp = importEdit(sf, server, [PROVIDERS]);
  if (imp) edits.push(imp);
  if (edits.length === 0) return { kind: "done", notes };
  return { kind: "edit", after: applyEdits(source, edits), notes };
}

/** The `name:` property of a provider object, if written so. */
function field(el: ts.Expression, name: string): ts.Expression | undefined {
  if (!ts.isObjectLiteralExpression(el)) return undefined;
  for (const q of el.properties) {
    // `{ domain }` reads the const of that name.
    if (ts.isShorthandPropertyAssignment(q) && q.name.text === name) return q.name;
    if (ts.isPropertyAssignment(q) && propertyName(q.name) === name) return q.initializer;
  }
  return undefined;
}

/** An expression's text with the file's top-level consts it names spelled out (a domain read
 * into `const domain = process.env.AUTH0_DOMAIN` first). */
function constTexts(sf: ts.SourceFile): (e: ts.Expression | undefined) => string {
  const consts = new Map<string, ts.Expression>();
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.initializer) consts.set(d.name.text, d.initializer);
    }
  }
  const text = (e: ts.Node, depth: number): string => {
    if (ts.isIdentifier(e) && consts.has(e.text) && depth < 10) {
      return text(consts.get(e.text)!, depth + 1);
    }
    const kids = e.getChildren(sf);
    return kids.length === 0 ? e.getText(sf) : kids.map((k) => text(k, depth)).join(" ");
  };
  return (e) => (e ? text(e, 0) : "");
}

/** `...auth0Providers()` first in the array, and the `replaced` providers taken out, whole
 * lines when they stand on their own lines. */
function providerEdits(
  source: string,
  sf: ts.SourceFile,
  array: ts.ArrayLiteralExpression,
  replaced: ts.Expression[],
): Edit[] {
  const open = array.getStart(sf); // the `[`
  const close = array.end - 1; // the `]`
  const spread = `...${PROVIDERS}()`;
  const kept = array.elements.filter((e) => !replaced.includes(e));
  const first = array.elements[0];
  if (!first) return [{ pos: open + 1, end: open + 1, text: spread }];
  const multiline = !sameLine(source, open, first.getStart(sf));
  if (kept.length === 0) {
    // Every provider was the tenant's: the array holds the module's alone.
    const text = multiline
      ? `\n${lineIndent(source, first.getStart(sf))}${spread},\n${lineIndent(source, close)}`
      : spread;
    return [{ pos: open + 1, end: close, text }];
  }
  const edits: Edit[] = [
    multiline
      ? {
          pos: open + 1,
          end: open + 1,
          text: `\n${lineIndent(source, first.getStart(sf))}${spread},`,
        }
      : { pos: open + 1, end: open + 1, text: `${spread}, ` },
  ];
  const handled = new Set<ts.Expression>();
  for (const el of replaced) {
    if (handled.has(el)) continue;
    const i = array.elements.indexOf(el);
    const next = array.elements[i + 1];
    const lineStart = source.lastIndexOf("\n", el.getStart(sf) - 1) + 1;
    const after = /^[ \t]*,?[ \t]*\n/.exec(source.slice(el.end));
    const ownLines =
      source.slice(lineStart, el.getStart(sf)).trim() === "" &&
      after !== null &&
      (!next || !sameLine(source, el.end, next.getStart(sf)));
    if (ownLines) {
      edits.push({ pos: lineStart, end: el.end + after[0].length, text: "" });
    } else if (next) {
      edits.push({ pos: el.getStart(sf), end: next.getStart(sf), text: "" });
    } else {
      // The last one, inline: from the end of the last provider kept before it, with what
      // (replaced too) lies between.
      let k = i - 1;
      while (replaced.includes(array.elements[k])) handled.add(array.elements[k--]);
      const from = array.elements[k].end;
      for (const e of edits) if (e.end > from && e.pos > open + 1) e.end = e.pos = from;
      edits.push({ pos: from, end: el.end, text: "" });
    }
  }
  return edits;
}
