/**
 * `npm run deploy`: both halves, in the order that keeps logins working. Convex first, so the
 * `/auth0/upsert-user` route the new Action calls exists before the Action does; then the Auth0
 * Action and its binding (scripts/lib/deployAuth0.ts), verified.
 *
 *   convex-auth0-users deploy [--dry-run] [--force] [--force-event-stream] [--position <first|last|before:X|after:X>] [--bun]
 *
 * Every variable both halves need is checked before anything runs, and all missing ones are named.
 * `--bun` runs the Convex CLI with `bunx` instead of `npx`. `--dry-run` passes `--dry-run` to
 * `convex deploy` and prints the Auth0 plan without writing. Exit codes as in deploy-auth0.ts.
 * Reads `.env.local` from the working directory when present; real environment variables win.
 * Run from the app's folder: `convex deploy` deploys its convex/, and its own
 * `auth0-actions/tenant.yaml` (from init) is read when it has one, else the package's.
 */
import { spawn } from "node:child_process";
import { buildAction } from "./build-action";
import { deployAuth0 } from "./lib/deployAuth0";
import { readDeployInputs } from "./lib/deploy/inputs";
import { DeployInputError, EXIT, loadTenantSpec, tenantYamlPath } from "./lib/deploy/spec";
import { COMMANDS } from "./lib/cli/commands";
import { parseCommandFlags } from "./lib/cli/spec";
import { loadEnvFile } from "./lib/deployCli";

/** Runs in the working directory: the app's (its convex/ and its build), not the package's. */
function run(command: string, args: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: process.cwd(), stdio: "inherit", env: process.env });
    child.on("error", (err) => {
      console.error(`deploy: could not start ${command}: ${err.message}`);
      done(EXIT.failed);
    });
    child.on("close", (code) => done(code ?? EXIT.failed));
  });
}

async function main(): Promise<number> {
  const flags = parseCommandFlags(process.argv.slice(2), COMMANDS.deploy);
  if ("error" in flags) {
    console.error(`deploy: ${flags.error}`);
    return EXIT.invalidInput;
  }
  loadEnvFile(process.env);
  const dryRun = flags.booleans.has("dry-run");
  const position = flags.values.get("position");

  // Validate both halves up front: a half-done deploy is worse than none.
  const problems: string[] = [];
  if (!process.env.CONVEX_DEPLOY_KEY?.trim()) {
    problems.push("missing environment variable(s): CONVEX_DEPLOY_KEY");
  }
  try {
    readDeployInputs(process.env, await loadTenantSpec(tenantYamlPath()), position);
  } catch (err) {
    if (!(err instanceof DeployInputError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`error: ${p}`);
    console.error("Nothing was deployed.");
    return EXIT.invalidInput;
  }

  // In-process, into the package's auth0-actions/dist/ (this checkout's, or the installed
  // package's): the working directory is the app, whose own `npm run build` is convex deploy's.
  console.log("== Building the Action bundle");
  try {
    const built = await buildAction();
    console.log(`built ${built.path} (${built.bytes} bytes)`);
  } catch (err) {
    console.error(`deploy: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }

  console.log(`== Convex: ${flags.booleans.has("bun") ? "bunx" : "npx"} convex deploy`);
  const convexArgs = [
    "convex",
    "deploy",
    "--cmd",
    "npm run build",
    ...(dryRun ? ["--dry-run"] : []),
  ];
  const convex = await run(flags.booleans.has("bun") ? "bunx" : "npx", convexArgs);
  if (convex !== 0) {
    console.error("deploy: convex deploy failed; the Auth0 half was not started.");
    return EXIT.failed;
  }

  console.log("== Auth0: post-login Action");
  const result = await deployAuth0({
    env: process.env,
    dryRun,
    force: flags.booleans.has("force"),
    forceEventStream: flags.booleans.has("force-event-stream"),
    position,
  });
  return result.exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`deploy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(EXIT.failed);
  },
);
