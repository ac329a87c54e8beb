/**
 * `npm run copy-users -- --from dev --to prod`: copies the users of one database connection from
 * one Auth0 tenant to another, with no shared password. Each created user gets a long random
 * password nobody sees and a password-change ticket (links saved owner-only under backups/, never
 * printed); `--password` sets one chosen password instead, only if it is strong.
 *
 *   convex-auth0-users copy-users --from <env> --to <env> [--connection <name>]
 *     [--email-domain example.com | --emails a@x.com,b@y.com] [--update-existing]
 *     [--password] [--resend-tickets] [--dry-run] [--yes] [--json] [--listing auto|export|search]
 *
 * Credentials come from `.env.<env>` in the working directory (AUTH0_DOMAIN, AUTH0_M2M_CLIENT_ID,
 * AUTH0_M2M_CLIENT_SECRET); the source needs read:users, the target read:users, create:users,
 * create:user_tickets (and update:users with --update-existing). The target's users are backed up
 * before the first write. Exit codes: 0 everything asked for was done (or a dry run), 1 some users
 * failed (or the confirmation was declined), 2 an error before writing (configuration, a refused
 * password, no terminal to confirm on without --yes).
 */
import {
  applyCopy,
  EXISTS_IN_TARGET,
  issueTickets,
  type CopyResult,
  type Ticket,
} from "./lib/copyUsers/apply";
import { readEnvironment, type Environment } from "./lib/copyUsers/config";
import { passwordProblem, promptHidden } from "./lib/copyUsers/password";
import { missingPeersMessage } from "./lib/cli/optionalPeers";
import { COPY_EXPORT_FIELDS, planCopy, planText, type ExportedUser } from "./lib/copyUsers/plan";
import { COMMANDS } from "./lib/cli/commands";
import { BIN, parseCommandFlags } from "./lib/cli/spec";
import { createManagementClient } from "./lib/managementApi";
import { listUsers, type ListingMode } from "./lib/reconcile/auth0Users";
import { earlierRuns, openTicketsFile, type TicketsFile } from "./lib/copyUsers/tickets";
import { backupDir, writeBackup } from "./lib/reconcile/backup";
import { confirm, parseListing, run } from "./lib/reconcile/command";
import { createProgress } from "./lib/reconcile/progress";

const EXIT = { ok: 0, someFailed: 1, error: 2 } as const;
const DEFAULT_CONNECTION = "Username-Password-Authentication";

/** Every problem with the flags and both files, before any call. */
function readInputs(argv: string[]) {
  const flags = parseCommandFlags(argv, COMMANDS["copy-users"]);
  if ("error" in flags) return { problems: [flags.error] };
  const problems: string[] = [];
  const listing = parseListing(flags.values.get("listing"));
  if ("error" in listing) problems.push(listing.error);
  const envs: Environment[] = [];
  for (const side of ["from", "to"] as const) {
    const name = flags.values.get(side);
    if (!name) {
      problems.push(`--${side} <environment> is required (reads .env.<environment>)`);
      continue;
    }
    const read = readEnvironment(name);
    if ("problems" in read) problems.push(...read.problems);
    else envs.push(read.env);
  }
  if (envs.length === 2 && envs[0].credentials.domain === envs[1].credentials.domain) {
    problems.push(
      `${envs[0].file} and ${envs[1].file} name the same tenant (${envs[0].credentials.domain}): a tenant cannot be copied onto itself`,
    );
  }
  const emailDomain = flags.values.get("email-domain")?.trim().toLowerCase();
  const emails = flags.values
    .get("emails")
    ?.split(",")
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  if (emailDomain && emails) problems.push("give --email-domain or --emails, not both");
  if (emails?.some((e) => !/^[^@\s]+@[^@\s]+$/.test(e))) {
    problems.push("--emails must be a comma-separated list of email addresses");
  }
  return {
    problems,
    flags,
    from: envs[0],
    to: envs[1],
    listing: "mode" in listing ? listing.mode : ("auto" as const),
    selection: {
      connection: flags.values.get("connection") ?? DEFAULT_CONNECTION,
      emailDomain,
      emails,
      updateExisting: flags.booleans.has("update-existing"),
    },
  };
}

