/* eslint-disable @convex-dev/no-process-env -- the one place this module reads deployment
   variables. `env` from _generated/server is typed, by the codegen `npx convex dev` / `deploy`
   run against a deployment, with only CONVEX_CLOUD_URL, CONVEX_SITE_URL and the variables
   convex/convex.config.ts declares, so `env.AUTH0_DOMAIN` fails their typecheck in an app that
   declares none; process.env types the same way under both codegens. */
/**
 * The deployment's environment variables, for every file of this module (and auth.config.ts).
 * Not a Convex function: plain code the others import.
 */

/**
 * A deployment variable's value, or undefined when it is not set. Read at each call, never cached
 * at module load: `npx convex env set` changes a value without a new push.
 */
export function deploymentVariable(name: string): string | undefined {
  return process.env[name];
}
