/**
 * The complete listing of a tenant's users, through a users export job (the list endpoint stops
 * at 1,000 users and must never be mistaken for the whole tenant) or, on plans without export
 * jobs, through the windowed user search (searchListing.ts); and the per-user check that a
 * Convex row's Auth0 user is really gone.
 */
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { ManagementClient } from "auth0";
import { parseMetadataPath } from "../../../server/users/auth0Profile";
import { customDomainProblem } from "../managementApi";
import { managementFailure, ReconcileError } from "./errors";
import type { Progress } from "./progress";
import { searchAllUsers } from "./searchListing";
import type { Timings } from "./timings";

/** How to list: an export job, the user search, or (auto) the export job unless the plan has none. */
export type ListingMode = "auto" | "export" | "search";
export const LISTING_MODES: readonly ListingMode[] = ["auto", "export", "search"];

/** Thrown when Auth0 refuses the export job because of the tenant's plan (Free has none). */
export class ExportUnavailableError extends ReconcileError {
  constructor(readonly detail: string) {
    super(
      `Auth0 refused the users export job because of the tenant's plan (${detail}): export jobs are not available on the Free plan. List through the user search instead: --listing search (or --listing auto, the default)`,
    );
    this.name = "ExportUnavailableError";
  }
}

/**
 * Whether a failed `POST /jobs/users-exports` is the plan's refusal: a 403 that is neither a
 * missing scope (`insufficient_scope`) nor the token endpoint refusing a custom domain.
 */
export function planRefusal(err: unknown): string | undefined {
  if ((err as { statusCode?: number }).statusCode !== 403 || customDomainProblem(err)) {
    return undefined;
  }
  const body = (err as { body?: { errorCode?: unknown; message?: unknown } }).body;
  const message = typeof body?.message === "string" ? body.message : "";
  if (body?.errorCode === "insufficient_scope" || /insufficient.?scope/i.test(message)) {
    return undefined;
  }
  return `HTTP 403${message ? `: ${message.slice(0, 200)}` : ""}`;
}

/** The attributes the comparison needs (server/users/auth0Profile.ts reads exactly these). */
export const PROFILE_EXPORT_FIELDS = [
  "user_id",
  "email",
  "email_verified",
  "name",
  "nickname",
  "given_name",
  "family_name",
  "picture",
  "updated_at",
];

export interface ExportOptions {
  /** Fields to export (default {@link PROFILE_EXPORT_FIELDS}). */
  fields?: string[];
  /** Longest wait for the job, in ms (default 30 minutes; Auth0 keeps job data 24 h). */
  timeoutMs?: number;
  /** First poll interval; doubles up to 5 s. */
  pollMs?: number;
  progress?: Progress;
  /** How to list (default "auto"); used by {@link listUsers}. */
  listing?: ListingMode;
  /** Told (a line for stderr) once the export job exists, when auto chose it. */
  onJobCreated?: (line: string) => void;
  /** Receives the wait for the export job (`auth0ExportWait`). */
  timings?: Timings;
  /** Metadata paths the deployment maps into the app's fields: their sources (`app_metadata`,
   * `user_metadata`) are listed too, used by {@link listUsers}. */
  metadataPaths?: readonly string[];
}

/** Measured with `npm run bench:reconcile -- --listing search` (README, "Free-plan tenants"). */
const SEARCH_MINUTES_PER_10K = 1;

/** A complete listing, read once; `replay` reads the same users again. */
export interface Listed {
  /** Users listed. */
  users: number;
  /**
   * Lists again, for the profiles a repair needs (the comparison keeps none): the export job's
   * file once more (the same snapshot; each read of the job signs a fresh link), or the user
   * search run again.
   */
  replay(onUser: (user: Record<string, unknown>) => void | Promise<void>): Promise<number>;
}

