/**
 * `npm run sync`: the check-sync plan, then (after a confirmation) the repair: missing users are
 * created and drift is repaired, through the same upsert every login uses. Orphans (Convex rows
 * whose Auth0 user is confirmed gone) are deleted only with --delete-orphans, and only after a
 * backup holding every row to be deleted is on disk.
 *
 *   tsx scripts/sync.ts [--dry-run] [--yes] [--delete-orphans] [--orgs] [--json]
 *     [--listing auto|export|search]
 *
 * --orgs also repairs organizations, memberships and member roles; organizations gone from Auth0
 * are deleted only with --delete-orphans, after the same backup.
 *
 * --dry-run writes nothing on either side. Without --yes it asks; on a non-terminal without --yes
 * it writes nothing and exits 2. Exit codes: 0 done (or nothing to do), 1 differences left (dry
 * run, declined, or changes Convex refused), 2 error.
 */
import { writeBackup } from "./lib/reconcile/backup";
import { confirm, run, startCommand } from "./lib/reconcile/command";
import { appliedText, EXIT, reportJson, reportText } from "./lib/reconcile/report";
import {
  applyOrgChanges,
  orgChangeCounts,
  orgsReportJson,
  orgsReportText,
  reconcileOrgs,
  rowsRemovedBy,
} from "./lib/reconcile/orgs";
import { applyChanges, createClients, reconcile, type ApplyTotals } from "./lib/reconcile/run";

run("sync", async () => {
  const cmd = startCommand("sync", ["dry-run", "yes", "delete-orphans", "orgs"]);
  const dryRun = cmd.flags.booleans.has("dry-run");
  const deleteOrphans = cmd.flags.booleans.has("delete-orphans");
  const clients = createClients(cmd.config);
  const r = await reconcile(clients, cmd.progress, { listing: cmd.listing });
  const orgs = cmd.flags.booleans.has("orgs")
    ? await reconcileOrgs(clients.auth0, clients.convex, cmd.progress)
    : null;
  const orgChanges = orgs ? orgChangeCounts(orgs, deleteOrphans) : null;
  let orgsApplied: Awaited<ReturnType<typeof applyOrgChanges>> | null = null;

  const creates = r.plan.missing.length;
  const updates = r.plan.drift.length;
  const deletions = deleteOrphans ? r.orphans.length : 0;
  let applied: ApplyTotals | null = null;
  let backup: string | null = null;
  const finish = (code: number) => {
    if (cmd.json) {
      const extra = {
        dryRun,
        applied,
        backup,
        ...(orgs ? { organizations: { ...orgsReportJson(orgs), applied: orgsApplied } } : {}),
      };
      console.log(JSON.stringify(reportJson(r, extra), null, 2));
    }
    return code;
  };

  if (!cmd.json) {
    for (const line of reportText(r)) console.log(line);
    if (orgs) for (const line of orgsReportText(orgs)) console.log(line);
  }
  if (r.orphans.length > 0 && !deleteOrphans) {
    cmd.say(
      `${r.orphans.length} orphan(s) are kept: pass --delete-orphans to delete them (a backup is written first).`,
    );
  }
  const orgTotal = orgChanges?.total ?? 0;
  if (orgs && orgs.organizationOrphans.length > 0 && !deleteOrphans) {
    cmd.say(
      `${orgs.organizationOrphans.length} organization(s) gone from Auth0 are kept: pass --delete-orphans to delete them.`,
    );
  }
  if (creates + updates + deletions + orgTotal === 0) {
    cmd.say("Nothing to do.");
    return finish(EXIT.ok);
  }
  const summary =
    `create ${creates}, update ${updates}, delete ${deletions}` +
    (orgChanges
      ? `; organizations: ${orgChanges.organizations} to write, ${orgChanges.organizationDeletions} to delete; memberships: ${orgChanges.memberships} to write, ${orgChanges.membershipRemovals} to remove`
      : "");
  if (dryRun) {
    cmd.say(`Dry run: would ${summary}. Nothing was written.`);
    return finish(EXIT.differences);
  }
  if (!cmd.flags.booleans.has("yes")) {
    if (!process.stdin.isTTY) {
      console.error(
        "sync: not a terminal, so no one can confirm: pass --yes to apply. Nothing was written.",
      );
      return finish(EXIT.error);
    }
    if (!(await confirm(`Apply: ${summary}?`))) {
      cmd.say("Nothing was written.");
      return finish(EXIT.differences);
    }
  }
  const rows = [
    ...(deletions > 0 ? r.orphanRows : []),
    ...(orgs ? rowsRemovedBy(orgs, deleteOrphans) : []),
  ];
  if (rows.length > 0) {
    backup = await writeBackup("convex-orphans", rows);
    cmd.say(`Backup of the ${rows.length} row(s) to delete: ${backup}`);
  }
  applied = await applyChanges(clients.convex, r, {
    progress: cmd.progress,
    ...(backup ? { deleteOrphans: { backupPath: backup } } : {}),
  });
  cmd.say(appliedText(applied));
  if (orgs) {
    orgsApplied = await applyOrgChanges(clients.convex, orgs, {
      deleteOrphans,
      progress: cmd.progress,
    });
    cmd.say(
      `Organizations: applied ${orgsApplied.applied}, unchanged ${orgsApplied.unchanged}, kept newer ${orgsApplied.superseded}, refused ${orgsApplied.refused}`,
    );
  }
  return finish(
    applied.refused > 0 || (orgsApplied?.refused ?? 0) > 0 ? EXIT.differences : EXIT.ok,
  );
});
