/**
 * `npm run build:package`: compiles the package's entry points (server/, react/ and testing/, see
 * tsconfig.build.json) to ESM JavaScript and declarations in dist/, then gives every relative
 * import in the output its file extension. The sources import `./users` (bundler resolution, as
 * Convex's esbuild reads them); Node's ESM loader and TypeScript's node16 resolution need
 * `./users.js`. Any relative import that names no emitted file fails the build: it would fail in
 * the app.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = resolve(ROOT, "dist");

/** `from "./x"`, `import "./x"`, `import("./x")` (declarations' inline types), `export * from`. */
const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)(["'])(\.\.?\/[^"'\n]*)\2/g;

/** Every file under `dir`. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/**
 * The specifier with its extension, as found next to `file` in the output: `./x` becomes
 * `./x.js` or `./x/index.js`. Throws when neither was emitted.
 */
export function withExtension(file: string, specifier: string): string {
  if (/\.(js|mjs|cjs|json)$/.test(specifier)) return specifier;
  const declarations = file.endsWith(".d.ts");
  const base = resolve(dirname(file), specifier);
  for (const candidate of [specifier + ".js", specifier + "/index.js"]) {
    const emitted = resolve(dirname(file), candidate);
    if (existsSync(declarations ? emitted.replace(/\.js$/, ".d.ts") : emitted)) return candidate;
  }
  throw new Error(
    `${relative(ROOT, file)} imports "${specifier}", which the build did not emit (${relative(ROOT, base)}): ` +
      "the package's entry points may import only server/, react/ and testing/ files and packages",
  );
}

/** Rewrites the relative specifiers of one emitted file; returns how many changed. */
export function fixSpecifiers(file: string, source: string): { text: string; changed: number } {
  let changed = 0;
  const text = source.replace(
    RELATIVE_SPECIFIER,
    (whole, lead: string, quote: string, spec: string) => {
      const fixed = withExtension(file, spec);
      if (fixed === spec) return whole;
      changed++;
      return `${lead}${quote}${fixed}${quote}`;
    },
  );
  return { text, changed };
}

function main(): number {
  rmSync(OUT, { recursive: true, force: true });
  const tsc = spawnSync(
    process.execPath,
    [resolve(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: ROOT, stdio: "inherit" },
  );
  if (tsc.status !== 0) {
    console.error("build:package: tsc failed");
    return 1;
  }
  let files = 0;
  let specifiers = 0;
  for (const file of walk(OUT).filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
    const { text, changed } = fixSpecifiers(file, readFileSync(file, "utf8"));
    if (changed > 0) writeFileSync(file, text);
    files++;
    specifiers += changed;
  }
  console.log(
    `build:package: ${files} files in dist/, ${specifiers} relative imports given their extension`,
  );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(`build:package: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
