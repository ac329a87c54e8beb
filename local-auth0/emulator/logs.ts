/**
 * The tenant log in the Management API emulator (`read:logs`), as Auth0 documents it:
 * - `GET /api/v2/logs?from=<log_id>&take=N` (checkpoint mode, take at most 100): the events whose
 *   `log_id` is after `from`, in `log_id` order; "any parameter other than from and take will be
 *   ignored"; an empty page is `[]`. A `from` that is not a log id is a 400;
 * - `GET /api/v2/logs?page&per_page&sort=date:-1` (search mode): newest first by default;
 * - `GET /api/v2/logs/{id}`: one event, 404 once it is past retention or never existed;
 * - retention by plan: Free 1 day, Essentials 5, Professional 10, Enterprise 30. An event older
 *   than that is gone from every answer (a checkpoint past it silently skips: Auth0 returns what it
 *   still holds, which is why a reader must check its checkpoint still exists).
 * The front door appends a `sapi` event for every successful Management API write (the Dashboard
 * is an API client too), with `details.request` (method lower case, path, query, body with
 * secrets redacted) and `details.response` (status, body); a user deletion adds an `sdu`, whose
 * `user_id` Auth0 may omit (here omitted: the harder case). Tests add the events users cause
 * themselves (`ss` signup, `sce` email change, `sv` verification...) with {@link LogsState.append}.
 */
import { HttpError, pageParams, requireScope, type EmulatorResource } from "./common";

/** Auth0's plans and their log retention in days (docs, "Log Data Retention"). */
export const LOG_RETENTION_DAYS = { free: 1, essentials: 5, professional: 10, enterprise: 30 };
export type Plan = keyof typeof LOG_RETENTION_DAYS;

/** One tenant log event: the documented attributes, and anything a test adds. */
export interface LogEvent {
  log_id: string;
  date: string;
  type: string;
  description?: string;
  user_id?: string;
  user_name?: string;
  client_id?: string;
  connection?: string;
  hostname?: string;
  details?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface LogsState {
  resource: EmulatorResource;
  /** Every event appended, expired ones included, in `log_id` order. */
  entries: LogEvent[];
  /** Appends an event now (or at `date`), giving it the next `log_id`. */
  append(event: Partial<LogEvent> & { type: string }): LogEvent;
  /** The events a successful Management API write leaves (`sapi`, and `sdu` for a deletion). */
  recordApiWrite(write: {
    method: string;
    path: string;
    query: Record<string, string>;
    body: unknown;
    status: number;
    response: unknown;
    clientId?: string;
    host: string;
  }): void;
  /** The tenant's plan, which sets the retention (default `professional`). */
  setPlan(plan: Plan): void;
  /** Moves every event `ms` into the past (time passing, without waiting). */
  age(ms: number): void;
}

/** Keys whose values Auth0 redacts in `details.request.body`. */
const REDACTED = new Set(["password", "client_secret", "secret", "value"]);

function redact(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [k, REDACTED.has(k) ? "REDACTED" : v]),
  );
}

/** Auth0's descriptions of the Management API operations the emulator serves. */
function describeWrite(method: string, path: string): string {
  if (/^\/api\/v2\/users$/.test(path)) return "Create a User";
  if (/^\/api\/v2\/users\/[^/]+$/.test(path)) {
    return method === "DELETE" ? "Delete a User" : "Update a User";
  }
  if (/^\/api\/v2\/organizations\/[^/]+\/members$/.test(path)) {
    return method === "DELETE"
      ? "Delete members from an organization"
      : "Add members to an organization";
  }
  return `${method} ${path}`;
}

// Auth0 log ids are 56 digits that sort in log order; this keeps that shape.
const LOG_ID_PREFIX = "9002026";
const LOG_ID_DIGITS = 56 - LOG_ID_PREFIX.length;

/** The tenant log of an emulated tenant. */
export function createLogs(): LogsState {
  const entries: LogEvent[] = [];
  let seq = 0;
  let plan: Plan = "professional";
  const retained = (e: LogEvent) =>
    Date.parse(e.date) >= Date.now() - LOG_RETENTION_DAYS[plan] * 86_400_000;

  function append(event: Partial<LogEvent> & { type: string }): LogEvent {
    seq += 1;
    const entry: LogEvent = {
      ...event,
      type: event.type,
      date: event.date ?? new Date().toISOString(),
      log_id: LOG_ID_PREFIX + String(seq).padStart(LOG_ID_DIGITS, "0"),
    };
    entries.push(entry);
    return entry;
  }

  const resource: EmulatorResource = {
    getQuery: [
      [
        /^\/api\/v2\/logs$/,
        [
          "from",
          "take",
          "page",
          "per_page",
          "sort",
          "fields",
          "include_fields",
          "include_totals",
          "q",
          "search",
        ],
      ],
      [/^\/api\/v2\/logs\/[^/]+$/, []],
    ],
    route(req) {
      if (req.method !== "GET" || !req.path.startsWith("/api/v2/logs")) return undefined;
      requireScope(req, "read:logs");
      const visible = entries.filter(retained);
      const one = /^\/api\/v2\/logs\/([^/]+)$/.exec(req.path);
      if (one) {
        const entry = visible.find((e) => e.log_id === decodeURIComponent(one[1]));
        if (!entry) throw new HttpError(404, "Not Found", "log not found", "inexistent_log");
        return [200, entry];
      }
      if (req.path !== "/api/v2/logs") return undefined;
      if (req.query.from !== undefined) {
        const from = req.query.from;
        if (!/^\d{1,64}$/.test(from)) {
          throw new HttpError(400, "Bad Request", "Query validation error: 'from' is not a log id");
        }
        const take = req.query.take === undefined ? 50 : Number(req.query.take);
        if (!Number.isInteger(take) || take < 1 || take > 100) {
          throw new HttpError(400, "Bad Request", "Query validation error: 'take' must be 1..100");
        }
        // log ids have one length, so text order is log order.
        return [200, visible.filter((e) => e.log_id > from).slice(0, take)];
      }
      const { page, perPage } = pageParams(req.query);
      const ascending = req.query.sort === "date:1";
      const sorted = ascending ? visible : [...visible].reverse();
      return [200, sorted.slice(page * perPage, (page + 1) * perPage)];
    },
  };

  return {
    resource,
    entries,
    append,
    recordApiWrite({ method, path, query, body, status, response, clientId, host }) {
      const base = {
        client_id: clientId,
        hostname: host,
        ip: "127.0.0.1",
      };
      append({
        ...base,
        type: "sapi",
        description: describeWrite(method, path),
        details: {
          request: {
            method: method.toLowerCase(),
            path,
            query,
            body: redact(body),
            channel: "api",
          },
          response: { statusCode: status, body: redact(response) },
        },
      });
      if (method === "DELETE" && /^\/api\/v2\/users\/[^/]+$/.test(path)) {
        append({
          ...base,
          type: "sdu",
          description: "User deleted",
          details: { body: { connection: "Username-Password-Authentication", tenant: host } },
        });
      }
    },
    setPlan(next) {
      plan = next;
    },
    age(ms) {
      for (const e of entries) e.date = new Date(Date.parse(e.date) - ms).toISOString();
    },
  };
}
