/**
 * What a repair deletes, table by table, before anything is deleted: the rows for the backup
 * (everything the deletion removes, in every table, each row once) and the counts the
 * mass-deletion cap is checked against. Shared by sync and cron-sync.
 */
import { deletionRecords, type TableRecord } from "./backup";
import type { ConvexSyncClient } from "./convexClient";
import type { TableDeletions } from "./deletionCap";
import { rowsRemovedBy, type OrgReconciliation } from "./orgs";
import type { Reconciliation } from "./run";

export interface DeletionPlan {
  /** The backup's records: users rows, organizations, memberships. */
  records: TableRecord[];
  /** Per table with deletions: how many rows go, out of how many. */
  tables: TableDeletions[];
}

/**
 * Collects every row the repair removes: the orphans' `users` rows (all of a user's rows) and
 * their memberships (deleteUser removes them), and with `orgs` the memberships Auth0 no longer
 * lists and, with `deleteOrphans`, gone organizations with the memberships their deletion purges.
 * Reads the `memberships` table when orphan users are to be deleted. Writes nothing.
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
    for await (const page of convex.orgRows("memberships")) {
      membershipsTotal += page.length;
      for (const m of page) if (orphans.has(String(m.auth0UserId))) userMemberships.push(m);
    }
  }
  const records = deletionRecords({
    users,
    organizations: orgRows.organizations,
    memberships: [...userMemberships, ...orgRows.memberships],
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
      table: "organizations",
      deleting: count("organizations"),
      total: orgs?.counts.convexOrganizations ?? 0,
    },
    { table: "memberships", deleting: count("memberships"), total: membershipsTotal },
  ].filter((t) => t.deleting > 0);
  return { records, tables };
}
