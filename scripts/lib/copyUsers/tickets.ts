/**
 * copy-users' tickets file: `backups/copy-users-tickets-<stamp>.ndjson`, owner-only (0600), picked
 * (created with O_EXCL) before the first write to the target, then appended line by line, each
 * line proven on disk (every byte written, fsynced, read back: ../reconcile/provenFile.ts) before
 * the run goes on: a `creating` record (the email) before each user is created, a `created`
 * record (with the 201 that answered) as soon as it exists, an `exists` record when the target
 * answered 409, a `ticket` record (the password-change link) as soon as the link exists. An
 * interrupted run loses no link, and its file says which users it created still have none, so
 * the next run issues them (and `--resend-tickets` issues new ones). Only users created by a 201
 * of copy-users ever get a link: never an account the person made themselves.
 */
import { readdir, readFile } from "node:fs/promises";
import { backupDir, firstFreeName, ownerOnlyDir, stamp } from "../reconcile/backup";
import { ReconcileError } from "../reconcile/errors";
import { createProvenFile, describeWriteFailure } from "../reconcile/provenFile";
import { join } from "node:path";

export interface TicketRecord {
  event: "creating" | "created" | "exists" | "ticket";
  /** The target tenant's domain. */
  target: string;
  email: string;
  /** The user's id in the target (not yet known when `creating`). */
  userId?: string;
  /** The HTTP status that answered the create: 201 on `created`, 409 on `exists`. */
  status?: number;
  /** The one-time link (ticket records only). */
  ticket?: string;
  at: string;
}

export interface TicketsFile {
  path: string;
  /** Appends one record and proves it on disk before returning; a record that cannot be
   * proven is cut off the file and throws (ReconcileError): the run must stop. */
  append(record: Omit<TicketRecord, "at" | "target">): Promise<void>;
  /** Closes the file; one that holds no record is removed. Returns whether it was kept. */
  close(): Promise<boolean>;
  links: number;
}

const PREFIX = "copy-users-tickets-";

/** Creates a new tickets file under `dir` (never an existing one: a taken name gets `-n`). */
export async function openTicketsFile(dir: string, target: string): Promise<TicketsFile> {
  await ownerOnlyDir(dir);
  const base = `${PREFIX}${stamp()}`;
  const proven = await firstFreeName(
    dir,
    (n) => (n === 0 ? `${base}.ndjson` : `${base}-${n}.ndjson`),
    createProvenFile,
  );
  const file: TicketsFile = {
    path: proven.path,
    links: 0,
    async append(record) {
      const line = { ...record, target, at: new Date().toISOString() };
      try {
        await proven.append(`${JSON.stringify(line)}\n`, 1);
        await proven.prove();
      } catch (err) {
        const where = await describeWriteFailure(proven.path, err);
        // Only proven records stay: the file never holds half a line.
        const kept = await proven
          .truncateToProven()
          .then(() => proven.provenRecords)
          .catch(() => undefined);
        if (kept === 0) await proven.remove();
        throw new ReconcileError(
          `the tickets file could not be written: ${where}. ${
            kept === 0
              ? "It held no record and was removed."
              : kept === undefined
                ? "Its last line may be incomplete."
                : `It keeps the ${kept} record(s) proven before.`
          } copy-users stopped before its next write to ${target}: free disk space and run it again (users it created without a link get one then)`,
        );
      }
      if (record.event === "ticket") file.links++;
    },
    async close() {
      await proven.close();
      if (proven.provenRecords > 0) return true;
      await proven.remove();
      return false;
    },
  };
  return file;
}

/**
 * What earlier runs' tickets files say about `target`: the users copy-users created there (user
 * id -> email: a `created` record, the create answered 201), those of them that never got a link
 * (an interrupted run), and the emails whose create was started but never answered on record
 * (killed mid-request): those may be the person's own account, so they get no link.
 */
export async function earlierRuns(
  target: string,
  dir = backupDir(),
): Promise<{
  created: Map<string, string>;
  withoutLink: Map<string, string>;
  unconfirmed: string[];
}> {
  const created = new Map<string, string>();
  const creating = new Set<string>();
  const answered = new Set<string>();
  const linked = new Set<string>();
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(PREFIX) && n.endsWith(".ndjson"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const name of names) {
    for (const line of (await readFile(join(dir, name), "utf8")).split("\n")) {
      let record: Partial<TicketRecord>;
      try {
        record = JSON.parse(line) as Partial<TicketRecord>;
      } catch {
        continue; // an empty line, or the last one of a run killed mid-write
      }
      if (record.target !== target || typeof record.email !== "string") continue;
      const email = record.email.trim().toLowerCase();
      if (record.event === "creating") creating.add(email);
      if (record.event === "exists") answered.add(email);
      if (typeof record.userId !== "string") continue;
      if (record.event === "created" && record.status === 201) {
        created.set(record.userId, record.email);
        answered.add(email);
      }
      if (record.event === "ticket") linked.add(record.userId);
    }
  }
  const withoutLink = new Map([...created].filter(([id]) => !linked.has(id)));
  const unconfirmed = [...creating].filter((email) => !answered.has(email)).sort();
  return { created, withoutLink, unconfirmed };
}
