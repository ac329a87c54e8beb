/**
 * One reconcile run, shared by check-sync, sync and cron-sync: read both sides completely, compare,
 * confirm orphans with Auth0, and (for sync) apply the changes through the Convex sync routes.
 * Both sides stream: the listing into a fixed-size index (auth0Index.ts), then Convex page by
 * page against it (plan.ts); the profiles to write are read from the listing again. What is
 * compared and written follows the deployment's field rules (`/auth0/sync/status`).
 */
import { profileFromAuth0User } from "../../../server/users/auth0Profile";
import type { ApplyResult } from "../../../server/reconcile/sync";
import { createManagementClient, fetchRetryingToken } from "../managementApi";
import { Auth0Index } from "./auth0Index";
import { confirmGone, listUsers, type ExportOptions, type Listed } from "./auth0Users";
import type { SyncConfig } from "./config";
import {
  BATCH_SIZE,
  ConvexSyncClient,
  type Batch,
  type ConvexStatus,
  type UserRow,
} from "./convexClient";
import { deletionAllowance, type DeletionCap } from "./deletionCap";
import { NO_FIELD_RULES, RowComparer, type Plan } from "./plan";
import type { Progress } from "./progress";
import { checkConfiguredTenant, verifiedTokenSupplier } from "./tenant";
import { Timings } from "./timings";

export interface Reconciliation {
  plan: Plan;
  /** Orphan candidates Auth0 confirmed gone (404): the orphans, one per user. */
  orphans: string[];
  /** When each orphan's 404 was asked for (ms): the deletion is dated with it, so a row or a
   * login newer than the proof (the user signed up again since) survives. */
  provedGoneAt: Map<string, number>;
  /** Candidates Auth0 still knows (created after the listing): not orphans. */
  createdAfterListing: string[];
  /** Candidates not asked about: the deletion was proven over the cap without them
   * ({@link ReconcileOptions.orphanCheckCap}). 0 when every candidate was checked. */
  uncheckedCandidates: number;
  /** Every trusted row of the orphans (a user may have a tenant-domain and a custom-domain
   * row), for the backup written before any deletion. */
  orphanRows: UserRow[];
  /** Rows under a trusted issuer: what a deletion's share is measured against. */
  trustedRows: number;
  /** The listing, to read again for the profiles a repair writes. */
  listing: Listed;
  /** The metadata paths the deployment maps: each profile written carries their values. */
  metadataPaths: string[];
  status: ConvexStatus;
  counts: { auth0Users: number; convexRows: number };
  calls: { managementApi: number; convex: number };
  /** Where the time went (and, with `applyChanges`, the writes). */
  timings: Timings;
}

/** Candidates always checked before a deletion may be found over the cap: enough to report. */
export const MIN_ORPHAN_CHECKS = 20;

export interface ReconcileOptions extends ExportOptions {
  /**
   * When orphans are to be deleted under this cap: stop asking Auth0 about candidates once the
   * users gone (at least {@link MIN_ORPHAN_CHECKS} checked) hold more rows than the cap allows,
   * since that deletion will be refused anyway. Each deleted row still needs its own 404.
   */
  orphanCheckCap?: DeletionCap;
}

export interface Clients {
  auth0: ReturnType<typeof createManagementClient>;
  convex: ConvexSyncClient;
  /** Convex's status, read first: its canonical issuer is the tenant this run may talk to. */
  status: ConvexStatus;
  managementCalls(): number;
}

/**
 * The two clients a run uses, counting their calls, once the Auth0 tenant is proven to be the
 * one Convex trusts (configured domain, then the token's issuer): throws WrongTenantError (exit
 * 2) before any listing, per-user check or write. Convex first: a wrong URL or secret fails in
 * a second.
 */
