/**
 * `npm run cron-sync`: the unattended sync, for crontab or a scheduled CI job. Applies creates and
 * updates; deletes orphans only with --delete-orphans (or SYNC_DELETE_ORPHANS=true), after the
 * same backup as sync. One run at a time: a lock in logs/ (scripts/lib/reconcile/lock.ts: one left
 * by a dead process here, or whose run's deadline has passed, is taken over; --break-lock takes
 * any). A run stops itself after SYNC_MAX_RUN_MINUTES (default 120). Writes JSON lines to
 * logs/auth0-sync-YYYY-MM-DD.log (UTC): start, counts, each change (user id and fields, no
 * values), errors, end.
 *
 *   convex-auth0-users cron-sync [--delete-orphans] [--orgs] [--break-lock] [--json]
 *     [--max-deletions N] [--max-deletion-percent P] [--listing auto|export|search]
 *
 * --orgs (or SYNC_ORGANIZATIONS=true) also repairs organizations, memberships and member roles.
 *
 * A mass deletion (more than --max-deletions rows, default 100, or --max-deletion-percent of a
 * table, default 10; or SYNC_MAX_DELETIONS / SYNC_MAX_DELETION_PERCENT) is not applied: creates
 * and updates are, no row is removed, the log says why and the exit code is 4.
 *
 * Exit codes: 0 done, 1 some changes were refused by Convex, 2 error (wrong tenant, bad
 * configuration; nothing or only part was written, the next run finishes the job), 3 another run
 * holds the lock, 4 a mass deletion was held back.
 */
import { resolve } from "node:path";
import { COMMANDS } from "./lib/cli/commands";
import { run, startCommand } from "./lib/reconcile/command";
import {
  describeCap,
  describeDeletions,
  overCap,
  readDeletionCap,
} from "./lib/reconcile/deletionCap";
import { approveDeletions, heldBack, planDeletions } from "./lib/reconcile/deletions";
import { ReconcileError } from "./lib/reconcile/errors";
import { acquireLock } from "./lib/reconcile/lock";
import { appliedText, EXIT, reportJson } from "./lib/reconcile/report";
import { applyChanges, openClients, reconcile } from "./lib/reconcile/run";
import { openRunLog } from "./lib/reconcile/runLog";
import { applyOrgChanges, orgsReportJson, reconcileOrgs } from "./lib/reconcile/orgs";

run("cron-sync", async () => {
  const cmd = startCommand(COMMANDS["cron-sync"]);
  const capRead = readDeletionCap(cmd.flags.values, process.env);
  if ("problem" in capRead) {
    console.error(`cron-sync: ${capRead.problem}. Nothing was read or written.`);
    return EXIT.error;
  }
  const withOrgs = cmd.flags.booleans.has("orgs") || process.env.SYNC_ORGANIZATIONS === "true";
  const deleteOrphans =
    cmd.flags.booleans.has("delete-orphans") || process.env.SYNC_DELETE_ORPHANS === "true";
  const maxRunMinutes = Number(process.env.SYNC_MAX_RUN_MINUTES?.trim() || "120");
  if (!Number.isInteger(maxRunMinutes) || maxRunMinutes < 2) {
    console.error("cron-sync: SYNC_MAX_RUN_MINUTES must be a whole number of minutes, at least 2");
    return EXIT.error;
  }
  const lockPath = resolve(process.cwd(), "logs", "auth0-sync.lock");
  const lock = await acquireLock(lockPath, {
    maxRunMs: maxRunMinutes * 60_000,
    force: cmd.flags.booleans.has("break-lock"),
  });
  if (!lock.acquired) {
    const who = lock.owner
      ? `pid ${lock.owner.pid} on ${lock.owner.host}, started ${lock.owner.startedAt}, deadline ${lock.owner.expiresAt}`
      : "unknown owner";
    console.error(
      `cron-sync: another run (${who}) holds ${lockPath}; not starting. A lock whose run died on another host is taken over after its deadline; if you know it is dead, run once with --break-lock`,
    );
    return EXIT.locked;
  }
  let log: ReturnType<typeof openRunLog>;
  try {
    log = openRunLog();
  } catch (err) {
    await lock.release();
    const code = (err as NodeJS.ErrnoException).code;
    throw new ReconcileError(
      code === "ELOOP"
        ? "the log file under logs/ is a symbolic link: it is never followed. Remove it; nothing was read or written"
        : `cannot open the log under logs/ (${code ?? String(err)}); nothing was read or written`,
    );
  }
  const started = Date.now();
  log.write("start", { pid: process.pid, deleteOrphans, organizations: withOrgs });
  const stop = (why: string) => {
    log.write("error", { message: why });
    log.write("end", { exitCode: EXIT.error, durationMs: Date.now() - started });
    void lock.release().finally(() => process.exit(EXIT.error));
  };
  process.once("SIGINT", () => stop("interrupted by SIGINT"));
  process.once("SIGTERM", () => stop("interrupted by SIGTERM"));
  // The lock promises other hosts that this run is over by its deadline: stop a minute before.
  setTimeout(
    () => stop(`stopped at the ${maxRunMinutes}-minute limit (SYNC_MAX_RUN_MINUTES)`),
    (maxRunMinutes - 1) * 60_000,
  ).unref();

  try {
    const clients = await openClients(cmd.config, cmd.progress);
    const r = await reconcile(clients, cmd.progress, {
      listing: cmd.listing,
      // A deletion over the cap is never applied here: no need to check every candidate.
      ...(deleteOrphans ? { orphanCheckCap: capRead.cap } : {}),
    });
    log.write("counts", reportJson(r).counts);
    const orgs = withOrgs ? await reconcileOrgs(clients.auth0, clients.convex, cmd.progress) : null;
    if (orgs) log.write("organization_counts", orgsReportJson(orgs).counts);
    // What is deleted is decided once, for every flag combination (./lib/reconcile/deletions.ts).
    const planned = await planDeletions(clients.convex, r, orgs, deleteOrphans);
    const massive = overCap(planned.tables, capRead.cap);
    let approved = heldBack();
    if (massive.length > 0) {
      const message = `mass deletion held back: ${describeDeletions(massive)} is over the cap (${describeCap(capRead.cap)}). No row was removed. Check that AUTH0_DOMAIN and CONVEX_SITE_URL name the right tenant and deployment, run check-sync, then raise the cap once (--max-deletions / --max-deletion-percent, or SYNC_MAX_DELETIONS / SYNC_MAX_DELETION_PERCENT)`;
      log.write("mass_deletion_refused", { tables: massive, cap: capRead.cap });
      console.error(`cron-sync: ${message}`);
    } else {
      approved = await approveDeletions(planned, r);
      if (approved.backupPath) {
        log.write("backup", { path: approved.backupPath, rows: planned.records.length });
      }
    }
    const backup = approved.backupPath;
    const applied = await applyChanges(clients.convex, r, {
      progress: cmd.progress,
      deletions: approved.users,
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
      ? await applyOrgChanges(clients.convex, orgs, { ...approved.orgs, progress: cmd.progress })
      : null;
    if (orgsApplied) log.write("organizations_applied", orgsApplied);
    const refused = applied.refused + (orgsApplied?.refused ?? 0);
    const exitCode =
      massive.length > 0 ? EXIT.massDeletion : refused > 0 ? EXIT.differences : EXIT.ok;
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
