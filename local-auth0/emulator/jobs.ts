/**
 * Export jobs in the Management API emulator, the only complete listing of a tenant's users:
 * - `POST /api/v2/jobs/users-exports` (`read:users`) answers 201 with a `pending` job. The job
 *   captures the users as they are when it is created, and completes after a delay;
 * - `GET /api/v2/jobs/{id}` reports `pending`, then `processing` with `percentage_done` and
 *   `time_left_seconds`, then `completed` with a `location`: a fresh signed URL at every read,
 *   valid for 60 s, like the S3 link Auth0 hands out; or `failed` when a test asks for it;
 * - the `location` serves a gzip of NDJSON (one user per line, only the requested `fields`),
 *   generated and compressed as the client reads it, so a million-user export is never held
 *   whole; past its 60 s it answers 403 `AccessDenied` "Request has expired" in S3's XML;
 * - on a Free-plan tenant the job is refused (Auth0's "Bulk User Exports": "not available on the
 *   Free plan") with a 403 that is not a scope error, after the scope check. The wording is the
 *   one Auth0 uses for other plan-gated features ("This feature is not enabled for this tenant.");
 *   the exact text for this endpoint is not documented.
 */
import { createHmac, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import {
  HttpError,
  invalid,
  onlyFields,
  requireScope,
  sameSecret,
  type EmulatorResource,
} from "./common";
import type { StoredUser } from "./users";

/** How long a download link lives, as on Auth0. */
export const LOCATION_TTL_MS = 60_000;
/** Auth0 exports at most this many fields. */
const MAX_FIELDS = 30;
/** What Auth0 exports when no fields are named (a predefined set). */
const DEFAULT_FIELDS = [
  "user_id",
  "email",
  "email_verified",
  "name",
  "nickname",
  "created_at",
  "updated_at",
];

export interface StoredJob {
  id: string;
  created_at: string;
  connection_id?: string;
  format: "json" | "csv";
  limit?: number;
  fields: { name: string; export_as?: string }[];
  /**
   * The users as they were when the job was created. The user objects themselves: the emulator
   * replaces a user's object on every change (seedUser, updateUser, PATCH), never edits it, so
   * holding them is a snapshot without copying a million profiles.
   */
  snapshot: StoredUser[];
  readyAt: number;
  failed: boolean;
}

/** The tenant's subscription as far as the emulator cares: Free has no export jobs. */
export type TenantPlan = "free" | "paid";

/** What a Free-plan tenant answers to `POST /api/v2/jobs/users-exports`. */
export const PLAN_REFUSAL_MESSAGE = "This feature is not enabled for this tenant.";

export interface JobsState {
  resource: EmulatorResource;
  jobs: Map<string, StoredJob>;
  /** How long the next export jobs take to complete (ms). */
  setExportDelay(ms: number): void;
  /** Makes the next export job end as `failed`. */
  failNextExport(): void;
  /** Makes the next `n` downloads find their link expired (as if fetched after its 60 s). */
  expireNextDownloads(n: number): void;
  /**
   * Makes the next export list these users a second time, at its end (as an export taken while
   * they changed might): what the reconcile must notice.
   */
  listTwiceInNextExport(userIds: string[]): void;
  /** Called right after an export job captured the users (e.g. to create a user "after" it). */
  onExportCreated: ((job: StoredJob) => void) | undefined;
  /** Downloads served (each a full file), for tests that count them. */
  downloads(): number;
}

/** Reads a dotted field path (`user_metadata.plan`) from a user. */
function pick(user: StoredUser, name: string): unknown {
  let value: unknown = user;
  for (const part of name.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The export jobs area of a tenant; `users()` reads the tenant's users when a job is created. */
export function createJobs(options: {
  users: () => Iterable<StoredUser>;
  domain: () => string;
  plan: () => TenantPlan;
}): JobsState {
  const jobs = new Map<string, StoredJob>();
  const signingKey = randomBytes(32);
  let exportDelayMs = 300;
  let failNext = false;
  let expireNext = 0;
  let listTwice: string[] = [];
  let downloadCount = 0;

  const sign = (jobId: string, expires: number) =>
    createHmac("sha256", signingKey).update(`${jobId}:${expires}`).digest("base64url");

  function jobOut(job: StoredJob) {
    const now = Date.now();
    const base = {
      type: "users_export",
      id: job.id,
      created_at: job.created_at,
      format: job.format,
      fields: job.fields,
      ...(job.connection_id ? { connection_id: job.connection_id } : {}),
      ...(job.limit ? { limit: job.limit } : {}),
    };
    if (now < job.readyAt) {
      const total = job.readyAt - Date.parse(job.created_at);
      const done = Math.max(
        0,
        Math.min(99, Math.floor((100 * (total - (job.readyAt - now))) / total)),
      );
      const status = done === 0 ? "pending" : "processing";
      return {
        ...base,
        status,
        percentage_done: done,
        time_left_seconds: Math.ceil((job.readyAt - now) / 1000),
      };
    }
    if (job.failed) return { ...base, status: "failed", status_details: "The export failed." };
    const expires = now + LOCATION_TTL_MS;
    const location = `https://${options.domain()}/exports/${job.id}/tenant.json.gz?expires=${expires}&signature=${sign(job.id, expires)}`;
    return { ...base, status: "completed", location, percentage_done: 100 };
  }

  function createExport(body: Record<string, unknown>): StoredJob {
    onlyFields(body, ["connection_id", "format", "limit", "fields"], "body");
    const format = body.format ?? "csv";
    if (format !== "json" && format !== "csv") throw invalid("'format' must be json or csv");
    if (
      body.connection_id !== undefined &&
      !/^con_[A-Za-z0-9]{16}$/.test(String(body.connection_id))
    ) {
      throw invalid("'connection_id' must match ^con_[A-Za-z0-9]{16}$");
    }
    if (body.limit !== undefined && (!Number.isInteger(body.limit) || (body.limit as number) < 1)) {
      throw invalid("'limit' must be an integer >= 1");
    }
    const fields = (body.fields ?? DEFAULT_FIELDS.map((name) => ({ name }))) as unknown;
    if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_FIELDS) {
      throw invalid(`'fields' must hold 1 to ${MAX_FIELDS} items`);
    }
    for (const f of fields) {
      if (typeof f?.name !== "string" || f.name === "") throw invalid("each field needs a 'name'");
      onlyFields(f, ["name", "export_as"], "fields");
    }
    const now = Date.now();
    const job: StoredJob = {
      id: `job_${randomBytes(12).toString("base64url").replace(/[-_]/g, "x").slice(0, 16)}`,
      created_at: new Date(now).toISOString(),
      ...(body.connection_id ? { connection_id: String(body.connection_id) } : {}),
      format,
      ...(body.limit ? { limit: body.limit as number } : {}),
      fields,
      // Later changes replace users' objects (see StoredJob.snapshot): they do not reach it.
      snapshot: [...options.users()],
      readyAt: now + exportDelayMs,
      failed: failNext,
    };
    failNext = false;
    for (const id of listTwice) {
      const user = job.snapshot.find((u) => u.user_id === id);
      if (user) job.snapshot.push(user);
    }
    listTwice = [];
    jobs.set(job.id, job);
    state.onExportCreated?.(job);
    return job;
  }

  /** The job's file: NDJSON lines made a few hundred at a time, gzipped as they are read. */
  function exportFile(job: StoredJob): Readable {
    const count = job.limit ? Math.min(job.limit, job.snapshot.length) : job.snapshot.length;
    function* chunks() {
      for (let i = 0; i < count; i += 500) {
        let text = "";
        for (const user of job.snapshot.slice(i, Math.min(i + 500, count))) {
          const line: Record<string, unknown> = {};
          for (const { name, export_as } of job.fields) {
            const value = pick(user, name);
            if (value !== undefined) line[export_as ?? name] = value;
          }
          text += `${JSON.stringify(line)}\n`;
        }
        yield Buffer.from(text);
      }
    }
    // The fastest level: the emulator makes the file as it is read, where Auth0 serves one it made.
    return Readable.from(chunks()).pipe(createGzip({ level: 1 }));
  }

  const s3Error = (code: string, message: string) => ({
    status: 403,
    headers: { "content-type": "application/xml" },
    body: Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    ),
  });

  const resource: EmulatorResource = {
    getQuery: [[/^\/api\/v2\/jobs\/[^/]+$/, []]],
    route(req) {
      const { method, path } = req;
      if (!path.startsWith("/api/v2/jobs/")) return undefined;
      if (method === "POST" && path === "/api/v2/jobs/users-exports") {
        requireScope(req, "read:users");
        if (options.plan() === "free") throw new HttpError(403, "Forbidden", PLAN_REFUSAL_MESSAGE);
        const job = createExport((req.body ?? {}) as Record<string, unknown>);
        return [201, jobOut(job)];
      }
      const match = /^\/api\/v2\/jobs\/([^/]+)$/.exec(path);
      if (match && method === "GET") {
        requireScope(req, "read:users", "create:users");
        const job = jobs.get(decodeURIComponent(match[1]));
        if (!job)
          throw new HttpError(404, "Not Found", "The job does not exist.", "inexistent_job");
        return [200, jobOut(job)];
      }
      return undefined;
    },
    publicRoute(req) {
      const match = /^\/exports\/([^/]+)\/tenant\.json\.gz$/.exec(req.path);
      if (!match || req.method !== "GET") return undefined;
      const job = jobs.get(match[1]);
      const expires = Number(req.query.expires);
      const signature = req.query.signature ?? "";
      if (!job || !Number.isFinite(expires) || !sameSecret(signature, sign(job.id, expires))) {
        return s3Error(
          "SignatureDoesNotMatch",
          "The request signature we calculated does not match the signature you provided.",
        );
      }
      if (Date.now() > expires || expireNext > 0) {
        expireNext = Math.max(0, expireNext - 1);
        return s3Error("AccessDenied", "Request has expired");
      }
      downloadCount++;
      return {
        status: 200,
        headers: { "content-type": "application/octet-stream" },
        body: exportFile(job),
      };
    },
  };

  const state: JobsState = {
    resource,
    jobs,
    setExportDelay(ms) {
      exportDelayMs = ms;
    },
    failNextExport() {
      failNext = true;
    },
    expireNextDownloads(n) {
      expireNext = n;
    },
    listTwiceInNextExport(userIds) {
      listTwice = [...userIds];
    },
    onExportCreated: undefined,
    downloads: () => downloadCount,
  };
  return state;
}