export async function openClients(config: SyncConfig, progress?: Progress): Promise<Clients> {
  let managementCalls = 0;
  const convex = new ConvexSyncClient(config.convex.origin, config.convex.secret);
  progress?.phase("Convex status");
  const status = await convex.status();
  checkConfiguredTenant(config.auth0.domain, status.canonicalIssuer);
  const onRequest = () => void managementCalls++;
  const token = verifiedTokenSupplier(
    config.auth0,
    status.canonicalIssuer,
    fetchRetryingToken(onRequest),
  );
  progress?.phase("Auth0 tenant check");
  await token();
  return {
    auth0: createManagementClient(config.auth0, { onRequest, token }),
    convex,
    status,
    managementCalls: () => managementCalls,
  };
}

/** Reads both sides and compares them. Writes nothing anywhere. */
export async function reconcile(
  clients: Clients,
  progress: Progress,
  options: ReconcileOptions = {},
): Promise<Reconciliation> {
  const { orphanCheckCap, ...listingOptions } = options;
  const status = clients.status;
  const timings = new Timings();
  // What the deployment writes, as it says: app-owned fields are never drift, mapped metadata is.
  const rules = status.fieldRules ?? NO_FIELD_RULES;
  const metadataPaths = rules.metadata.map((m) => m.from);
  // Released once compared (finish), before the orphan checks: ~100 MB at a million users.
  let index: Auth0Index | undefined = new Auth0Index(rules);
  // Each phase is timed apart: the indexing and the comparison run inside the download and the
  // paging, and are taken out of them.
  let started = performance.now();
  let comparing = 0;
  const listing = await listUsers(
    clients.auth0,
    (user) => {
      const at = performance.now();
      index!.add(user);
      comparing += performance.now() - at;
    },
    { ...listingOptions, progress, timings, metadataPaths },
  );
  timings.add(
    "auth0Listing",
    performance.now() - started - comparing - timings.get("auth0ExportWait"),
  );

  progress.phase("Convex rows");
  const comparer = new RowComparer(index, status.issuers);
  started = performance.now();
  const listed = comparing;
  for await (const page of clients.convex.rows()) {
    const at = performance.now();
    for (const row of page) comparer.add(row);
    comparing += performance.now() - at;
    progress.tick(page.length);
  }
  timings.add("convexPaging", performance.now() - started - (comparing - listed));
  const finishing = performance.now();
  const auth0Users = index.size;
  const plan = comparer.finish();
  index = undefined;
  timings.add("comparison", comparing + performance.now() - finishing);

  const candidates = plan.orphanCandidates.map((c) => c.auth0UserId);
  let checked = { gone: new Set<string>(), present: new Set<string>(), unchecked: 0 };
  const provedGoneAt = new Map<string, number>();
  if (candidates.length > 0) {
    progress.phase("Auth0 orphan check", candidates.length);
    const allowance = orphanCheckCap && deletionAllowance(orphanCheckCap, comparer.trustedRows);
    let goneRows = 0;
    checked = await timings.time("orphanChecks", () =>
      confirmGone(clients.auth0, candidates, {
        progress,
        provedAt: provedGoneAt,
        enough:
          allowance === undefined
            ? undefined
            : (answer) => {
                if (answer.gone) goneRows += comparer.rowCountOf(answer.id);
                return goneRows > allowance && answer.checked >= MIN_ORPHAN_CHECKS;
              },
      }),
    );
  }
  progress.done();
  const orphans = candidates.filter((id) => checked.gone.has(id));
  return {
    plan,
    orphans,
    provedGoneAt,
    createdAfterListing: candidates.filter((id) => checked.present.has(id)),
    uncheckedCandidates: checked.unchecked,
    orphanRows: orphans.flatMap((id) => comparer.rowsOf(id)),
    trustedRows: comparer.trustedRows,
    listing,
    metadataPaths,
    status,
    counts: { auth0Users, convexRows: comparer.rows },
    calls: { managementApi: clients.managementCalls(), convex: clients.convex.calls },
    timings,
  };
}

/** Whether anything needs repair (unknown-issuer rows are reported, not repairable). */
export function hasDifferences(r: Reconciliation): boolean {
  return r.plan.missing.length > 0 || r.plan.drift.length > 0 || r.orphans.length > 0;
}

