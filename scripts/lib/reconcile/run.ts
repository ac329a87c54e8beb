/**
 * One reconcile run, shared by check-sync, sync and cron-sync: read both sides completely, compare,
 * confirm orphans with Auth0, and (for sync) apply the changes through the Convex sync routes.
 */
import type { Auth0Profile } from "../../../server/users/auth0Profile";
import type { ApplyResult } from "../../../server/reconcile/sync";
import { createManagementClient, fetchRetryingToken } from "../managementApi";
import { confirmGone, listAuth0Profiles, type ExportOptions } from "./auth0Users";
import type { SyncConfig } from "./config";
import {
  BATCH_SIZE,
  ConvexSyncClient,
  type Batch,
  type ConvexStatus,
  type UserRow,
} from "./convexClient";
import {
  buildPlan,
  issuerOf,
  NO_FIELD_RULES,
  rowSummarizer,
  type Plan,
  type RowSummary,
} from "./plan";
import type { Progress } from "./progress";
import { checkConfiguredTenant, verifiedTokenSupplier } from "./tenant";

export interface Reconciliation {
  plan: Plan;
  /** Orphan candidates Auth0 confirmed gone (404): the orphans, one per user. */
  orphans: string[];
  /** When each orphan's 404 was asked for (ms): the deletion is dated with it, so a row or a
   * login newer than the proof (the user signed up again since) survives. */
  provedGoneAt: Map<string, number>;
  /** Candidates Auth0 still knows (created after the listing): not orphans. */
  createdAfterListing: string[];
  /** Every trusted row of the orphans (a user may have a tenant-domain and a custom-domain
   * row), for the backup written before any deletion. */
  orphanRows: UserRow[];
  /** Rows under a trusted issuer: what a deletion's share is measured against. */
  trustedRows: number;
  auth0Profiles: Map<string, Auth0Profile>;
  status: ConvexStatus;
  counts: { auth0Users: number; convexRows: number };
  calls: { managementApi: number; convex: number };
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
  exportOptions: ExportOptions = {},
): Promise<Reconciliation> {
  const status = clients.status;
  // What the deployment writes, as it says: app-owned fields are never drift, mapped metadata is.
  const rules = status.fieldRules ?? NO_FIELD_RULES;
  const auth0Profiles = await listAuth0Profiles(clients.auth0, {
    ...exportOptions,
    progress,
    metadataPaths: rules.metadata.map((m) => m.from),
  });
  const summarizeRow = rowSummarizer(rules);

  progress.phase("Convex rows");
  const trusted = new Set(status.issuers);
  const summaries: RowSummary[] = [];
  const candidateRows = new Map<string, UserRow[]>();
  let trustedRows = 0;
  for await (const page of clients.convex.rows()) {
    for (const row of page) {
      const summary = summarizeRow(row);
      summaries.push(summary);
      // An anonymized row's user is already deleted: not a live row, nothing to back up again.
      if (row.deletedAt !== undefined || !trusted.has(issuerOf(row.tokenIdentifier))) continue;
      trustedRows++;
      // Whole rows are kept only for possible orphans (rows of this tenant whose user is not in
      // the listing), all of a user's rows: they go into the backup before any deletion.
      if (!auth0Profiles.has(row.auth0UserId)) {
        candidateRows.set(row.auth0UserId, [...(candidateRows.get(row.auth0UserId) ?? []), row]);
      }
    }
    progress.tick(page.length);
  }

  const plan = buildPlan(auth0Profiles, summaries, status.issuers, Date.now(), rules);
  const candidates = plan.orphanCandidates.map((c) => c.auth0UserId);
  let gone = new Set<string>();
  let present = new Set<string>();
  const provedGoneAt = new Map<string, number>();
  if (candidates.length > 0) {
    progress.phase("Auth0 orphan check", candidates.length);
    ({ gone, present } = await confirmGone(clients.auth0, candidates, progress, provedGoneAt));
  }
  progress.done();
  const orphans = candidates.filter((id) => gone.has(id));
  return {
    plan,
    orphans,
    provedGoneAt,
    createdAfterListing: candidates.filter((id) => present.has(id)),
    orphanRows: orphans.flatMap((id) => candidateRows.get(id) ?? []),
    trustedRows,
    auth0Profiles,
    status,
    counts: { auth0Users: auth0Profiles.size, convexRows: summaries.length },
    calls: { managementApi: clients.managementCalls(), convex: clients.convex.calls },
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
  const fields = new Map<string, string[]>();
  const upserts: Batch["upserts"] = [];
  for (const { auth0UserId } of r.plan.missing) {
    fields.set(auth0UserId, ["created"]);
    upserts.push({ auth0UserId, profile: r.auth0Profiles.get(auth0UserId)! });
  }
  for (const { auth0UserId, fields: changed } of r.plan.drift) {
    fields.set(auth0UserId, changed);
    upserts.push({ auth0UserId, profile: r.auth0Profiles.get(auth0UserId)! });
  }
  const deletions = options.deletions?.users ?? [];

  const total = upserts.length + deletions.length;
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
  for (let i = 0; i < upserts.length; i += BATCH_SIZE) {
    record(await convex.apply({ upserts: upserts.slice(i, i + BATCH_SIZE), deletions: [] }));
  }
  for (let i = 0; i < deletions.length; i += BATCH_SIZE) {
    record(await convex.apply({ upserts: [], deletions: deletions.slice(i, i + BATCH_SIZE) }));
  }
  options.progress.done();
  return totals;
}
