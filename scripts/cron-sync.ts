/**
 * `npm run cron-sync`: the unattended sync, for crontab or a scheduled CI job. Applies creates and
 * updates; deletes orphans only with --delete-orphans (or SYNC_DELETE_ORPHANS=true), after the
 * same backup as sync. One run at a time: a lock in logs/ (a stale one, left by a run that died,
 * is taken over). Writes JSON lines to logs/auth0-sync-YYYY-MM-DD.log (UTC): start, counts, each
 * change (user id and fields, no values), errors, end.
 *
 *   tsx scripts/cron-sync.ts [--delete-orphans] [--orgs] [--json] [--listing auto|export|search]
 *
 * --orgs (or SYNC_ORGANIZATIONS=true) also repairs organizations, memberships and member roles.
 *
 * Exit codes: 0 done, 1 some changes were refused by Convex, 2 error (nothing or only part was
 * written; the next run finishes the job), 3 another run holds the lock.
 */
import { resolve } from "node:path";
import { writeBackup } from "./lib/reconcile/backup";
import { run, startCommand } from "./lib/reconcile/command";
import { ReconcileError } from "./lib/reconcile/errors";
import { acquireLock } from "./lib/reconcile/lock";
import { appliedText, EXIT, reportJson } from "./lib/reconcile/report";
import { applyChanges, createClients, reconcile } from "./lib/reconcile/run";
import { openRunLog } from "./lib/reconcile/runLog";
import {
  applyOrgChanges,
  orgsReportJson,
  reconcileOrgs,
  rowsRemovedBy,
} from "./lib/reconcile/orgs";

run("cron-sync", async () => {
  const cmd = startCommand("cron-sync", ["delete-orphans", "orgs"]);
  const withOrgs = cmd.flags.booleans.has("orgs") || process.env.SYNC_ORGANIZATIONS === "true";
  const deleteOrphans =
    cmd.flags.booleans.has("delete-orphans") || process.env.SYNC_DELETE_ORPHANS === "true";
  const lockPath = resolve(process.cwd(), "logs", "auth0-sync.lock");
  const lock = await acquireLock(lockPath);
  if (!lock.acquired) {
    const { pid, host, startedAt } = lock.owner;
    console.error(
      `cron-sync: another run (pid ${pid} on ${host}, started ${startedAt}) holds ${lockPath}; not starting`,
    );
    return EXIT.locked;
  }
  const log = openRunLog();
  const started = Date.now();
  log.write("start", { pid: process.pid, deleteOrphans, organizations: withOrgs });
  const stop = (signal: string) => {
    log.write("error", { message: `interrupted by ${signal}` });
    log.write("end", { exitCode: EXIT.error, durationMs: Date.now() - started });
    void lock.release().finally(() => process.exit(EXIT.error));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));

  try {
    const clients = createClients(cmd.config);
    const r = await reconcile(clients, cmd.progress, { listing: cmd.listing });
    log.write("counts", reportJson(r).counts);
    const orgs = withOrgs ? await reconcileOrgs(clients.auth0, clients.convex, cmd.progress) : null;
    if (orgs) log.write("organization_counts", orgsReportJson(orgs).counts);
    let backup: string | null = null;
    const orgRows = orgs ? rowsRemovedBy(orgs, deleteOrphans) : [];
    const userRows = deleteOrphans ? r.orphanRows : [];
    if (userRows.length + orgRows.length > 0) {
      backup = await writeBackup("convex-orphans", [...userRows, ...orgRows]);
      log.write("backup", { path: backup, rows: userRows.length + orgRows.length });
    }
    const applied = await applyChanges(clients.convex, r, {
      progress: cmd.progress,
      ...(backup ? { deleteOrphans: { backupPath: backup } } : {}),
      onResult: (result, fields) =>
        log.write("change", {
          auth0UserId: result.auth0UserId,
          action: result.kind,
          outcome: result.outcome,
          ...(result.kind === "upsert" ? { fields } : {}),
        }),
    });
    if (r.orphans.length > 0 && !deleteOrphans) {
      log.write("orphans_kept", { count: r.orphans.length });
    }
    const orgsApplied = orgs
      ? await applyOrgChanges(clients.convex, orgs, { deleteOrphans, progress: cmd.progress })
      : null;
    if (orgsApplied) log.write("organizations_applied", orgsApplied);
    const refused = applied.refused + (orgsApplied?.refused ?? 0);
    const exitCode = refused > 0 ? EXIT.differences : EXIT.ok;
    log.write("end", { exitCode, durationMs: Date.now() - started, applied });
    cmd.say(appliedText(applied));
    if (cmd.json) console.log(JSON.stringify(reportJson(r, { applied, backup }), null, 2));
    return exitCode;
  } catch (err) {
    const message = err instanceof ReconcileError ? err.message : "unexpected error";
    log.write("error", { message });
    log.write("end", { exitCode: EXIT.error, durationMs: Date.now() - started });
    throw err;
  } finally {
    await lock.release();
  }
});
