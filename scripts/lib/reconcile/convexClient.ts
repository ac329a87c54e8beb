/**
 * The reconcile's calls to the Convex deployment: its routes under `/auth0/sync/`, each request
 * signed with AUTH0_SYNC_SECRET (server/reconcile/syncRoutes.ts).
 */
import type { Doc } from "../../../convex/_generated/dataModel";
import type { Auth0Profile } from "../../../server/users/auth0Profile";
import type { ApplyResult, UserFieldRules } from "../../../server/reconcile/sync";
import {
  SYNC_APPLY_PATH,
  SYNC_STATUS_PATH,
  SYNC_USERS_PATH,
} from "../../../server/reconcile/syncRoutes";
import type { MetadataEntries } from "../../../server/orgMetadata";
import type { OrgApplyResult } from "../../../server/reconcile/orgSync";
import { SYNC_ORGS_APPLY_PATH, SYNC_ORGS_PAGE_PATH } from "../../../server/reconcile/orgSyncRoutes";
import { signedPost, SignedPostError } from "../signedPost";
import { ReconcileError } from "./errors";

/** What `/auth0/sync/status` answers. */
export interface ConvexStatus {
  /** Normalized issuers this deployment trusts. */
  issuers: string[];
  canonicalIssuer: string;
  /** `auth0.eventsHealth` (see server/events/events.ts). */
  health: Record<string, unknown>;
  /** `auth0.logSyncHealth` (see server/logSync/logSync.ts); absent on a deployment without the log sync. */
  logSync?: unknown;
  /** The app's field rules (`auth0.userFieldRules`); absent on a deployment from before them. */
  fieldRules?: UserFieldRules;
}

export type UserRow = Doc<"users">;

export interface Batch {
  upserts: { auth0UserId: string; profile: Auth0Profile }[];
  deletions: { auth0UserId: string; deletedAt: number }[];
}

/** A batch of organization changes, dated `at` (server/reconcile/orgSync.ts `orgBatchArgs`). */
export interface OrgBatch {
  at: number;
  organizations: {
    auth0OrgId: string;
    name: string;
    displayName: string | null;
    /** `{ key, value }` entries: Auth0 keys are data, never field names. */
    metadata: MetadataEntries | null;
  }[];
  organizationDeletions: { auth0OrgId: string }[];
  memberships: { auth0OrgId: string; auth0UserId: string; roles: string[] }[];
  membershipRemovals: { auth0OrgId: string; auth0UserId: string }[];
}

/** Rows per page read from Convex. */
export const PAGE_SIZE = 5000;
/** Items per batch written to Convex (the route accepts up to 200). */
export const BATCH_SIZE = 100;

export class ConvexSyncClient {
  /** Signed calls made, for the benchmark. */
  calls = 0;

  constructor(
    private readonly origin: string,
    private readonly secret: string,
  ) {}

  private async post(path: string, body: unknown): Promise<unknown> {
    this.calls++;
    let reply;
    try {
      reply = await signedPost({
        origin: this.origin,
        path,
        secret: this.secret,
        body,
        timeoutMs: 120_000,
      });
    } catch (err) {
      if (err instanceof SignedPostError) {
        throw new ReconcileError(`${err.message}: check CONVEX_SITE_URL`);
      }
      throw err;
    }
    if (reply.status === 200) return reply.json;
    const json = (reply.json ?? {}) as { error?: unknown; message?: unknown };
    const code = typeof json.error === "string" ? json.error : "unknown_error";
    const message = typeof json.message === "string" ? json.message.slice(0, 400) : "no details";
    // The routes' own messages say what to fix; a 404 means they are not deployed at all.
    const hint =
      reply.status === 404 ? " (is this module's convex/ deployed? npx convex deploy)" : "";
    throw new ReconcileError(
      `Convex answered ${reply.status} ${code} on ${path}: ${message}${hint}`,
    );
  }