export interface ApplyTotals {
  created: number;
  updated: number;
  unchanged: number;
  /** Refused: the user was deleted after the listing (a tombstone is newer). */
  userDeleted: number;
  /** Refused: the Auth0 profile's date lies in the future. */
  refused: number;
  removed: number;
  superseded: number;
}

/** Orphan users to delete, with the backup that holds their rows (./deletions.ts builds it). */
export interface UserDeletions {
  backupPath: string;
  /** Each dated with the 404 that proved it, never with now: a user who signed up again and
   * logged in while this run listed organizations or waited for a confirmation keeps the row. */
  users: Batch["deletions"];
}

export interface ApplyOptions {
  progress: Progress;
  /** The orphan users to delete: approveDeletions's, never built elsewhere. */
  deletions?: UserDeletions;
  /** Called for each item Convex answered for, with the fields a change concerned. */
  onResult?: (result: ApplyResult, fields: string[]) => void;
}

/**
 * Creates the missing users, repairs drift and deletes the orphans approved after the backup
 * (`options.deletions`), in batches through the sync routes. Each batch is one Convex
 * transaction; a run that stops half-way leaves every applied batch in place, and running again finishes the job.
 */
export async function applyChanges(
  convex: ConvexSyncClient,
  r: Reconciliation,
  options: ApplyOptions,
): Promise<ApplyTotals> {
  const totals: ApplyTotals = {
    created: 0,
    updated: 0,
    unchanged: 0,
    userDeleted: 0,
    refused: 0,
    removed: 0,
    superseded: 0,
  };
  // One upsert per user, even when two of its rows (tenant and custom domain) drifted: a batch
  // may name a user once, and the upsert reaches the user's row either way.
  const fields = new Map<string, string[]>();
  for (const { auth0UserId } of r.plan.missing) fields.set(auth0UserId, ["created"]);
  for (const { auth0UserId, fields: changed } of r.plan.drift) {
    const known = fields.get(auth0UserId) ?? [];
    fields.set(auth0UserId, [...new Set([...known, ...changed])]);
  }
  const deletions = options.deletions?.users ?? [];

  const total = fields.size + deletions.length;
  if (total === 0) return totals;
  options.progress.phase("Convex writes", total);
  const record = (results: ApplyResult[]) => {
    for (const result of results) {
      const key = result.outcome === "user_deleted" ? "userDeleted" : result.outcome;
      totals[key]++;
      options.onResult?.(result, fields.get(result.auth0UserId) ?? []);
    }
    options.progress.tick(results.length);
  };
  const send = async (batch: Batch) => {
    const started = performance.now();
    record(await convex.apply(batch));
    const ms = performance.now() - started;
    r.timings.add("writes", ms);
    return ms;
  };

  if (fields.size > 0) {
    // The profiles come from the listing, read again: only those of the users to write are
    // mapped (with the mapped metadata, as the comparison read it), a batch at a time.
    const paths = r.metadataPaths.length > 0 ? r.metadataPaths : undefined;
    const written = new Set<string>();
    let upserts: Batch["upserts"] = [];
    let writing = 0;
    const started = performance.now();
    await r.listing.replay(async (user) => {
      const auth0UserId = user.user_id as string;
      if (!fields.has(auth0UserId) || written.has(auth0UserId)) return;
      written.add(auth0UserId);
      const profile = profileFromAuth0User(user as { user_id: string }, paths);
      upserts.push({ auth0UserId, profile });
      if (upserts.length === BATCH_SIZE) {
        writing += await send({ upserts, deletions: [] });
        upserts = [];
      }
    });
    if (upserts.length > 0) writing += await send({ upserts, deletions: [] });
    r.timings.add("auth0ReRead", performance.now() - started - writing);
    // Listed the first time, gone from a search run again: deleted in Auth0 since.
    for (const auth0UserId of fields.keys()) {
      if (!written.has(auth0UserId)) {
        record([{ auth0UserId, kind: "upsert", outcome: "user_deleted" }]);
      }
    }
  }
  for (let i = 0; i < deletions.length; i += BATCH_SIZE) {
    await send({ upserts: [], deletions: deletions.slice(i, i + BATCH_SIZE) });
  }
  options.progress.done();
  return totals;
}
