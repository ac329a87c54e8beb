/**
 * `npx convex-auth0-users init`: adds the module to an app. It finds the app's Convex folder
 * (convex.json's `functions`, else convex/), then plans: convex/auth0.ts (new), the module's
 * tables in schema.ts (an existing `users` table becomes `auth0UsersTable(…, { adopting: true })`),
 * `registerRoutes(http)` in http.ts, `registerCrons(crons)` in crons.ts, `auth0Providers()` in
 * auth.config.ts, auth0-actions/tenant.yaml and the module's variables in .env.local.example.
 * A file it cannot edit safely is left as it is and the lines to add are printed ("by hand").
 * It edits bytes, not text: what it does not change comes back byte for byte (a byte order
 * mark, Windows line ends, every comment of a rewritten users table). It never overwrites: new
 * files are created exclusively, edited ones re-checked before and after the write
 * (scripts/lib/init/apply.ts). A second run finds everything there and writes nothing.
 *
 *   convex-auth0-users init [--dry-run] [--yes] [--json] [--dir <path>]
 *
 * --dry-run prints the plan as unified diffs and writes nothing; without --yes it asks once on a
 * terminal and refuses (exit 2) without one; --json prints the plan and the result as one JSON
 * document on stdout; --dir names the app's root (default the working directory). Exit codes:
 * 0 done, dry run or nothing to do; 3 the same but with edits left to the user (a file left "by
 * hand", the app's own insert into users), each listed; 1 a write failed, a file changed
 * meanwhile, or declined;
 * 2 bad input, nothing written (no Convex folder; a file it refuses: not UTF-8, read-only,
 * hard-linked, reached through a link outside the app, not parsing; the module's users table
 * shadowed by an app table or spread; an app users field of the module's name with another
 * meaning, such as its own deletedAt; no terminal without --yes).
 */
import { runInit } from "./lib/init/command";

runInit(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`init: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    process.exit(1);
  },
);
