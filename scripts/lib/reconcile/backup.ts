/**
 * Backup files: under `backups/` in the working directory (git-ignored), the directory owner-only
 * (0700) and each file owner-only (0600), since they hold every user's email and profile.
 * Written as NDJSON, one record per line, so a backup of any size streams and can be read back
 * line by line.
 *
 * A backup is written under a temporary name (`.<name>.partial`), fsynced, then linked to its
 * final name (never replacing a file) and the directory fsynced: a file with a final name is
 * always complete and on disk. A failed write removes the temporary file.
 */
import { chmod, link, mkdir, open, rm, type FileHandle } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { ReconcileError } from "./errors";

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
  /** Flushes, fsyncs and gives the file its final name; the backup is complete only then. */
  close(): Promise<void>;
  /** Removes what this writer wrote (the partial file, or the published one after a later
   * failure of the command); safe to call more than once. */
  abort(): Promise<void>;
  count: number;
}

/** Opens `<dir>/<base>.partial`, or `<base>-n.partial` when taken (another run of the same second). */
async function openTemp(dir: string, base: string): Promise<{ path: string; handle: FileHandle }> {
  for (let n = 0; ; n++) {
    const path = join(dir, `.${n === 0 ? base : `${base}-${n}`}.partial`);
    try {
      return { path, handle: await open(path, "wx", 0o600) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n > 100) throw err;
    }
  }
}

/** Links `temp` to `<base>.ndjson` (or `<base>-n.ndjson`), never replacing a file; returns it. */
async function publish(dir: string, base: string, temp: string): Promise<string> {
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? `${base}.ndjson` : `${base}-${n}.ndjson`);
    try {
      await link(temp, path);
      return path;
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

/** Creates a backup writer for `backups/<name>-<stamp>.ndjson` (see the module comment). */
export async function createBackup(name: string, dir = backupDir()): Promise<BackupWriter> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const base = `${name}-${stamp()}`;
  const temp = await openTemp(dir, base);
  // Lines are gathered and written 64 KiB at a time through the FileHandle, which is fsynced
  // before it is closed; each write is awaited, so memory stays bounded whatever the size.
  let buffer: string[] = [];
  let buffered = 0;
  const flush = async () => {
    if (buffered === 0) return;
    const chunk = buffer.join("");
    buffer = [];
    buffered = 0;
    await temp.handle.write(chunk);
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
      await temp.handle.sync();
      await temp.handle.close();
      writer.path = await publish(dir, base, temp.path);
      await rm(temp.path);
      await syncDir(dir);
      state = "closed";
    },
    async abort() {
      if (state === "aborted") return;
      const published = state === "closed";
      state = "aborted";
      await temp.handle.close().catch(() => {});
      await rm(temp.path, { force: true });
      if (published) await rm(writer.path, { force: true });
    },
  };
  return writer;
}

/**
 * Writes `records` to a new backup and returns its path once it is complete on disk. Any failure
 * removes the partial file and throws a ReconcileError: the caller must not delete anything.
 */
export async function writeBackup(
  name: string,
  records: Iterable<unknown>,
  dir?: string,
): Promise<string> {
  let writer: BackupWriter | undefined;
  try {
    writer = await createBackup(name, dir);
    for (const record of records) await writer.write(record);
    await writer.close();
    return writer.path;
  } catch (err) {
    await writer?.abort();
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message?.split("\n")[0];
    throw new ReconcileError(
      `the backup could not be written (${why}); nothing was deleted. Free disk space or fix backups/ and run again`,
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
