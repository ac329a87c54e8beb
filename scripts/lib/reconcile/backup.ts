/**
 * Backup files: under `backups/` in the working directory (git-ignored), the directory owner-only
 * (0700) and each file owner-only (0600), since they hold every user's email and profile.
 * Written as NDJSON, one record per line, so a backup of any size streams and can be read back
 * line by line.
 *
 * A backup is written under a temporary name (`.<name>.partial`) through ./provenFile.ts (every
 * byte written, fsynced, read back and counted), then linked to its final name (never replacing
 * a file) and the directory fsynced: a file with a final name is always complete and on disk. A
 * failed or short write removes the temporary file.
 */
import { chmod, link, mkdir, open, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { ReconcileError } from "./errors";
import {
  createProvenFile,
  describeWriteFailure,
  IncompleteWriteError,
  type ProvenFile,
} from "./provenFile";

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
  /** The final path: it exists only once {@link close} has resolved. */
  path: string;
  /** Appends one record (a line of JSON), waiting when the disk is slower than the data. */
  write(record: unknown): Promise<void>;
  /** Writes what is buffered, proves the file complete (fsynced, read back, counted) and gives
   * it its final name; the backup is complete only then. */
  close(): Promise<void>;
  /** Removes what this writer wrote (the partial file, or the published one after a later
   * failure of the command); safe to call more than once. */
  abort(): Promise<void>;
  count: number;
}

/**
 * Creates `<path>` with `make`, or the first free `<base>-n` variant when the name is taken
 * (another run of the same second); never opens an existing file.
 */
export async function firstFreeName<T>(
  dir: string,
  name: (n: number) => string,
  make: (path: string) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await make(join(dir, name(n)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n > 100) throw err;
    }
  }
}

/** Fsyncs a directory so a new name in it survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes `dir` (owner-only) if needed. */
export async function ownerOnlyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Creates a backup writer for `backups/<name>-<stamp>.ndjson` (see the module comment). */
export async function createBackup(name: string, dir = backupDir()): Promise<BackupWriter> {
  await ownerOnlyDir(dir);
  const base = `${name}-${stamp()}`;
  const temp: ProvenFile = await firstFreeName(
    dir,
    (n) => `.${n === 0 ? base : `${base}-${n}`}.partial`,
    createProvenFile,
  );
  // Lines are gathered and written 64 KiB at a time; each write is awaited, so memory stays
  // bounded whatever the size.
  let buffer: string[] = [];
  let buffered = 0;
  const flush = async () => {
    if (buffer.length === 0) return;
    const chunk = buffer.join("");
    const lines = buffer.length;
    buffer = [];
    buffered = 0;
    await temp.append(chunk, lines);
  };
  let state: "open" | "closed" | "aborted" = "open";
  const writer: BackupWriter = {
    path: join(dir, `${base}.ndjson`),
    count: 0,
    async write(record) {
      if (state !== "open") throw new Error(`backup ${basename(writer.path)} is ${state}`);
      const line = `${JSON.stringify(record)}\n`;
      writer.count++;
      buffer.push(line);
      buffered += line.length;
      if (buffered >= 64 * 1024) await flush();
    },
    async close() {
      if (state !== "open") throw new Error(`backup ${basename(writer.path)} is already ${state}`);
      await flush();
      await temp.prove();
      if (temp.provenRecords !== writer.count) {
        throw new IncompleteWriteError(
          temp.path,
          `${temp.provenRecords} records on disk, ${writer.count} meant`,
        );
      }
      await temp.close();
      writer.path = await firstFreeName(
        dir,
        (n) => (n === 0 ? `${base}.ndjson` : `${base}-${n}.ndjson`),
        async (path) => {
          await link(temp.path, path);
          return path;
        },
      );
      await rm(temp.path);
      await syncDir(dir);
      state = "closed";
    },
    async abort() {
      if (state === "aborted") return;
      const published = state === "closed";
      state = "aborted";
      await temp.remove();
      if (published) await rm(writer.path, { force: true });
    },
  };
  return writer;
}

/**
 * Writes `records` to a new backup and returns its path once it is proven complete on disk. Any
 * failure (a short write, a full disk, a read-back that differs) removes the partial file and
 * throws a ReconcileError naming the file and the free space: the caller must not delete
 * anything.
 */
export async function writeBackup(
  name: string,
  records: Iterable<unknown>,
  dir = backupDir(),
): Promise<string> {
  let writer: BackupWriter | undefined;
  try {
    writer = await createBackup(name, dir);
    for (const record of records) await writer.write(record);
    await writer.close();
    return writer.path;
  } catch (err) {
    await writer?.abort();
    throw new ReconcileError(
      `the backup could not be written: ${await describeWriteFailure(writer?.path ?? join(dir, name), err)}. The partial file was removed; nothing was deleted or changed. Free disk space (or fix backups/) and run again`,
    );
  }
}

/** One backup record: a whole Convex document and the table it came from. */
export interface TableRecord {
  table: "users" | "auth0Memberships" | "auth0Organizations";
  row: Record<string, unknown>;
}

/**
 * The records of a deletion's backup: each row once (by table and `_id`), whatever lists it
 * appears in (a membership of a gone user in a gone organization, say).
 */
export function deletionRecords(
  tables: Record<TableRecord["table"], Iterable<Record<string, unknown>>>,
): TableRecord[] {
  const seen = new Set<string>();
  const records: TableRecord[] = [];
  for (const table of ["users", "auth0Organizations", "auth0Memberships"] as const) {
    for (const row of tables[table]) {
      const key = `${table}:${String(row._id)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      records.push({ table, row });
    }
  }
  return records;
}
