/**
 * Backup files: under `backups/` in the working directory (git-ignored), the directory owner-only
 * (0700) and each file owner-only (0600), since they hold every user's email and profile.
 * Written as NDJSON, one record per line, so a backup of any size streams and can be read back
 * line by line.
 */
import { once } from "node:events";
import type { WriteStream } from "node:fs";
import { chmod, mkdir, open } from "node:fs/promises";
import { join, resolve } from "node:path";

/** Where backups go: `backups/` under the working directory. */
export const backupDir = (cwd = process.cwd()) => resolve(cwd, "backups");

/** `20261122T120000Z`: sortable, and safe in a file name. */
export function stamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

export interface BackupWriter {
  path: string;
  /** Appends one record (a line of JSON), waiting when the disk is slower than the data. */
  write(record: unknown): Promise<void>;
  /** Flushes and closes; the backup is complete only after this resolves. */
  close(): Promise<void>;
  count: number;
}

/** Creates `backups/<name>-<stamp>.ndjson` (never overwriting a file) and returns a writer. */
export async function createBackup(name: string, dir = backupDir()): Promise<BackupWriter> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const base = `${name}-${stamp()}`;
  let path = "";
  let handle;
  for (let n = 0; !handle; n++) {
    path = join(dir, n === 0 ? `${base}.ndjson` : `${base}-${n}.ndjson`);
    try {
      handle = await open(path, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n > 100) throw err;
    }
  }
  // The stream owns the FileHandle: a bare fd would leave the handle to be closed by the garbage
  // collector, possibly while the stream still writes to it.
  const stream: WriteStream = handle.createWriteStream();
  const writer: BackupWriter = {
    path,
    count: 0,
    async write(record) {
      writer.count++;
      if (!stream.write(`${JSON.stringify(record)}\n`)) await once(stream, "drain");
    },
    async close() {
      await new Promise<void>((ok, fail) => {
        stream.once("error", fail);
        stream.end(() => ok());
      });
    },
  };
  return writer;
}

/** Writes `records` to a new backup and returns its path once it is complete on disk. */
export async function writeBackup(name: string, records: Iterable<unknown>, dir?: string) {
  const writer = await createBackup(name, dir);
  for (const record of records) await writer.write(record);
  await writer.close();
  return writer.path;
}
