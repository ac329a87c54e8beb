/**
 * The complete listing of a tenant through the user search, for plans without export jobs (Free):
 * `GET /api/v2/users?search_engine=v3&q=created_at:[a TO b}&sort=created_at:1&per_page=100`.
 * Auth0 pages through at most 1,000 results of one query, so the time range is cut into windows
 * and a window is listed only once its `total` says fewer than 1,000 users match it; a fuller one
 * is split (on `created_at`, then on `updated_at` inside one `created_at` millisecond). Windows
 * that cannot be split (1,000+ users sharing both dates) make the listing incomplete: it throws
 * {@link IncompleteListingError} naming them, after listing everything else, and nothing may be
 * compared, written or deleted from it.
 */
import type { ManagementClient } from "auth0";
import { managementFailure, ReconcileError } from "./errors";
import type { Progress } from "./progress";

/** Auth0 answers 400 for any page past this many results of one query. */
export const SEARCH_CAP = 1000;
const PER_PAGE = 100;
/** Users aimed at per window when splitting (room below the cap for uneven spreads). */
const TARGET_PER_WINDOW = 800;
/** A window whose users were fewer than its `total` (deleted or moved while paging) is re-read. */
const READ_ATTEMPTS = 3;

type DateField = "created_at" | "updated_at";

/** A half-open range of milliseconds; infinite ends are open (`*`). */
interface Range {
  lo: number;
  hi: number;
}

/** A slice of the tenant: a `created_at` range, and inside one instant an `updated_at` range. */
interface Window {
  created: Range;
  updated?: Range;
}

/** Thrown when some window could not be listed: the listing is not the whole tenant. */
export class IncompleteListingError extends ReconcileError {
  constructor(
    message: string,
    /** The `q` of each window left out. */
    readonly windows: string[],
  ) {
    super(message);
    this.name = "IncompleteListingError";
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function rangeQuery(field: DateField, r: Range): string {
  // One instant is written inclusive on both ends; otherwise [lo TO hi}.
  if (r.hi - r.lo === 1) return `${field}:[${iso(r.lo)} TO ${iso(r.lo)}]`;
  const lo = r.lo === -Infinity ? "*" : iso(r.lo);
  const hi = r.hi === Infinity ? "*]" : `${iso(r.hi)}}`;
  return `${field}:[${lo} TO ${hi}`;
}

function windowQuery(w: Window): string {
  const created = rangeQuery("created_at", w.created);
  return w.updated ? `${created} AND ${rangeQuery("updated_at", w.updated)}` : created;
}

/** The field a window is sorted and split on. */
const splitField = (w: Window): DateField => (w.updated ? "updated_at" : "created_at");

/** Cuts `[lo, hi)` into `parts` ranges (at least one millisecond each); open ends stay open. */
function cut(r: Range, first: number, last: number, parts: number): Range[] {
  const span = last + 1 - first;
  const n = Math.max(2, Math.min(parts, span));
  const out: Range[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      lo: i === 0 ? r.lo : first + Math.floor((span * i) / n),
      hi: i === n - 1 ? r.hi : first + Math.floor((span * (i + 1)) / n),
    });
  }
  return out;
}

export interface SearchOptions {
  /** Attributes to return; `user_id`, `created_at` and `updated_at` are always asked for. */
  fields: string[];
  progress?: Progress;
}

/** Statistics of a search listing, for reports and the bench. */
export interface SearchStats {
  users: number;
  windows: number;
  queries: number;
}

/**
 * Lists every user through the v3 search, calling `onUser` once per user (deduplicated by id).
 * Throws {@link IncompleteListingError} when some window holds 1,000+ users that share both
 * `created_at` and `updated_at`.
 */
