/**
 * Backup files (issue 16, item 6): written under a temporary name, fsynced, then given their final
 * name; a failed write leaves nothing behind, so no partial file ever looks like a backup.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
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
    /the backup could not be written .*nothing was deleted/,
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
