/**
 * copy-users' tickets file: `backups/copy-users-tickets-<stamp>.ndjson`, owner-only (0600), picked
 * (created with O_EXCL) before the first write to the target, then appended and fsynced line by
 * line: a `creating` record (the email) before each user is created, a `created` record as soon
 * as it exists, a `ticket` record (the password-change link) as soon as the link exists. An interrupted run loses no link, and its file says which created
 * users still have none, so the next run issues them (and `--resend-tickets` issues new ones).
 */
import { open, readdir, readFile, type FileHandle } from "node:fs/promises";
import { mkdir, chmod } from "node:fs/promises";
import { join } from "node:path";
import { stamp } from "../reconcile/backup";

export interface TicketRecord {
  event: "creating" | "created" | "ticket";
  /** The target tenant's domain. */
  target: string;
  email: string;
  /** The user's id in the target (not yet known when `creating`). */
  userId?: string;
  /** The one-time link (ticket records only). */
  ticket?: string;
  at: string;
}

export interface TicketsFile {
  path: string;
  /** Appends one record and fsyncs it before returning. */
  append(record: Omit<TicketRecord, "at" | "target">): Promise<void>;
  close(): Promise<void>;
  links: number;
}

const PREFIX = "copy-users-tickets-";

/** Creates a new tickets file under `dir` (never an existing one: a taken name gets `-n`). */
export async function openTicketsFile(dir: string, target: string): Promise<TicketsFile> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const base = `${PREFIX}${stamp()}`;
  let handle: FileHandle | undefined;
  let path = "";
  for (let n = 0; !handle; n++) {
    path = join(dir, n === 0 ? `${base}.ndjson` : `${base}-${n}.ndjson`);
    try {
      handle = await open(path, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n > 100) throw err;
    }
  }
  const file: TicketsFile = {
    path,
    links: 0,
    async append(record) {
      const line = { ...record, target, at: new Date().toISOString() };
      await handle.write(`${JSON.stringify(line)}\n`);
      await handle.sync();
      if (record.event === "ticket") file.links++;
    },
    close: () => handle.close(),
  };
  return file;
}

/**
 * What earlier runs' tickets files say about `target`: the users copy-users created there (user
 * id -> email), and those of them that never got a link (an interrupted run). A `creating`
 * record with no `created` one (killed while Auth0 created the user) is resolved through
 * `findByEmail`, the target's listing.
 */
export async function earlierRuns(
  dir: string,
  target: string,
  findByEmail: (email: string) => string | undefined,
): Promise<{ created: Map<string, string>; withoutLink: Map<string, string> }> {
  const created = new Map<string, string>();
  const creating = new Set<string>();
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
      if (record.event === "creating") creating.add(record.email.trim().toLowerCase());
      if (typeof record.userId !== "string") continue;
      if (record.event === "created") created.set(record.userId, record.email);
      if (record.event === "ticket") linked.add(record.userId);
    }
  }
  const known = new Set([...created.values()].map((e) => e.trim().toLowerCase()));
  for (const email of creating) {
    const userId = known.has(email) ? undefined : findByEmail(email);
    if (userId !== undefined && !created.has(userId)) created.set(userId, email);
  }
  const withoutLink = new Map([...created].filter(([id]) => !linked.has(id)));
  return { created, withoutLink };
}
