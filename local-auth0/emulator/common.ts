/**
 * Pieces every resource of the Management API emulator shares: Auth0's error shape, its paging
 * rules and payload validation helpers, and the contract a resource file implements.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Readable } from "node:stream";

/** An error answered as Auth0 does: `{ statusCode, error, message, errorCode? }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

export interface EmulatorRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** Scopes granted to the bearer token (empty for routes outside `/api/v2`). */
  scopes: ReadonlySet<string>;
  /** The Host the client asked for: the tenant domain, or a custom domain in front of it. */
  host: string;
}

/** A response that is not JSON (a file download, a redirect); a large file is a stream. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | Readable;
}

export type RouteResult = [status: number, payload: unknown] | RawResponse;

/** One area of the Management API (actions, event streams, users, ...). */
export interface EmulatorResource {
  /** Query parameters each GET path takes; anything else is a 400, as on Auth0. */
  getQuery: [RegExp, string[]][];
  /**
   * Answers a `/api/v2` request (token already checked), or returns undefined when the path is
   * not this resource's.
   */
  route(req: EmulatorRequest): RouteResult | undefined | Promise<RouteResult | undefined>;
  /**
   * Answers a request outside `/api/v2` that needs no token (e.g. a signed download URL), or
   * returns undefined.
   */
  publicRoute?(req: EmulatorRequest): RouteResult | undefined | Promise<RouteResult | undefined>;
}

/** Throws Auth0's 403 unless the token carries `scope`. */
export function requireScope(req: EmulatorRequest, ...anyOf: string[]): void {
  if (!anyOf.some((s) => req.scopes.has(s))) {
    throw new HttpError(
      403,
      "Forbidden",
      `Insufficient scope, expected any of: ${anyOf.join(",")}`,
      "insufficient_scope",
    );
  }
}

const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 50;

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison of two strings (hashed first so lengths do not leak). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export function pageParams(query: Record<string, string>): { page: number; perPage: number } {
  const page = query.page === undefined ? 0 : Number(query.page);
  const perPage = query.per_page === undefined ? DEFAULT_PER_PAGE : Number(query.per_page);
  if (!Number.isInteger(page) || page < 0) {
    throw new HttpError(400, "Bad Request", "Query validation error: 'page' must be >= 0");
  }
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
    throw new HttpError(400, "Bad Request", `Query validation error: 'per_page' must be 1..100`);
  }
  return { page, perPage };
}

/** Offset paging as Auth0's older list endpoints answer it: `{ total, page, per_page, <key> }`. */
export function paged<T>(items: T[], query: Record<string, string>, key: string) {
  const { page, perPage } = pageParams(query);
  return {
    total: items.length,
    page,
    per_page: perPage,
    [key]: items.slice(page * perPage, (page + 1) * perPage),
  };
}

export function invalid(message: string): HttpError {
  return new HttpError(400, "Bad Request", `Payload validation error: ${message}`, "invalid_body");
}

export function onlyFields(value: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw invalid(`'Additional properties not allowed: ${key}' on property ${where}.`);
    }
  }
}

/**
 * Checkpoint paging as Auth0 does it (`from`, `take` up to 100, default 50): a page of `items`
 * and, when more remain, the opaque `next` cursor (here the base64url of the next offset).
 */
export function checkpointPage<T>(
  items: T[],
  query: Record<string, string>,
): { page: T[]; next?: string } {
  const take = query.take === undefined ? 50 : Number(query.take);
  if (!Number.isInteger(take) || take < 1 || take > 100) {
    throw new HttpError(400, "Bad Request", "Query validation error: 'take' must be 1..100");
  }
  const from =
    query.from === undefined ? 0 : Number(Buffer.from(query.from, "base64url").toString());
  if (!Number.isInteger(from) || from < 0) {
    throw new HttpError(400, "Bad Request", "Query validation error: 'from' is not a cursor");
  }
  const page = items.slice(from, from + take);
  return from + take < items.length
    ? { page, next: Buffer.from(String(from + take)).toString("base64url") }
    : { page };
}
