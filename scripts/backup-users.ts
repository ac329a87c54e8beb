/**
 * `npm run backup-users`: writes every Auth0 user (from an export job, or the user search on a
 * Free-plan tenant: --listing auto|export|search) and every Convex `users`
 * row to timestamped NDJSON files under backups/ (directory 0700, files 0600). Writes nothing
 * else anywhere.
 *
 *   convex-auth0-users backup-users [--json] [--listing auto|export|search]
 *
 * Exit codes: 0 written, 2 error (a partial file is removed, never left looking complete).
 */
import { listUsers } from "./lib/reconcile/auth0Users";
import { createBackup, type BackupWriter } from "./lib/reconcile/backup";
import { COMMANDS } from "./lib/cli/commands";
import { ReconcileError } from "./lib/reconcile/errors";
import { describeWriteFailure, IncompleteWriteError } from "./lib/reconcile/provenFile";
import { run, startCommand } from "./lib/reconcile/command";
import { EXIT } from "./lib/reconcile/report";
import { openClients } from "./lib/reconcile/run";

/** What an Auth0 backup keeps: the profile, identities and metadata (not password hashes, which
 * Auth0 never exports). */
const BACKUP_FIELDS = [
  "user_id",
  "email",
  "email_verified",
  "username",
  "phone_number",
  "phone_verified",
  "name",
  "nickname",
  "given_name",
  "family_name",
  "picture",
  "identities",
  "app_metadata",
  "user_metadata",
  "blocked",
  "created_at",
  "updated_at",
  "last_login",
  "logins_count",
];

run("backup-users", async () => {
  const cmd = startCommand(COMMANDS["backup-users"]);
  // Convex reachable and the Auth0 tenant the one it trusts, before the export.
  const clients = await openClients(cmd.config, cmd.progress);
  const written: BackupWriter[] = [];
  try {
    const auth0 = await createBackup("auth0-users");
    written.push(auth0);
    await listUsers(clients.auth0, (user) => auth0.write(user), {
      fields: BACKUP_FIELDS,
      progress: cmd.progress,
      listing: cmd.listing,
    });
    await auth0.close();

    const convex = await createBackup("convex-users");
    written.push(convex);
    cmd.progress.phase("Convex rows");
    for await (const page of clients.convex.rows()) {
      for (const row of page) await convex.write(row);
      cmd.progress.tick(page.length);
    }
    await convex.close();
    cmd.progress.done();

    const result = {
      auth0: { path: auth0.path, users: auth0.count },
      convex: { path: convex.path, rows: convex.count },
      stats: { peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) },
    };
    if (cmd.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`Auth0 users: ${auth0.count} -> ${auth0.path}`);
      console.log(`Convex rows: ${convex.count} -> ${convex.path}`);
    }
    return EXIT.ok;
  } catch (err) {
    for (const writer of written) await writer.abort();
    if (!(err instanceof IncompleteWriteError)) throw err;
    throw new ReconcileError(
      `the backup could not be written: ${await describeWriteFailure(written.at(-1)!.path, err)}. No backup file was left; free disk space and run again`,
    );
  }
});