export async function searchAllUsers(
  client: ManagementClient,
  onUser: (user: Record<string, unknown>) => void | Promise<void>,
  options: SearchOptions,
): Promise<SearchStats> {
  const progress = options.progress;
  // The search takes top-level attribute names (an export's `user_metadata.plan` is `user_metadata`).
  const fields = [
    ...new Set([
      "user_id",
      "created_at",
      "updated_at",
      ...options.fields.map((f) => f.split(/[.[]/)[0]),
    ]),
  ].join(",");
  const seen = new Set<string>();
  const stats: SearchStats = { users: 0, windows: 0, queries: 0 };
  const unsplittable: { q: string; total: number }[] = [];

  const query = async (w: Window, page: number, sort: string, perPage = PER_PAGE) => {
    const q = windowQuery(w);
    stats.queries++;
    try {
      const result = await client.users.list({
        search_engine: "v3",
        q,
        sort,
        page,
        per_page: perPage,
        include_totals: true,
        fields,
        include_fields: true,
      });
      const body = result.response as unknown as { total?: unknown; users?: unknown };
      const users = (Array.isArray(body.users) ? body.users : result.data) as Record<
        string,
        unknown
      >[];
      const total = typeof body.total === "number" ? body.total : undefined;
      if (total === undefined) {
        throw new ReconcileError(`the user search answered without a total for ${q}`);
      }
      return { users, total };
    } catch (err) {
      throw managementFailure(err, `searching users (${q}, page ${page})`);
    }
  };

  const emit = async (users: Record<string, unknown>[]) => {
    for (const user of users) {
      const id = user.user_id;
      if (typeof id !== "string") {
        throw new ReconcileError("the user search returned a user without user_id");
      }
      if (seen.has(id)) continue;
      seen.add(id);
      stats.users++;
      await onUser(user);
      progress?.tick();
    }
  };

  const dateOf = (user: Record<string, unknown> | undefined, field: DateField) => {
    const t = typeof user?.[field] === "string" ? Date.parse(user[field] as string) : NaN;
    if (Number.isNaN(t))
      throw new ReconcileError(`the user search returned a user without ${field}`);
    return t;
  };

  const queue: Window[] = [{ created: { lo: -Infinity, hi: Infinity } }];
  let estimated: number | undefined;
  while (queue.length > 0) {
    const w = queue.shift()!;
    const field = splitField(w);
    const sort = `${field}:1`;
    for (let attempt = 1; ; attempt++) {
      const first = await query(w, 0, sort);
      if (estimated === undefined) {
        // The first window is the whole tenant: its total sizes the progress and its ETA.
        estimated = first.total;
        progress?.phase("Auth0 user search", estimated);
      }
      if (first.total >= SEARCH_CAP) {
        const range = field === "created_at" ? w.created : w.updated!;
        const lo = dateOf(first.users[0], field);
        let hi = range.hi === Infinity ? NaN : range.hi - 1;
        if (Number.isNaN(hi)) {
          const last = await query(w, 0, `${field}:-1`, 1);
          hi = dateOf(last.users[0], field);
        }
        if (hi <= lo) {
          if (field === "created_at") {
            // One created_at instant: split on updated_at instead.
            queue.unshift({
              created: { lo, hi: lo + 1 },
              updated: { lo: -Infinity, hi: Infinity },
            });
          } else {
            unsplittable.push({
              q: windowQuery({ ...w, updated: { lo, hi: lo + 1 } }),
              total: first.total,
            });
            stats.windows++;
          }
          break;
        }
        const parts = cut(range, lo, hi, Math.ceil(first.total / TARGET_PER_WINDOW));
        queue.unshift(
          ...parts.map((r) => (field === "created_at" ? { created: r } : { ...w, updated: r })),
        );
        break;
      }
      // Fewer than 1,000: page through, counting what was read against the total.
      const got = new Map<string, Record<string, unknown>>();
      for (const u of first.users) got.set(u.user_id as string, u);
      const pages = Math.ceil(first.total / PER_PAGE);
      for (let page = 1; page < pages; page++) {
        const next = await query(w, page, sort);
        for (const u of next.users) got.set(u.user_id as string, u);
        if (next.users.length < PER_PAGE) break;
      }
      if (got.size < first.total && attempt < READ_ATTEMPTS) {
        // Someone was deleted or changed while paging, which shifts the pages: read it again.
        continue;
      }
      if (got.size < first.total) {
        // Still short after re-reads: the window is changing too fast to trust; say so.
        throw new ReconcileError(
          `the user search kept returning fewer users than its total for ${windowQuery(w)} (${got.size} of ${first.total}); nothing was compared. Run again`,
        );
      }
      await emit([...got.values()]);
      stats.windows++;
      break;
    }
    progress?.note(`${stats.windows} windows done, ${queue.length} to go`);
  }

  if (unsplittable.length > 0) {
    const list = unsplittable.map((u) => `${u.q} (${u.total}+ users)`).join("; ");
    throw new IncompleteListingError(
      `the listing is incomplete: ${unsplittable.length} window(s) hold ${SEARCH_CAP} or more users with the same created_at and updated_at, more than Auth0's user search can page through: ${list}. Nothing was compared, written or deleted. Use an export job (a plan that has them, then --listing export), or change some of those users (any update moves their updated_at) and run again`,
      unsplittable.map((u) => u.q),
    );
  }
  return stats;
}
