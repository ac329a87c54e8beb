/**
 * Carries out `init`'s plan without ever overwriting what someone else wrote. A new file is
 * created exclusively (O_EXCL: if it appeared meanwhile, it stays as it is). An existing one is
 * replaced by a temp file renamed over it, and only while it still holds exactly the bytes the
 * plan was computed from: checked before the temp file is written, again after (through a hard
 * link that pins the file's inode, so a save that replaces the file is seen too), and once more
 * after the rename, when a write that landed in the old file in between is put back in place.
 * What is left unguarded is a save that replaces the file (a new inode) in the instant between
 * the last check and the rename. Every write is re-checked against the plan's rules first: inside
 * the app, a regular file with one link, writable.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { FileAction } from "./plan";
import { editProblem, outsideApp } from "./targetFile";

export interface ApplyResult {
  /** Files written, as shown. */
  written: string[];
  /** Files left alone because they changed since planning (or a write failed), with why. */
  skipped: { shown: string; reason: string }[];
}

const CHANGED = "changed since the plan was made: not written, run init again";

/** Writes `bytes` to a new file at `path` (failing if it exists) and flushes it to disk. */
function writeNew(path: string, bytes: Uint8Array, mode?: number): void {
  const fd = openSync(path, "wx", mode);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces the file at `path` with `after` if it still holds `before`; returns why not
 * otherwise. Leaves no temp file or pin behind.
 */
function replaceIfUnchanged(path: string, before: Buffer, after: Buffer): string | undefined {
  const stat = lstatSync(path);
  const cannot = editProblem(path, stat);
  if (cannot) return `${cannot}: not written`;
  if (!readFileSync(path).equals(before)) return CHANGED;
  const temp = join(dirname(path), `.${basename(path)}.init-${process.pid}.tmp`);
  const pin = join(dirname(path), `.${basename(path)}.init-${process.pid}.orig`);
  let renamed = false;
  try {
    writeNew(temp, after, stat.mode & 0o7777);
    // The pin is a second name for the file as it is now: whatever happens to `path` from here
    // on, these bytes stay readable, and any write into this inode shows in them.
    linkSync(path, pin);
    const pinned = lstatSync(pin);
    if (lstatSync(path).ino !== pinned.ino || !readFileSync(pin).equals(before)) return CHANGED;
    renameSync(temp, path);
    renamed = true;
    if (!readFileSync(pin).equals(before)) {
      // A write into the old file landed between the check and the rename: it is theirs, put it
      // back (ours is the one to lose).
      renameSync(pin, path);
      return `changed while init was writing it: your version is back in place, init's change is not written; run init again`;
    }
    return undefined;
  } finally {
    rmSync(pin, { force: true });
    if (!renamed) rmSync(temp, { force: true });
  }
}

/** Applies every create and edit of `files`, each on its own; the others are not touched. */
export function applyPlan(files: FileAction[]): ApplyResult {
  const result: ApplyResult = { written: [], skipped: [] };
  for (const f of files) {
    try {
      if (f.kind === "create") {
        // A folder swapped for a link since the plan must not carry the file elsewhere: checked
        // before the folder is made and again before the file is.
        let outside = outsideApp(f.path, f.root);
        if (!outside) {
          mkdirSync(dirname(f.path), { recursive: true });
          outside = outsideApp(f.path, f.root);
        }
        if (outside) {
          result.skipped.push({ shown: f.shown, reason: `${outside}: not written` });
          continue;
        }
        writeNew(f.path, Buffer.from(f.after, "utf8"));
      } else if (f.kind === "edit") {
        const outside = outsideApp(f.path, f.root);
        const why =
          outside !== undefined
            ? `${outside}: not written`
            : replaceIfUnchanged(
                f.path,
                Buffer.from(f.before, "utf8"),
                Buffer.from(f.after, "utf8"),
              );
        if (why !== undefined) {
          result.skipped.push({ shown: f.shown, reason: why });
          continue;
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
