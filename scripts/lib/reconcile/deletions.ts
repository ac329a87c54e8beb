/**
 * What a repair deletes, decided in one place for sync and cron-sync whatever their other flags:
 * orphan users (and gone organizations) only with --delete-orphans; the rows for the backup
 * (everything the deletion removes, in every table, each row once) and the counts the
 * mass-deletion cap is checked against; then, once the backup is proven on disk, the deletions
 * the apply steps may make. They take their deletions from nowhere else.
 */
import { deletionRecords, writeBackup, type TableRecord } from "./backup";
import type { ConvexSyncClient } from "./convexClient";
import type { TableDeletions } from "./deletionCap";
import { rowsRemovedBy, type OrgReconciliation } from "./orgs";
import type { Reconciliation, UserDeletions } from "./run";

export interface DeletionPlan {
  /** --delete-orphans: orphan users and gone organizations are deleted. */
  deleteOrphans: boolean;
  /** The orphan users this run deletes (all their rows): none without --delete-orphans. */
  users: string[];
  /** The backup's records: users rows, organizations, memberships. */
  records: TableRecord[];
  /** Per table with deletions: how many rows go, out of how many. */
  tables: TableDeletions[];
}

/**
 * Collects every row the repair removes: the orphans' `users` rows (all of a user's rows) and
 * their memberships (deleteUser removes them), and with `orgs` the memberships Auth0 no longer
 * lists and, with `deleteOrphans`, gone organizations with the memberships their deletion purges.
 * Reads the `auth0Memberships` table when orphan users are to be deleted. Writes nothing.
 */
export async function planDeletions(
  convex: ConvexSyncClient,
  r: Reconciliation,
  orgs: OrgReconciliation | null,
  deleteOrphans: boolean,
): Promise<DeletionPlan> {
  const users = deleteOrphans ? r.orphanRows : [];
  const orgRows = orgs
    ? rowsRemovedBy(orgs, deleteOrphans)
    : { organizations: [], memberships: [] };
  const userMemberships: Record<string, unknown>[] = [];
  let membershipsTotal = orgs?.counts.convexMemberships ?? 0;
  if (users.length > 0) {
    const orphans = new Set(r.orphans);
    membershipsTotal = 0;
    for await (const page of convex.orgRows("auth0Memberships")) {
      membershipsTotal += page.length;
      for (const m of page) if (orphans.has(String(m.auth0UserId))) userMemberships.push(m);
    }
  }
  const records = deletionRecords({
    users,
    auth0Organizations: orgRows.organizations,
    auth0Memberships: [...userMemberships, ...orgRows.memberships],
  });
  const count = (table: TableRecord["table"]) => records.filter((x) => x.table === table).length;
  const tables: TableDeletions[] = [
    {
      table: "users",
      deleting: count("users"),
      total: r.trustedRows,
      ...(deleteOrphans && r.uncheckedCandidates > 0 ? { unchecked: r.uncheckedCandidates } : {}),
    },
    {
      table: "auth0Organizations",
      deleting: count("auth0Organizations"),
      total: orgs?.counts.convexOrganizations ?? 0,
    },
    { table: "auth0Memberships", deleting: count("auth0Memberships"), total: membershipsTotal },
  ].filter((t) => t.deleting > 0);
  return { deleteOrphans, users: deleteOrphans ? r.orphans : [], records, tables };
}

/** What a run may delete: built only by {@link approveDeletions} or {@link heldBack}. */
export interface ApprovedDeletions {
  /** The backup holding every row below, or null when nothing is removed. */
  backupPath: string | null;
  /** For applyChanges: the orphan users, each dated with its 404. */
  users: UserDeletions | undefined;
  /** For applyOrgChanges. */
  orgs: { deleteOrphans: boolean; noRemovals: boolean };
}

/**
 * Writes the backup of every row `plan` removes (proven on disk; a failure throws and nothing
 * is deleted) and returns the deletions it covers: exactly the plan's, nothing else.
 */
export async function approveDeletions(
  plan: DeletionPlan,
  r: Reconciliation,
): Promise<ApprovedDeletions> {
  if (plan.records.length === 0) {
    return { backupPath: null, users: undefined, orgs: { deleteOrphans: false, noRemovals: true } };
  }
  const backupPath = await writeBackup("convex-orphans", plan.records);
  return {
    backupPath,
    users:
      plan.users.length > 0
        ? {
            backupPath,
            users: plan.users.map((auth0UserId) => ({
              auth0UserId,
              deletedAt: r.provedGoneAt.get(auth0UserId)!,
            })),
          }
        : undefined,
    orgs: { deleteOrphans: plan.deleteOrphans, noRemovals: false },
  };
}

/** Nothing deleted or removed (cron-sync holding back a mass deletion). */
export const heldBack = (): ApprovedDeletions => ({
  backupPath: null,
  users: undefined,
  orgs: { deleteOrphans: false, noRemovals: true },
});
