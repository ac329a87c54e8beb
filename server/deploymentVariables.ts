/**
 * The deployment's environment variables: the one place this module reads them, for every other
 * file (and auth.config.ts). Not a Convex function: plain code the others import.
 *
 * Read from process.env although @convex-dev/no-process-env recommends `env` from
 * _generated/server: the codegen `npx convex dev` / `deploy` run against a deployment types that
 * `env` with only CONVEX_CLOUD_URL, CONVEX_SITE_URL and the variables convex/convex.config.ts
 * declares, so `env.AUTH0_DOMAIN` fails their typecheck in an app that declares none. It is
 * reached through globalThis, as convex's own generated server.ts does, so an app without
 * @types/node typechecks too (the lint rule does not see this form: keep every read here).
 */
/**
 * A deployment variable's value, or undefined when it is not set. Read at each call, never cached
 * at module load: `npx convex env set` changes a value without a new push.
 */
export function deploymentVariable(name: string): string | undefined {
  return (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process
    .env[name];
}

/** ConvexError code for a Convex variable holding a value this module does not accept. */
export const INVALID_CONFIGURATION = "invalid_configuration";
