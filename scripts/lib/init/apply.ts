/**
 * Carries out `init`'s plan without ever overwriting: a new file is created exclusively
 * (O_EXCL: if it appeared meanwhile, it stays as it is), an existing one is re-read just before
 * the write and replaced (temp file + rename, its mode kept) only if it still holds exactly what
 * the plan was computed from.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { FileAction } from "./plan";

export interface ApplyResult {
  /** Files written, as shown. */
  written: string[];
  /** Files left alone because they changed since planning (or a write failed), with why. */
  skipped: { shown: string; reason: string }[];
}

/** Applies every create and edit of `files`, each on its own; the others are not touched. */
export function applyPlan(files: FileAction[]): ApplyResult {
  const result: ApplyResult = { written: [], skipped: [] };
  for (const f of files) {
    try {
      if (f.kind === "create") {
        mkdirSync(dirname(f.path), { recursive: true });
        writeFileSync(f.path, f.after, { flag: "wx" });
      } else if (f.kind === "edit") {
        const stat = lstatSync(f.path);
        if (!stat.isFile() || readFileSync(f.path, "utf8") !== f.before) {
          result.skipped.push({
            shown: f.shown,
            reason: "changed since the plan was made: not written, run init again",
          });
          continue;
        }
        const temp = join(dirname(f.path), `.${basename(f.path)}.init-${process.pid}.tmp`);
        writeFileSync(temp, f.after, { flag: "wx", mode: stat.mode & 0o7777 });
        try {
          renameSync(temp, f.path);
        } catch (err) {
          rmSync(temp, { force: true });
          throw err;
        }
      } else continue;
      result.written.push(f.shown);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      result.skipped.push({
        shown: f.shown,
        reason:
          code === "EEXIST" && f.kind === "create"
            ? "appeared since the plan was made: left as it is, run init again"
            : `not written: ${(err as Error).message.split("\n")[0]}`,
      });
    }
  }
  return result;
}
