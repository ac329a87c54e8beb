import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { expect, test } from "vitest";

const CONVEX = resolve(import.meta.dirname, "../../convex");

/** Every function module Convex would push: files under convex/ except schema, auth config,
 * multi-dot files and _generated (platform-facts, "Code layout rules"). */
function functionModules(dir = CONVEX): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "_generated" ? [] : functionModules(full);
    if (!/\.(ts|js)$/.test(entry.name) || entry.name.split(".").length > 2) return [];
    const mod = relative(CONVEX, full).replace(/\.(ts|js)$/, "");
    return mod === "schema" ? [] : [mod];
  });
}

test("convex/_generated/api.d.ts lists every function module (run `npm run codegen` if not)", () => {
  const api = readFileSync(join(CONVEX, "_generated/api.d.ts"), "utf8");
  const modules = functionModules();
  expect(modules).toContain("auth0");
  expect(modules).toContain("http");
  const missing = modules.filter((m) => !api.includes(`from "../${m}.js"`));
  expect(missing, "modules missing from convex/_generated/api.d.ts").toEqual([]);
  // And nothing stale: every module it names still exists.
  const listed = [...api.matchAll(/from "\.\.\/(.+?)\.js"/g)].map((m) => m[1]);
  expect(listed.filter((m) => !modules.includes(m))).toEqual([]);
});

test("module paths use only the characters Convex accepts (no hyphens)", () => {
  for (const mod of functionModules()) expect(mod).toMatch(/^[A-Za-z0-9_./]+$/);
});