/** Runs an export job and streams its file, calling `onUser` for every line (a parsed object). */
export async function exportUsers(
  client: ManagementClient,
  onUser: (user: Record<string, unknown>) => void | Promise<void>,
  options: ExportOptions = {},
): Promise<Listed> {
  const fields = (options.fields ?? PROFILE_EXPORT_FIELDS).map((name) => ({ name }));
  const progress = options.progress;
  let jobId: string;
  const created = performance.now();
  try {
    const job = await client.jobs.usersExports.create({ format: "json", fields });
    jobId = job.id;
    options.onJobCreated?.(
      "Listing through an export job (--listing auto): the tenant's plan has export jobs.",
    );
  } catch (err) {
    const refused = planRefusal(err);
    if (refused) throw new ExportUnavailableError(refused);
    throw managementFailure(err, "starting the users export job");
  }
  progress?.phase("Auth0 export job");
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let wait = options.pollMs ?? 500;
  let job;
  for (;;) {
    job = await readJob(client, jobId);
    if (job.status === "completed") break;
    progress?.note(
      `export job ${job.status}${typeof job.percentage_done === "number" ? `, ${job.percentage_done}%` : ""}`,
    );
    if (Date.now() + wait > deadline) {
      throw new ReconcileError(
        `the users export job ${jobId} did not complete in time (still ${job.status}); nothing was compared`,
      );
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 5000);
  }
  options.timings?.add("auth0ExportWait", performance.now() - created);
  progress?.phase("Auth0 download");
  const users = await readJobFile(client, jobId, onUser, progress, job);
  return { users, replay: (again) => readJobFile(client, jobId, again) };
}

/** Reads an export job; a failed job is an error. */
async function readJob(client: ManagementClient, jobId: string) {
  let job;
  try {
    job = await client.jobs.get(jobId);
  } catch (err) {
    throw managementFailure(err, `reading export job ${jobId}`);
  }
  if (job.status === "failed") {
    throw new ReconcileError(
      `the users export job ${jobId} failed${job.status_details ? `: ${String(job.status_details).slice(0, 200)}` : ""}; nothing was compared. Run again; if it keeps failing, check the job in the Auth0 dashboard logs`,
    );
  }
  return job;
}

/** Downloads a completed job's file, reading the job again for a fresh link when one expired. */
async function readJobFile(
  client: ManagementClient,
  jobId: string,
  onUser: (user: Record<string, unknown>) => void | Promise<void>,
  progress?: Progress,
  /** The job as just read (completed), to download without reading it again. */
  completed?: Awaited<ReturnType<typeof readJob>>,
): Promise<number> {
  for (let attempt = 0; ;) {
    const job = completed ?? (await readJob(client, jobId));
    completed = undefined;
    if (job.status !== "completed" || typeof job.location !== "string") {
      throw new ReconcileError(`export job ${jobId} completed without a download location`);
    }
    const result = await download(job.location, onUser, progress);
    if (result !== "expired") return result;
    // The link lives about 60 s; a slow start can miss it. Each read of the job signs a new one.
    if (++attempt >= 3) {
      throw new ReconcileError(`the export's download link kept expiring (job ${jobId})`);
    }
  }
}

