/**
 * A full disk (issue 24, item 1): the files a command relies on (the backup written before a
 * deletion, copy-users' journal of created users and links) are proven complete before anything
 * depends on them. On a filesystem that fills mid-file, the command exits 2 naming the file and
 * the free space, deletes nothing, and leaves no partial file. Runs on a real tmpfs of 4 KiB
 * where this process may mount one (root), and always with the same short writes injected.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { runScript } from "../../scripts/lib/childProcess";
import { createTestCertificate, type TestCertificate } from "../../local-auth0/testCertificate";
import { startCopyTenants, type CopyTenants } from "./helpers/copyTenants";
import { canMountTmpfs, smallDisk, type DiskKind, type SmallDisk } from "./helpers/smallDisk";

const FREE = 4096;
const kinds: DiskKind[] = ["injected", "tmpfs"];
const skip = (kind: DiskKind) => kind === "tmpfs" && !canMountTmpfs();

let disk: SmallDisk | undefined;
let tenant: Tenant | undefined;
let copy: CopyTenants | undefined;
afterEach(async () => {
  disk?.release();
  disk = undefined;
  await tenant?.close();
  tenant = undefined;
  await copy?.close();
  copy = undefined;
});

/** The free space a message names: "4.0 KiB free" on a 4 KiB disk, or less once it filled. */
const freeSpaceNamed = /\(([^)]*); (\d+(\.\d)? (bytes|KiB)) free on its filesystem\)/;

describe.each(kinds)("on a %s disk with 4 KiB free", (kind) => {
  /** 5 users in sync and 20 gone from Auth0: a backup of ~8 KiB, twice what fits. */
  async function orphans() {
    const t = (tenant = await startTenant());
    await t.seedInSync(5);
    for (let i = 0; i < 20; i++) {
      const gone = t.emulator.seedUser({ user_id: `auth0|gone-${i}` });
      await t.insertRow(gone);
      t.emulator.removeUser(gone.user_id);
    }
    disk = smallDisk(kind, join(t.dir, "backups"), FREE);
    return t;
  }

  test.skipIf(skip(kind))(
    "sync --delete-orphans: exit 2 naming the backup and the free space, no row deleted, no partial file",
    async () => {
      const t = await orphans();
      const before = await t.rows();
      const run = await t.run("sync", ["--yes", "--delete-orphans"], { env: disk!.env });
      expect(run.code, run.output).toBe(2);
      expect(run.stderr).toMatch(
        /the backup could not be written: \S+\/backups\/convex-orphans-\d{8}T\d{6}Z\.ndjson \(/,
      );
      expect(run.stderr).toMatch(freeSpaceNamed);
      expect(run.stderr).toMatch(/nothing was deleted/);
      expect(run.stdout).not.toMatch(/Backup of the/);
      expect(await t.rows()).toEqual(before);
      expect(await t.tombstones()).toEqual([]);
      expect(readdirSync(join(t.dir, "backups"))).toEqual([]);
    },
  );

  test.skipIf(skip(kind))(
    "cron-sync --delete-orphans: exit 2, logged, no row deleted, no partial file",
    async () => {
      const t = await orphans();
      const before = await t.rows();
      const run = await t.run("cron-sync", ["--delete-orphans"], { env: disk!.env });
      expect(run.code, run.output).toBe(2);
      expect(run.stderr).toMatch(/the backup could not be written: \S+convex-orphans-\S+ \(/);
      expect(run.stderr).toMatch(freeSpaceNamed);
      expect(await t.rows()).toEqual(before);
      expect(await t.tombstones()).toEqual([]);
      expect(readdirSync(join(t.dir, "backups"))).toEqual([]);
      const log = readFileSync(
        join(
          t.dir,
          "logs",
          readdirSync(join(t.dir, "logs")).find((f) => f.endsWith(".log"))!,
        ),
        "utf8",
      );
      expect(log).toMatch(/"event":"error","message":"the backup could not be written/);
      expect(log).not.toMatch(/"event":"backup"/);
    },
  );

  describe("copy-users", () => {
    let cert: TestCertificate;
    beforeAll(async () => {
      cert = await createTestCertificate(await mkdtemp(join(tmpdir(), "full-disk-ca-")));
    });

    test.skipIf(skip(kind))(
      "a journal that fills stops the run at once: exit 2 naming it and the free space, only whole records kept, the next run links every user it created",
      async () => {
        const c = (copy = await startCopyTenants({
          cert,
          prodScopes: ["read:users", "create:users", "create:user_tickets"],
        }));
        c.dev.jobs.setExportDelay(50);
        c.prod.jobs.setExportDelay(50);
        for (let i = 0; i < 30; i++) {
          c.dev.seedUser({ user_id: `auth0|dev-${i}`, email: `person${i}@example.com` });
        }
        disk = smallDisk(kind, join(c.dir, "backups"), FREE);
        const run = (env: Record<string, string>) =>
          runScript("copy-users", ["--from", "dev", "--to", "prod", "--yes", "--json"], {
            env: {
              PATH: process.env.PATH!,
              HOME: process.env.HOME!,
              NODE_EXTRA_CA_CERTS: cert.caPath,
              ...env,
            },
            cwd: c.dir,
          });
        const first = await run(disk.env);
        expect(first.code, first.output).toBe(2);
        const named =
          /the tickets file could not be written: (\S+copy-users-tickets-\S+\.ndjson) \(/.exec(
            first.stderr,
          );
        expect(named, first.stderr).not.toBeNull();
        expect(first.stderr).toMatch(freeSpaceNamed);
        expect(first.stderr).toMatch(/copy-users stopped before its next write/);
        const journal = named![1];
        // Only whole records: every line is JSON, and the file ends with a line's end.
        const text = readFileSync(journal, "utf8");
        expect(text.endsWith("\n")).toBe(true);
        const records = text
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l) as { event: string; email: string; userId?: string });
        // The run stopped at once: no create was sent without its `creating` record on disk.
        const creates = c.prod.requests.filter(
          (r) => r.method === "POST" && r.path === "/api/v2/users",
        ).length;
        expect(creates).toBe(records.filter((r) => r.event === "creating").length);
        expect(creates).toBeLessThan(30);

        // With room again, a second run links every user a 201 created.
        const second = await run(disk.grow());
        expect(second.code, second.output).toBe(0);
        const files = readdirSync(join(c.dir, "backups"))
          .filter((f) => f.startsWith("copy-users-tickets-"))
          .map((f) => join(c.dir, "backups", f));
        const all = files.flatMap((f) =>
          readFileSync(f, "utf8")
            .trimEnd()
            .split("\n")
            .map((l) => JSON.parse(l) as { event: string; email: string; userId?: string }),
        );
        const created = all.filter((r) => r.event === "created").map((r) => r.userId);
        const linked = new Set(all.filter((r) => r.event === "ticket").map((r) => r.userId));
        expect(created.length).toBeGreaterThan(0);
        for (const id of created) expect(linked.has(id), id).toBe(true);
        expect(existsSync(journal)).toBe(true);
      },
      60_000,
    );
  });
});