/** The chosen password (COPY_USERS_PASSWORD or a hidden prompt), refused when weak. */
async function choosePassword(
  context: string[],
): Promise<{ password: string } | { problem: string }> {
  let password = process.env.COPY_USERS_PASSWORD;
  if (password === undefined) {
    if (!process.stdin.isTTY) {
      return { problem: "--password needs COPY_USERS_PASSWORD or a terminal to ask on" };
    }
    password = await promptHidden("Password for every copied user (not echoed): ");
  }
  const problem = await passwordProblem(password, context);
  if (problem) return { problem: `the chosen password is refused: ${problem}` };
  return { password };
}

async function listTenant(
  env: Environment,
  progress: ReturnType<typeof createProgress>,
  listing: ListingMode,
) {
  const users: ExportedUser[] = [];
  const client = createManagementClient(env.credentials);
  progress.log(`Listing the users of ${env.name} (${env.credentials.domain})...`);
  await listUsers(client, (u) => void users.push(u as unknown as ExportedUser), {
    fields: COPY_EXPORT_FIELDS,
    progress,
    listing,
  });
  return { client, users };
}

run("copy-users", async () => {
  const inputs = readInputs(process.argv.slice(2));
  if (inputs.problems.length > 0 || !inputs.from || !inputs.to || !inputs.flags) {
    for (const p of inputs.problems) console.error(`copy-users: ${p}`);
    console.error("copy-users: nothing was read or written.");
    return EXIT.error;
  }
  const { flags, from, to, selection } = inputs;
  const json = flags.booleans.has("json");
  const dryRun = flags.booleans.has("dry-run");
  const say = json ? (l: string) => console.error(l) : (l: string) => console.log(l);

  let password: string | undefined;
  if (flags.booleans.has("password")) {
    console.error(
      "copy-users: warning: --password gives every copied user the same password. Anyone who learns it can sign in as any of them; prefer the default (a random password and a password-change ticket each).",
    );
    const missing = missingPeersMessage(BIN, "copy-users --password");
    if (missing) {
      console.error(missing);
      return EXIT.error;
    }
    // What an attacker of these tenants knows: their names, domains and the connection.
    const chosen = await choosePassword([
      from.name,
      to.name,
      from.credentials.domain,
      to.credentials.domain,
      selection.connection,
    ]);
    if ("problem" in chosen) {
      console.error(`copy-users: ${chosen.problem}. Nothing was read or written.`);
      return EXIT.error;
    }
    password = chosen.password;
  }

  const progress = createProgress();
  const source = await listTenant(from, progress, inputs.listing);
  const target = await listTenant(to, progress, inputs.listing);
  progress.done();
  const plan = planCopy(source.users, target.users, selection);
  if (!json) for (const line of planText(plan, from.name, to.name)) console.log(line);

  // Users copy-users created in the target before (a create answered 201): those an
  // interrupted run left without a link get one; with --resend-tickets, every selected one gets
  // a new one. Nobody else ever does: an account made by its person is theirs.
  const inTarget = new Set(target.users.map((u) => u.user_id));
  const earlier = await earlierRuns(to.credentials.domain);
  const selected = new Set(
    [...plan.skip, ...plan.update.map((u) => ({ source: u.source }))].map((x) =>
      x.source.email?.trim().toLowerCase(),
    ),
  );
  const relink = [...(flags.booleans.has("resend-tickets") ? earlier.created : earlier.withoutLink)]
    .filter(([userId, email]) => inTarget.has(userId) && selected.has(email.trim().toLowerCase()))
    .map(([userId, email]) => ({ userId, email }));
  if (relink.length > 0) {
    say(
      flags.booleans.has("resend-tickets")
        ? `${relink.length} user(s) copied by copy-users earlier get a new password-change link.`
        : `${relink.length} user(s) created by an earlier, interrupted run have no password-change link yet: they get one.`,
    );
  }
  const targetEmails = new Set(target.users.map((u) => u.email?.trim().toLowerCase()));
  const unconfirmed = earlier.unconfirmed.filter((e) => targetEmails.has(e) && selected.has(e));
  if (unconfirmed.length > 0) {
    say(
      `${unconfirmed.length} user(s) exist in the target, but an earlier run was interrupted before Auth0 confirmed creating them, so they may be the person's own account: no link is issued (they can use "Forgot password"): ${unconfirmed.join(", ")}`,
    );
  }

  let results: CopyResult[] = [];
  let tickets: Ticket[] = [];
  let backup: string | null = null;
  let ticketsFile: string | null = null;
  const report = (code: number) => {
    if (json) {
      console.log(
        JSON.stringify(
          {
            from: { name: from.name, domain: from.credentials.domain },
            to: { name: to.name, domain: to.credentials.domain },
            dryRun,
            plan: {
              create: plan.create.map((u) => u.email),
              update: plan.update.map((u) => u.source.email),
              skip: plan.skip.map((s) => ({ email: s.source.email, reason: s.reason })),
              conflicts: plan.conflicts.map((c) => ({ email: c.source.email, reason: c.reason })),
              notFound: plan.notFound,
            },
            results,
            backup,
            ticketsFile,
          },
          null,
          2,
        ),
      );
    }
    return code;
  };

  const writes = plan.create.length + plan.update.length + relink.length;
  if (writes === 0) {
    say("Nothing to copy.");
    return report(EXIT.ok);
  }
  const links = relink.length > 0 ? ` and issue ${relink.length} password-change link(s)` : "";
  if (dryRun) {
    say(
      `Dry run: would create ${plan.create.length} and update ${plan.update.length}${links}. Nothing was written.`,
    );
    return report(EXIT.ok);
  }
  if (!flags.booleans.has("yes")) {
    if (!process.stdin.isTTY) {
      console.error(
        "copy-users: not a terminal, so no one can confirm: pass --yes to copy. Nothing was written.",
      );
      return report(EXIT.error);
    }
    const question = `Create ${plan.create.length} and update ${plan.update.length} user(s)${links} in ${to.name} (${to.credentials.domain})?`;
    if (!(await confirm(question))) {
      say("Nothing was written.");
      return report(EXIT.someFailed);
    }
  }

  // Before the first write: the tickets file (a taken name is never a failure after writing)...
  let file: TicketsFile | null = null;
  if ((password === undefined && plan.create.length > 0) || relink.length > 0) {
    file = await openTicketsFile(backupDir(), to.credentials.domain);
    ticketsFile = file.path;
  }
  const journal = file
    ? {
        onCreating: (email: string) => file.append({ event: "creating", email }),
        onCreated: (email: string, userId: string) =>
          file.append({ event: "created", email, userId, status: 201 }),
        onExists: (email: string) => file.append({ event: "exists", email, status: 409 }),
        onTicket: (t: Ticket) => file.append({ event: "ticket", ...t }),
      }
    : undefined;
  try {
    // ...and every user of the target, as listed, proven on disk.
    backup = await writeBackup(`copy-users-${to.name}-users`, target.users);
    say(`Backup of the ${target.users.length} ${to.name} user(s): ${backup}`);

    progress.phase("Copying users", writes);
    ({ results, tickets } = await applyCopy(target.client, plan, {
      connection: selection.connection,
      password,
      progress,
      journal,
    }));
    const again = await issueTickets(target.client, relink, { journal, progress });
    results.push(...again.results);
    tickets.push(...again.tickets);
    progress.done();
  } finally {
    if (file && !(await file.close())) ticketsFile = null;
  }
  if (tickets.length > 0) {
    say(
      `Password-change links for ${tickets.length} user(s): ${ticketsFile} (owner-only; send each link to its user, never all to everyone)`,
    );
  }
  const count = (o: CopyResult["outcome"]) => results.filter((r) => r.outcome === o).length;
  say(
    `Copied: created ${count("created")}, updated ${count("updated")}, skipped ${count("skipped")}, failed ${count("failed")}`,
  );
  for (const r of results.filter((x) => x.outcome === "failed")) {
    say(`  failed: ${r.email}: ${r.reason}`);
  }
  for (const r of results.filter((x) => x.reason === EXISTS_IN_TARGET)) {
    say(`  ${r.email}: ${r.reason}`);
  }
  say(
    "Convex follows by itself: each copied user gets a row in the target deployment at first login (the Action) or at the next npm run sync.",
  );
  return report(count("failed") > 0 ? EXIT.someFailed : EXIT.ok);
});