/** Streams the gzip NDJSON at `location`; "expired" when the signed link is no longer valid. */
async function download(
  location: string,
  onUser: (user: Record<string, unknown>) => void | Promise<void>,
  progress?: Progress,
): Promise<number | "expired"> {
  let response: Response;
  try {
    response = await fetch(location);
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new ReconcileError(`downloading the users export failed: ${cause ?? String(err)}`);
  }
  if (response.status === 403 || response.status === 400) {
    const text = (await response.text()).slice(0, 2000);
    if (/expired/i.test(text)) return "expired";
    throw new ReconcileError(`downloading the users export was refused (HTTP ${response.status})`);
  }
  if (!response.ok || !response.body) {
    throw new ReconcileError(`downloading the users export failed (HTTP ${response.status})`);
  }
  const text = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream).pipe(
    createGunzip(),
  );
  text.setEncoding("utf8");
  let count = 0;
  let lineNo = 0;
  /** Handles one line; a promise only when `onUser` returned one. */
  const line = (raw: string): void | Promise<void> => {
    lineNo++;
    if (raw.trim() === "") return;
    let user: unknown;
    try {
      user = JSON.parse(raw);
    } catch {
      throw new ReconcileError(`the users export is corrupt at line ${lineNo} (not JSON)`);
    }
    if (
      typeof user !== "object" ||
      user === null ||
      typeof (user as { user_id?: unknown }).user_id !== "string"
    ) {
      throw new ReconcileError(`the users export is corrupt at line ${lineNo} (no user_id)`);
    }
    count++;
    progress?.tick();
    // Awaited only when it returns a promise: a million awaits of nothing cost a second.
    return onUser(user as Record<string, unknown>);
  };
  try {
    // Lines split by hand (a line may span chunks): faster than readline for a million of them.
    let rest = "";
    for await (const chunk of text as AsyncIterable<string>) {
      const data = rest + chunk;
      let start = 0;
      for (let end = data.indexOf("\n"); end >= 0; end = data.indexOf("\n", start)) {
        const pending = line(data.slice(start, end));
        if (pending) await pending;
        start = end + 1;
      }
      rest = data.slice(start);
    }
    if (rest !== "") await line(rest);
  } catch (err) {
    if (err instanceof ReconcileError) throw err;
    throw new ReconcileError(
      `reading the users export failed at line ${lineNo}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return count;
}

/**
 * Every user of the tenant, by the chosen way (`options.listing`, default "auto": an export job,
 * or the user search when the plan refuses export jobs; auto says on stderr which and why).
 * Complete or nothing: an incomplete search throws (IncompleteListingError). With
 * `metadataPaths`, each user also carries the metadata objects those paths read.
 */
export async function listUsers(
  client: ManagementClient,
  onUser: (user: Record<string, unknown>) => void | Promise<void>,
  options: ExportOptions = {},
): Promise<Listed> {
  const mode = options.listing ?? "auto";
  const sources = (options.metadataPaths ?? []).flatMap((p) => parseMetadataPath(p)?.source ?? []);
  const fields = [...new Set([...(options.fields ?? PROFILE_EXPORT_FIELDS), ...sources])];
  options = { ...options, fields };
  const say = (line: string) =>
    options.progress ? options.progress.log(line) : process.stderr.write(`${line}\n`);
  const search = async (): Promise<Listed> => {
    const { users } = await searchAllUsers(client, onUser, { fields, progress: options.progress });
    return {
      users,
      replay: async (again) => (await searchAllUsers(client, again, { fields })).users,
    };
  };
  if (mode === "search") return search();
  if (mode === "export") return exportUsers(client, onUser, options);
  try {
    return await exportUsers(client, onUser, { ...options, onJobCreated: say });
  } catch (err) {
    if (!(err instanceof ExportUnavailableError)) throw err;
    say(
      `Listing through the user search (--listing auto): Auth0 refused the export job because of the tenant's plan (${err.detail}); Free-plan tenants have no export jobs. At the Free plan's 2 requests/s this takes about ${SEARCH_MINUTES_PER_10K} minute(s) per 10,000 users.`,
    );
    return search();
  }
}

/**
 * Asks Auth0 for each candidate (`GET /api/v2/users/{id}`), in order: those answering 404 are
 * gone; any other answer keeps the user (created after the export, or still there). A few
 * requests at a time; the SDK waits out 429s. `provedAt` receives, per gone user, when the
 * request that got the 404 was first sent: never later than Auth0's answer. Once `enough`
 * (told each answer) says so, no further candidate is asked about: `unchecked` counts them.
 */
export async function confirmGone(
  client: ManagementClient,
  ids: string[],
  options: {
    progress?: Progress;
    provedAt?: Map<string, number>;
    enough?: (answer: { id: string; gone: boolean; checked: number }) => boolean;
  } = {},
): Promise<{ gone: Set<string>; present: Set<string>; unchecked: number }> {
  const gone = new Set<string>();
  const present = new Set<string>();
  let next = 0;
  let checked = 0;
  let stop = false;
  const worker = async () => {
    while (next < ids.length && !stop) {
      const id = ids[next++];
      const askedAt = Date.now();
      try {
        await client.users.get(id, { fields: "user_id", include_fields: true });
        present.add(id);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) {
          gone.add(id);
          options.provedAt?.set(id, askedAt);
        } else throw managementFailure(err, `checking whether Auth0 user ${id} still exists`);
      }
      checked++;
      options.progress?.tick();
      if (options.enough?.({ id, gone: gone.has(id), checked })) stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, ids.length) }, worker));
  return { gone, present, unchecked: ids.length - next };
}
