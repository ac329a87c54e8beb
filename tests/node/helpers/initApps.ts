/**
 * Temporary app folders for `init`'s tests, `init` run on them as a user runs it, and snapshots
 * of their files that tell whether anything was written.
 */
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";
import { runScript, type Run } from "../../../scripts/lib/childProcess";

/** A work folder (removed after the test file), app folders in it, and `init` run on them. */
export function appFolders(prefix: string) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let n = 0;
  return {
    work,
    /** A fresh app folder holding `files` (path -> text or bytes). */
    app(files: Record<string, string | Uint8Array>): string {
      const dir = join(work, `app${n++}`);
      mkdirSync(dir);
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      return dir;
    },
    /** `convex-auth0-users init --dir <dir> ...args`, as a child process. */
    init(dir: string, ...args: string[]): Promise<Run> {
      return runScript("init", ["--dir", dir, ...args], {
        env: { PATH: process.env.PATH },
        cwd: work,
      });
    },
  };
}

/**
 * Every file under `dir` with its mtime and bytes, and with `folders` every folder with its
 * mtime too (a file created and removed again changes it): equal snapshots mean nothing was
 * written.
 */
export function snapshot(dir: string, folders = false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      const full = join(dir, rel);
      const mtime = lstatSync(full, { bigint: true }).mtimeNs;
      if (e.isDirectory()) {
        if (folders) out[`${rel}/`] = `${mtime}`;
        walk(rel);
      } else out[rel] = `${mtime} ${readFileSync(full).toString("base64")}`;
    }
  };
  if (folders) out["./"] = `${lstatSync(dir, { bigint: true }).mtimeNs}`;
  walk("");
  return out;
}
