/**
 * convex/auth.config.ts: the module's `auth0Providers()` (the tenant domain and the custom domain,
 * throwing when AUTH0_DOMAIN or AUTH0_CLIENT_ID is unset) as the first element of the app's
 * `providers: [` array, or a new file when the app has none.
 */
import ts from "typescript";
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
    // An Auth0 provider the app wrote itself: auth0Providers() covers the same tenant.
    for (const el of value.elements) {
      const domain = ts.isObjectLiteralExpression(el)
        ? el.properties.find(
            (p): p is ts.PropertyAssignment =>
              ts.isPropertyAssignment(p) && propertyName(p.name) === "domain",
          )
        : undefined;
      if (domain && /AUTH0_DOMAIN|\.auth0\.com/.test(domain.initializer.getText(sf))) {
        const line = sf.getLineAndCharacterOfPosition(el.getStart(sf)).line + 1;
        notes.push(
          `the provider at ${file}:${line} looks like Auth0's: ${PROVIDERS}() covers the tenant (AUTH0_DOMAIN) and AUTH0_CUSTOM_DOMAIN now; remove yours`,
        );
      }
    }
    if (!present) {
      const open = value.getStart(sf); // the `[`
      const first = value.elements[0];
      let text: string;
      if (!first) text = `...${PROVIDERS}()`;
      else if (sameLine(source, open, first.getStart(sf))) text = `...${PROVIDERS}(), `;
      else text = `\n${lineIndent(source, first.getStart(sf))}...${PROVIDERS}(),`;
      edits.push({ pos: open + 1, end: open + 1, text });
    }
  }
  const imp = importEdit(sf, server, [PROVIDERS]);
  if (imp) edits.push(imp);
  if (edits.length === 0) return { kind: "done", notes };
  return { kind: "edit", after: applyEdits(source, edits), notes };
}
