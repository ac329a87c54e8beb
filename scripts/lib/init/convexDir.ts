/**
 * Where the app's Convex functions live: `convex.json`'s `functions` field (as the Convex CLI
 * reads it), else `convex/`, relative to the app's root.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";

/** The Convex folder, or the problem that stops init (exit 2). */
export function findConvexDir(root: string): { dir: string } | { error: string } {
  const configPath = resolve(root, "convex.json");
  let functions = "convex/";
  let from = "the default";
  if (existsSync(configPath)) {
    let config: unknown;
    try {
      config = JSON.parse(readFileSync(configPath, "utf8"));
    } catch (err) {
      return { error: `convex.json is not valid JSON (${(err as Error).message})` };
    }
    const field = (config as { functions?: unknown } | null)?.functions;
    if (field !== undefined) {
      if (typeof field !== "string" || field.trim() === "") {
        return {
          error: `convex.json's "functions" must be a folder path (got ${JSON.stringify(field)})`,
        };
      }
      functions = field;
      from = `convex.json's "functions"`;
    }
  }
  const dir = resolve(root, functions);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return {
      error: `no Convex folder at ${dir} (${from}): run init in your app's root (or pass --dir <app>), after \`npm create convex\` or \`npx convex dev\` made the folder`,
    };
  }
  return { dir };
}
