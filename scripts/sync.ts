/**
 * `npm run sync`: the check-sync plan, then (after a confirmation) the repair: missing users are
 * created and drift is repaired, through the same upsert every login uses. Orphans (Convex rows
 * whose Auth0 user is confirmed gone) are deleted only with --delete-orphans, and only after a
 * backup holding every row to be deleted is on disk.
 *
 *   convex-auth0-users sync [--dry-run] [--yes] [--delete-orphans] [--orgs] [--json]
 *     [--max-deletions N] [--max-deletion-percent P] [--listing auto|export|search]
 *
 * --orgs also repairs organizations, memberships and member roles; organizations gone from Auth0
 * are deleted only with --delete-orphans, after the same backup.
 *
 * --dry-run writes nothing on either side. Without --yes it asks; on a non-terminal without --yes
 * it writes nothing and exits 2. A mass deletion (over the cap: more than --max-deletions rows,
 * default 100, or --max-deletion-percent of a table, default 10; or SYNC_MAX_DELETIONS /
 * SYNC_MAX_DELETION_PERCENT) needs a second proof: on a terminal the count typed back, even with
 * --yes; elsewhere a raised cap. Before anything is read, the Auth0 tenant must be the one Convex
 * trusts. Exit codes: 0 done (or nothing to do), 1 differences left (dry run, declined, or
 * changes Convex refused), 2 error (wrong tenant, mass deletion refused, ...).
 */
import { COMMANDS } from "./lib/cli/commands";
import { ask, confirm, run, startCommand } from "./lib/reconcile/command";
import {
  describeCap,
  describeDeletions,
  overCap,
  readDeletionCap,
} from "./lib/reconcile/deletionCap";
import { approveDeletions, planDeletions } from "./lib/reconcile/deletions";
import { appliedText, EXIT, reportJson, reportText } from "./lib/reconcile/report";
import {
  applyOrgChanges,
  orgChangeCounts,
  orgsReportJson,
  orgsReportText,
  reconcileOrgs,
} from "./lib/reconcile/orgs";
import { applyChanges, openClients, reconcile, type ApplyTotals } from "./lib/reconcile/run";

run("sync", async () => {
  const cmd = startCommand(COMMANDS.sync);
  const capRead = readDeletionCap(cmd.flags.values, process.env);
  if ("problem" in capRead) {
    console.error(`sync: ${capRead.problem}. Nothing was read or written.`);
    return EXIT.error;
  }
  const dryRun = cmd.flags.booleans.has("dry-run");
  const deleteOrphans = cmd.flags.booleans.has("delete-orphans");
  const clients = await openClients(cmd.config, cmd.progress);
  const r = await reconcile(clients, cmd.progress, {
    listing: cmd.listing,
    // Where no one can confirm a mass deletion, checking every candidate only delays the refusal.
    ...(deleteOrphans && (dryRun || !process.stdin.isTTY) ? { orphanCheckCap: capRead.cap } : {}),
  });
  const orgs = cmd.flags.booleans.has("orgs")
    ? await reconcileOrgs(clients.auth0, clients.convex, cmd.progress)
    : null;
  const orgChanges = orgs ? orgChangeCounts(orgs, deleteOrphans) : null;
  let orgsApplied: Awaited<ReturnType<typeof applyOrgChanges>> | null = null;

  // What is deleted is decided once, for every flag combination (./lib/reconcile/deletions.ts).
  const planned = await planDeletions(clients.convex, r, orgs, deleteOrphans);
  const creates = r.plan.missing.length;
  const updates = r.plan.drift.length;
  const deletions = planned.users.length;
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
  const massive = overCap(planned.tables, capRead.cap);
  const summary =
    `create ${creates}, update ${updates}, delete ${deletions}` +
    (orgChanges
      ? `; organizations: ${orgChanges.organizations} to write, ${orgChanges.organizationDeletions} to delete; memberships: ${orgChanges.memberships} to write, ${orgChanges.membershipRemovals} to remove`
      : "");
  const massText = `a mass deletion (${describeDeletions(massive)}), over the cap (${describeCap(capRead.cap)})`;
  if (dryRun) {
    cmd.say(`Dry run: would ${summary}. Nothing was written.`);
    if (massive.length > 0) cmd.say(`This is ${massText}.`);
    return finish(EXIT.differences);
  }
  if (massive.length > 0 && !process.stdin.isTTY) {
    console.error(
      `sync: refusing ${massText}: no one can confirm it here. Check that AUTH0_DOMAIN and CONVEX_SITE_URL name the right tenant and deployment, run check-sync, then raise the cap (--max-deletions / --max-deletion-percent, or SYNC_MAX_DELETIONS / SYNC_MAX_DELETION_PERCENT). Nothing was written.`,
    );
    return finish(EXIT.error);
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
  if (massive.length > 0) {
    // A second proof, even with --yes: the number, typed back.
    const total = massive.reduce((n, t) => n + t.deleting, 0);
    const typed = await ask(
      `This is ${massText}. Type ${total} (the rows over the cap) to delete them: `,
    );
    if (typed !== String(total)) {
      cmd.say("Not confirmed. Nothing was written.");
      return finish(EXIT.differences);
    }
  }
  const approved = await approveDeletions(planned, r);
  backup = approved.backupPath;
  if (backup) cmd.say(`Backup of the ${planned.records.length} row(s) to delete: ${backup}`);
  applied = await applyChanges(clients.convex, r, {
    progress: cmd.progress,
    deletions: approved.users,
  });
  cmd.say(appliedText(applied));
  if (orgs) {
    orgsApplied = await applyOrgChanges(clients.convex, orgs, {
      ...approved.orgs,
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
