/**
 * Backup files (issue 16, item 6): written under a temporary name, fsynced, then given their final
 * name; a failed write leaves nothing behind, so no partial file ever looks like a backup.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { createBackup, writeBackup } from "../../scripts/lib/reconcile/backup";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "backup-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("a write that fails half-way removes the partial file and throws: no backup appears", async () => {
  function* records() {
    for (let i = 0; i < 5000; i++) {
      if (i === 3000) throw new Error("disk gone");
      yield { n: i, pad: "x".repeat(100) };
    }
  }
  await expect(writeBackup("convex-orphans", records(), dir)).rejects.toThrow(
    /the backup could not be written: .*nothing was deleted/,
  );
  expect(readdirSync(dir)).toEqual([]);
});

test("the final name exists only once the file is complete and synced", async () => {
  const writer = await createBackup("convex-orphans", dir);
  for (let i = 0; i < 2000; i++) await writer.write({ n: i, pad: "y".repeat(100) });
  // While writing: only the hidden temporary file, never the final name.
  expect(readdirSync(dir).filter((f) => !f.startsWith("."))).toEqual([]);
  await writer.close();
  expect(readdirSync(dir)).toEqual([writer.path.split("/").pop()]);
  expect(statSync(writer.path).mode & 0o777).toBe(0o600);
  const lines = readFileSync(writer.path, "utf8").trim().split("\n");
  expect(lines).toHaveLength(2000);
  expect(JSON.parse(lines[1999])).toMatchObject({ n: 1999 });
});

test("two backups in the same second never overwrite each other", async () => {
  const a = await writeBackup("same", [{ a: 1 }], dir);
  const b = await writeBackup("same", [{ b: 2 }], dir);
  expect(a).not.toBe(b);
  expect(readFileSync(a, "utf8")).toBe('{"a":1}\n');
  expect(readFileSync(b, "utf8")).toBe('{"b":2}\n');
});

/** FileHandle.write in its buffer form, the one the backup writer calls. */
type BufferWrite = (
  this: FileHandle,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
) => Promise<{ bytesWritten: number; buffer: Buffer }>;

/** Replaces FileHandle.prototype.write for the duration of `fn` (the class is not exported). */
async function withWrite(replace: (write: BufferWrite) => BufferWrite, fn: () => Promise<void>) {
  const probe = await open("/dev/null", "r");
  const proto = Object.getPrototypeOf(probe) as { write: unknown };
  await probe.close();
  const original = proto.write;
  proto.write = replace(original as BufferWrite);
  try {
    await fn();
  } finally {
    proto.write = original;
  }
}

test("short writes are continued until every byte is down", async () => {
  let calls = 0;
  await withWrite(
    (write) =>
      function (buffer, offset, length, position) {
        calls++;
        return write.call(this, buffer, offset, Math.min(length, 100), position);
      },
    async () => {
      const records = Array.from({ length: 50 }, (_, n) => ({ n, pad: "z".repeat(60) }));
      const path = await writeBackup("short", records, dir);
      const lines = readFileSync(path, "utf8").trimEnd().split("\n");
      expect(lines.map((l) => JSON.parse(l))).toEqual(records);
    },
  );
  expect(calls).toBeGreaterThan(30);
});

test("a write that claims more than it wrote is caught by the read-back: no backup", async () => {
  await withWrite(
    (write) =>
      async function (buffer, offset, length, position) {
        await write.call(this, buffer, offset, length - 1, position);
        return { bytesWritten: length, buffer };
      },
    async () => {
      await expect(writeBackup("liar", [{ a: 1 }, { b: 2 }], dir)).rejects.toThrow(
        /the backup could not be written: \S+liar-\S+\.ndjson \(15 bytes on disk, 16 meant; .* free on its filesystem\)\. The partial file was removed; nothing was deleted/,
      );
    },
  );
  expect(readdirSync(dir)).toEqual([]);
});
