/**
 * `convex-auth0-users/testing` runs where an app's convex-test tests run, vitest's `edge-runtime`
 * environment: nothing it loads may need a Node built-in. Bundled as Convex bundles functions
 * (esbuild, platform `browser`, conditions `convex` and `module`), every import it reaches,
 * packages included, must resolve without one. The bundle would fail on `node:*`, `fs`, `crypto`.
 * Cost: one esbuild bundle, under a second.
 */
import { builtinModules } from "node:module";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

test("the testing entry bundles for a browser-like runtime, with no Node built-in", async () => {
  const result = await build({
    entryPoints: [join(ROOT, "testing/index.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    conditions: ["convex", "module"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  expect(result.errors).toEqual([]);
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const imports = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.map((i) => i.path),
  );
  expect(imports.filter((path) => builtins.has(path))).toEqual([]);
  // It reaches the module's own code (the routes' constants, the signer) and jose.
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toContain("server/http/signedRequest.ts");
  expect(inputs.some((path) => path.includes("node_modules/jose/"))).toBe(true);
});
