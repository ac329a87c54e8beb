/**
 * The user search of `GET /api/v2/users` (search engine v3, Lucene syntax), as far as the tools
 * use it, strictly: anything outside this subset is a 400, so a tool cannot rely on a query the
 * emulator would answer loosely.
 * - `q`: clauses joined by ` AND `, each a date range on `created_at`, `updated_at` or
 *   `last_login`: `[a TO b]` inclusive, `{a TO b}` exclusive, mixed (`[a TO b}`), `*` open; a
 *   bound is an ISO 8601 date (`2024-01-31`, `2024-01-31T10:00:00.000Z`), quoted or not;
 * - `sort`: `field:1` (ascending) or `field:-1`; ties keep the index's order;
 * - `fields` (comma-separated) with `include_fields` (default true) choose the attributes returned.
 * Paging, `include_totals` and the 1,000-result cap stay with the users list (users.ts).
 */
import { HttpError } from "./common";
import type { StoredUser } from "./users";

const DATE_FIELDS = new Set(["created_at", "updated_at", "last_login"]);

interface Clause {
  field: string;
  lo: number;
  loInclusive: boolean;
  hi: number;
  hiInclusive: boolean;
}

function badQuery(message: string): HttpError {
  return new HttpError(400, "Bad Request", message, "invalid_query_string");
}

function bound(raw: string, q: string): number {
  const value = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (value === "*") return NaN;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(value)) {
    throw badQuery(`Invalid query: "${q}" (cannot parse the date "${value}")`);
  }
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00.000Z` : value);
  if (Number.isNaN(ms)) throw badQuery(`Invalid query: "${q}" (cannot parse the date "${value}")`);
  return ms;
}

/** Parses `q` into range clauses (all must match). */
export function parseQuery(q: string): Clause[] {
  const clauses: Clause[] = [];
  for (const part of q.trim().split(/\s+AND\s+/)) {
    const m = /^([a-z_]+):([[{])\s*("[^"]*"|[^\s"]+)\s+TO\s+("[^"]*"|[^\s"\]}]+)\s*([\]}])$/.exec(
      part.trim(),
    );
    if (!m) {
      throw badQuery(
        `Invalid query: "${q}" (the emulator understands date ranges joined by AND, e.g. created_at:[2024-01-01 TO *])`,
      );
    }
    const [, field, open, lo, hi, close] = m;
    if (!DATE_FIELDS.has(field)) {
      throw badQuery(`Invalid query: "${q}" (no date range on the field ${field})`);
    }
    const loMs = bound(lo, q);
    const hiMs = bound(hi, q);
    clauses.push({
      field,
      lo: Number.isNaN(loMs) ? -Infinity : loMs,
      loInclusive: open === "[",
      hi: Number.isNaN(hiMs) ? Infinity : hiMs,
      hiInclusive: close === "]",
    });
  }
  return clauses;
}

function matches(user: StoredUser, clauses: Clause[]): boolean {
  for (const c of clauses) {
    const raw = user[c.field];
    if (typeof raw !== "string") return false;
    const t = Date.parse(raw);
    if (c.lo !== -Infinity && (c.loInclusive ? t < c.lo : t <= c.lo)) return false;
    if (c.hi !== Infinity && (c.hiInclusive ? t > c.hi : t >= c.hi)) return false;
  }
  return true;
}

/** The users matching `q` (all when absent), in `sort` order. */
export function searchUsers(users: Iterable<StoredUser>, query: Record<string, string>) {
  if (query.search_engine !== undefined && query.search_engine !== "v3") {
    throw badQuery(
      `Query validation error: search_engine "${query.search_engine}" is no longer available; use v3`,
    );
  }
  const clauses = query.q === undefined || query.q.trim() === "" ? [] : parseQuery(query.q);
  const found = [...users].filter((u) => matches(u, clauses));
  if (query.sort !== undefined) {
    const m = /^([a-z_]+):(1|-1)$/.exec(query.sort);
    if (!m) throw badQuery(`Query validation error: 'sort' must look like field:1 or field:-1`);
    const [, field, dir] = m;
    const sign = dir === "1" ? 1 : -1;
    const key = (u: StoredUser): string | number => {
      const v = u[field];
      if (DATE_FIELDS.has(field)) return typeof v === "string" ? Date.parse(v) : -Infinity;
      return typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v);
    };
    // Array#sort is stable: ties keep the index's (insertion) order, page after page.
    found.sort((a, b) => sign * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
  return found;
}

/** Applies `fields` / `include_fields` to one user of a list. */
export function projectFields(user: StoredUser, query: Record<string, string>): unknown {
  if (query.fields === undefined || query.fields === "") return user;
  const names = new Set(query.fields.split(",").map((f) => f.trim()));
  const include = query.include_fields !== "false";
  return Object.fromEntries(Object.entries(user).filter(([k]) => names.has(k) === include));
}