  /** The trusted issuers and the event stream's health. */
  async status(): Promise<ConvexStatus> {
    const json = (await this.post(SYNC_STATUS_PATH, {})) as ConvexStatus;
    if (!Array.isArray(json?.issuers)) throw new ReconcileError("Convex sent an unreadable status");
    return json;
  }

  /**
   * Every `users` row, page by page. The next page is asked for as soon as a page arrives, so
   * Convex reads it while the caller compares this one (two pages in memory at most).
   */
  async *rows(pageSize = PAGE_SIZE): AsyncGenerator<UserRow[]> {
    type Page = { rows: UserRow[]; isDone: boolean; continueCursor: string };
    const read = (cursor: string | null) =>
      this.post(SYNC_USERS_PATH, { cursor, numItems: pageSize }) as Promise<Page>;
    let next: Promise<Page> | null = read(null);
    while (next) {
      const page: Page = await next;
      next = page.isDone ? null : read(page.continueCursor);
      // An unawaited failure is reported by the next await, not as an unhandled rejection.
      next?.catch(() => {});
      yield page.rows;
    }
  }

  /** Every row of `auth0Organizations` or `auth0Memberships`, page by page. */
  async *orgRows(
    table: "auth0Organizations" | "auth0Memberships",
    pageSize = PAGE_SIZE,
  ): AsyncGenerator<Record<string, unknown>[]> {
    let cursor: string | null = null;
    for (;;) {
      const page = (await this.post(SYNC_ORGS_PAGE_PATH, {
        table,
        cursor,
        numItems: pageSize,
      })) as {
        rows: Record<string, unknown>[];
        isDone: boolean;
        continueCursor: string;
      };
      yield page.rows;
      if (page.isDone) return;
      cursor = page.continueCursor;
    }
  }

  /**
   * Applies one batch of organization changes (server/reconcile/orgSync.ts). Convex may apply a batch in
   * part, in order (`applyOrgBatch` stops at its planned budget): the rest is sent again.
   */
  async applyOrgs(batch: OrgBatch): Promise<OrgApplyResult[]> {
    const all: OrgApplyResult[] = [];
    let rest = batch;
    for (;;) {
      const json = (await this.post(SYNC_ORGS_APPLY_PATH, rest)) as { results: OrgApplyResult[] };
      all.push(...json.results);
      // Results come in the batch's order: organizations, memberships, removals, deletions.
      let n = json.results.length;
      const skip = <T>(items: T[]): T[] => {
        const taken = Math.min(n, items.length);
        n -= taken;
        return items.slice(taken);
      };
      rest = {
        ...rest,
        organizations: skip(rest.organizations),
        memberships: skip(rest.memberships),
        membershipRemovals: skip(rest.membershipRemovals),
        organizationDeletions: skip(rest.organizationDeletions),
      };
      const left =
        rest.organizations.length +
        rest.memberships.length +
        rest.membershipRemovals.length +
        rest.organizationDeletions.length;
      if (left === 0) return all;
      if (json.results.length === 0) throw new Error("Convex applied nothing of a batch");
    }
  }

  /**
   * Applies one batch (at most {@link BATCH_SIZE} items is what callers send). Convex may apply
   * a batch in part (server/reconcile/sync.ts `applyBatch` stops at its planned budget): the items without
   * a result are sent again until each has one.
   */
  async apply(batch: Batch): Promise<ApplyResult[]> {
    const all: ApplyResult[] = [];
    let rest = batch;
    while (rest.upserts.length + rest.deletions.length > 0) {
      const json = (await this.post(SYNC_APPLY_PATH, rest)) as { results: ApplyResult[] };
      if (json.results.length === 0) throw new Error("Convex applied nothing of a batch");
      all.push(...json.results);
      const done = new Set(json.results.map((r) => `${r.kind}\u0000${r.auth0UserId}`));
      rest = {
        upserts: rest.upserts.filter((u) => !done.has(`upsert\u0000${u.auth0UserId}`)),
        deletions: rest.deletions.filter((d) => !done.has(`delete\u0000${d.auth0UserId}`)),
      };
    }
    return all;
  }
}
