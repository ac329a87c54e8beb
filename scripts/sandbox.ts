/**
 * `npm run sandbox`: the whole setup on 127.0.0.1, with one command and no account (see
 * scripts/lib/sandbox.ts): a local Auth0 tenant (Management API, OIDC discovery and JWKS, the
 * built Post-Login Action at each login, an Event Stream to Convex, the tenant log) and the local
 * Convex host, whose crons run (the tenant-log sync every minute, on its own application).
 * Prints the URLs and the commands to try against it, then runs until Ctrl-C.
 *
 *   convex-auth0-users sandbox [--login <auth0 user id>]
 *
 * --login signs a user up and in once at start (through the Action), to have a row to look at.
 */
import { COMMANDS } from "./lib/cli/commands";
import { parseCommandFlags } from "./lib/cli/spec";
import { startSandbox } from "./lib/sandbox";

async function main(): Promise<number> {
  const flags = parseCommandFlags(process.argv.slice(2), COMMANDS.sandbox);
  if ("error" in flags) {
    console.error(`sandbox: ${flags.error}`);
    return 2;
  }
  const sandbox = await startSandbox({ seed: true, crons: true, reconcile: true });
  const login = flags.values.get("login");
  if (login) {
    await sandbox.signUp({ user_id: login });
    const result = await sandbox.login(login);
    console.log(`Signed ${login} in through the Action: ${result.log.join(" | ")}`);
  }
  const rows = await sandbox.rows();
  console.log(`Local Auth0 tenant:  https://${sandbox.domain}/`);
  console.log(`  Management API:    https://${sandbox.domain}/api/v2/`);
  console.log(
    `  OIDC discovery:    https://${sandbox.domain}/.well-known/openid-configuration (JWKS, RS256 ID tokens)`,
  );
  console.log(`  custom domain:     https://${sandbox.customDomain}/`);
  console.log(`  Post-Login Action: the built bundle, run at each scripted login`);
  console.log(
    `  Event Stream:      user.created/updated/deleted -> ${sandbox.convexUrl}/auth0/events`,
  );
  console.log(
    `  Tenant log:        GET /api/v2/logs, read by the log sync's own application (read:logs, read:users, organization reads)`,
  );
  console.log(`Local Convex host:   ${sandbox.convexUrl} (the .convex.site stand-in)`);
  console.log(
    `  crons:             ${sandbox.crons.names.join("; ")} (convex/crons.ts, on their schedules)`,
  );
  console.log(`  users table:       ${rows.length} row(s)`);
  console.log("");
  console.log("In another terminal, load the sandbox's variables and try the commands:");
  console.log(`  set -a; . ${sandbox.envFile}; set +a`);
  console.log("  npm run doctor");
  console.log("  npm run check-sync");
  console.log("  npm run upsert-user -- --sub 'auth0|try-me' --email try@example.com --name Try");
  console.log("");
  console.log("Ctrl-C stops the sandbox (its certificate, secrets and data are deleted).");

  // `on`, not `once`: a second Ctrl-C while closing must not kill the process before close()
  // deletes the certificate, the secrets and the data.
  await new Promise<void>((resolve) => {
    process.on("SIGINT", () => resolve());
    process.on("SIGTERM", () => resolve());
  });
  await sandbox.close();
  console.log("Sandbox stopped.");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`sandbox failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
