/**
 * `npm run deploy:auth0`: deploys the built post-login Action and its binding with
 * auth0-deploy-cli, then verifies the tenant (see scripts/lib/deployAuth0.ts). With
 * AUTH0_EVENTS_TOKEN set, also the Event Stream that posts user events to /auth0/events.
 *
 *   convex-auth0-users deploy-auth0 [--dry-run] [--force] [--force-event-stream]
 *                               [--position <first|last|before:X|after:X>] [--json]
 *
 * --force re-imports everything even when the tenant matches; --force-event-stream re-imports only
 * the event stream, to send a rotated AUTH0_EVENTS_TOKEN (Auth0 never returns the token, so a
 * change to it alone cannot be detected).
 * Exit codes: 0 done (or dry run), 1 the import or a Management API call failed, 2 bad input
 * (nothing was called or written), 3 the verification found the tenant not as planned.
 * Reads `.env.local` from the working directory when present; real environment variables win.
 */
import { deployAuth0, EXIT } from "./lib/deployAuth0";
import { COMMANDS } from "./lib/cli/commands";
import { parseCommandFlags } from "./lib/cli/spec";
import { loadEnvFile } from "./lib/deployCli";

async function main(): Promise<number> {
  const flags = parseCommandFlags(process.argv.slice(2), COMMANDS["deploy-auth0"]);
  if ("error" in flags) {
    console.error(`deploy-auth0: ${flags.error}`);
    return EXIT.invalidInput;
  }
  loadEnvFile(process.env);
  const json = flags.booleans.has("json");
  // With --json, progress goes to stderr and stdout holds one JSON document.
  const out = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const result = await deployAuth0({
    env: process.env,
    dryRun: flags.booleans.has("dry-run"),
    force: flags.booleans.has("force"),
    forceEventStream: flags.booleans.has("force-event-stream"),
    position: flags.values.get("position"),
    out,
  });
  if (json) console.log(JSON.stringify(result, null, 2));
  return result.exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`deploy-auth0: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(EXIT.failed);
  },
);
