/**
 * `init`'s writes racing the app's editor: a save that lands while init replaces a file is
 * never lost. The file system calls of scripts/lib/init/apply.ts are the real ones; a save is
 * slipped in at the exact moment under test (right before the rename, right after the temp file).
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test, vi } from "vitest";
import { ROOT } from "../../scripts/lib/childProcess";
import { applyPlan } from "../../scripts/lib/init/apply";
import { PACKAGE_SPECIFIERS, planInit } from "../../scripts/lib/init/plan";
import { appFolders } from "./helpers/initApps";

/** What the app's editor does next, when init reaches `renameSync` or `linkSync` (once each). */
const editor = vi.hoisted(() => ({
  beforeRename: undefined as ((from: string, to: string) => void) | undefined,
  beforeLink: undefined as ((existing: string) => void) | undefined,
}));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const renameSync: typeof fs.renameSync = (from, to) => {
    const save = editor.beforeRename;
    editor.beforeRename = undefined;
    save?.(String(from), String(to));
    fs.renameSync(from, to);
  };
  const linkSync: typeof fs.linkSync = (existing, path) => {
    const save = editor.beforeLink;
    editor.beforeLink = undefined;
    save?.(String(existing));
    fs.linkSync(existing, path);
  };
  return { ...fs, default: { ...fs, renameSync, linkSync }, renameSync, linkSync };
});

const { app } = appFolders("init-apply-");
const HTTP = `import { httpRouter } from "convex/server";

const http = httpRouter();

export default http;
`;
const SAVED = `${HTTP}// saved by the editor\n`;

function planned() {
  const dir = app({ "convex/http.ts": HTTP });
  const plan = planInit({
    root: dir,
    convexDir: join(dir, "convex"),
    ...PACKAGE_SPECIFIERS,
    packageRoot: ROOT,
  });
  return { dir, http: join(dir, "convex/http.ts"), files: plan.files };
}
const leftovers = (dir: string) =>
  readdirSync(join(dir, "convex")).filter((f) => f.includes("init-"));

describe("a save while init writes the file", () => {
  test("written into the file between init's last check and its rename: the save is kept", () => {
    const { dir, http, files } = planned();
    let saved = false;
    editor.beforeRename = (_from, to) => {
      if (to !== http) return;
      writeFileSync(http, SAVED); // in place, as many editors save
      saved = true;
    };
    const result = applyPlan(files);
    expect(saved).toBe(true);
    expect(readFileSync(http, "utf8")).toBe(SAVED);
    expect(result.skipped).toEqual([
      {
        shown: "convex/http.ts",
        reason:
          "changed while init was writing it: your version is back in place, init's change is not written; run init again",
      },
    ]);
    expect(result.written).toContain("convex/crons.ts");
    expect(leftovers(dir)).toEqual([]);
  });

  test("saved as a new file renamed over it, after init wrote its temp file: the save is kept", () => {
    const { dir, http, files } = planned();
    let saved = false;
    editor.beforeLink = (existing) => {
      if (existing !== http) return;
      writeFileSync(`${http}.swp`, SAVED);
      renameSync(`${http}.swp`, http);
      saved = true;
    };
    const result = applyPlan(files);
    expect(saved).toBe(true);
    expect(readFileSync(http, "utf8")).toBe(SAVED);
    expect(result.skipped.map((s) => s.shown)).toEqual(["convex/http.ts"]);
    expect(leftovers(dir)).toEqual([]);
  });

  test("no save: the file is replaced, and nothing of init's is left beside it", () => {
    const { dir, http, files } = planned();
    expect(applyPlan(files).skipped).toEqual([]);
    expect(readFileSync(http, "utf8")).toContain("registerRoutes(http);");
    expect(leftovers(dir)).toEqual([]);
  });
});
