/**
 * Files that something relies on: the backup written before a deletion, the copy-users journal of
 * created users and password-change links. A write may put fewer bytes on disk than asked (a
 * full disk answers a short write before it answers ENOSPC, and `FileHandle.write` returns the
 * count without throwing), so every writer of such a file goes through here: each write is
 * continued until every byte is down, `prove()` fsyncs and reads the bytes back, counting them
 * and their records (lines) against what was meant, with a SHA-256 of both. Any shortfall throws
 * {@link IncompleteWriteError}; the caller then removes the file (or cuts it back to what was
 * proven) and relies on nothing in it.
 */
import { createHash, type Hash } from "node:crypto";
import { open, rm, statfs, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/** A file that does not hold what was meant; `path` is the file, `detail` what fell short. */
export class IncompleteWriteError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = "IncompleteWriteError";
  }
}

/** "12.0 KiB free" in `path`'s filesystem (statfs), for messages; never throws. */
export async function freeSpace(path: string): Promise<string> {
  try {
    const fs = await statfs(dirname(path));
    const bytes = fs.bavail * fs.bsize;
    const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]} free`;
  } catch {
    return "free space unknown";
  }
}

/** What a failed write is in a message: the file's path, what fell short, the free space. */
export async function describeWriteFailure(path: string, err: unknown): Promise<string> {
  const detail =
    err instanceof IncompleteWriteError
      ? err.detail
      : ((err as NodeJS.ErrnoException).code ?? (err as Error).message?.split("\n")[0]);
  return `${path} (${detail}; ${await freeSpace(path)} on its filesystem)`;
}

export interface ProvenFile {
  readonly path: string;
  /** Bytes and records written so far (proven up to the last {@link prove}). */
  readonly bytes: number;
  readonly records: number;
  /** Bytes and records proven on disk by the last {@link prove}. */
  readonly provenBytes: number;
  readonly provenRecords: number;
  /** Appends `text`, which holds `records` records (one per line), every byte of it. */
  append(text: string, records: number): Promise<void>;
  /** Fsyncs, then reads back what was appended since the last proof and checks it: the same
   * bytes (count and SHA-256), the same number of records, the file no longer than that. */
  prove(): Promise<void>;
  /** Cuts the file back to what the last {@link prove} proved, and fsyncs it. */
  truncateToProven(): Promise<void>;
  close(): Promise<void>;
  /** Closes and deletes the file; safe to call more than once. */
  remove(): Promise<void>;
}

const CHUNK = 64 * 1024;

/** Writes all of `data` at `position`, continuing after short writes; a write that makes no
 * progress (the disk is full) is a failure, never a loop. */
async function writeAll(handle: FileHandle, path: string, data: Buffer, position: number) {
  let done = 0;
  const short = (why: string) =>
    new IncompleteWriteError(
      path,
      `${why}: only ${position + done} of ${position + data.length} bytes could be written`,
    );
  while (done < data.length) {
    let bytesWritten: number;
    try {
      ({ bytesWritten } = await handle.write(data, done, data.length - done, position + done));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG") throw short(code);
      throw err;
    }
    if (bytesWritten <= 0) throw short("the disk took no more");
    done += bytesWritten;
  }
}

/** Creates `path` (never an existing file: EEXIST is thrown), owner-only, for proven writes. */
export async function createProvenFile(path: string): Promise<ProvenFile> {
  // Read and write: the proof reads back through the same handle.
  const handle = await open(path, "wx+", 0o600);
  let bytes = 0;
  let records = 0;
  let provenBytes = 0;
  let provenRecords = 0;
  let pending: Hash = createHash("sha256");
  let closed = false;
  const fail = (detail: string) => new IncompleteWriteError(path, detail);

  const file: ProvenFile = {
    path,
    get bytes() {
      return bytes;
    },
    get records() {
      return records;
    },
    get provenBytes() {
      return provenBytes;
    },
    get provenRecords() {
      return provenRecords;
    },
    async append(text, count) {
      const data = Buffer.from(text, "utf8");
      // Hashed before the write: what was meant, whatever reaches the disk.
      pending.update(data);
      records += count;
      const at = bytes;
      bytes += data.length;
      await writeAll(handle, path, data, at);
    },
    async prove() {
      await handle.sync();
      const size = (await handle.stat()).size;
      if (size !== bytes) throw fail(`${size} bytes on disk, ${bytes} meant`);
      const readBack = createHash("sha256");
      const buffer = Buffer.alloc(CHUNK);
      let lines = 0;
      let position = provenBytes;
      while (position < bytes) {
        const { bytesRead } = await handle.read(
          buffer,
          0,
          Math.min(CHUNK, bytes - position),
          position,
        );
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        readBack.update(chunk);
        for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
        position += bytesRead;
      }
      if (position !== bytes) throw fail(`${position} bytes read back, ${bytes} meant`);
      const meant = records - provenRecords;
      if (lines !== meant) throw fail(`${lines} records read back, ${meant} meant`);
      if (readBack.digest("hex") !== pending.digest("hex")) {
        throw fail("the bytes read back differ from those written");
      }
      pending = createHash("sha256");
      provenBytes = bytes;
      provenRecords = records;
    },
    async truncateToProven() {
      await handle.truncate(provenBytes);
      await handle.sync();
      bytes = provenBytes;
      records = provenRecords;
      pending = createHash("sha256");
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
    async remove() {
      await file.close().catch(() => {});
      await rm(path, { force: true });
    },
  };
  return file;
}
