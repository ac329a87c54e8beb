/**
 * The writes of a copy, one user at a time so that one failure (a 409, a password policy) does not
 * stop the others: `POST /api/v2/users` in the target's connection, then a password-change ticket
 * unless a chosen password was given (each creation and link journaled the moment it exists, see
 * ./tickets.ts); with --update-existing, `PATCH /api/v2/users/{id}` of names
 * and metadata, never the password. The `auth0` SDK waits out rate limits.
 */
import type { ManagementClient } from "auth0";
import type { Progress } from "../reconcile/progress";
import type { CopyPlan, ExportedUser } from "./plan";
import { randomPassword } from "./password";

export interface CopyResult {
  email: string;
  outcome: "created" | "updated" | "skipped" | "failed";
  /** The user's id in the target. */
  userId?: string;
  reason?: string;
}

export interface Ticket {
  email: string;
  userId: string;
  ticket: string;
}

/** How a create answered 409 is reported. */
export const EXISTS_IN_TARGET =
  "exists in the target (created there after the listing, not by copy-users): no link issued";

const PROFILE = ["name", "nickname", "given_name", "family_name", "picture"] as const;

function profileOf(user: ExportedUser): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of PROFILE) if (typeof user[key] === "string" && user[key]) out[key] = user[key];
  if (user.user_metadata && Object.keys(user.user_metadata).length > 0) {
    out.user_metadata = user.user_metadata;
  }
  if (user.app_metadata && Object.keys(user.app_metadata).length > 0) {
    out.app_metadata = user.app_metadata;
  }
  return out;
}

/** Why Auth0 refused, in one line (the SDK's message, or the body's). */
function reasonOf(err: unknown): string {
  const e = err as { statusCode?: number; body?: { message?: unknown } };
  const message =
    typeof e.body?.message === "string"
      ? e.body.message
      : err instanceof Error
        ? err.message.split("\n")[0]
        : String(err);
  return `${e.statusCode ? `HTTP ${e.statusCode}: ` : ""}${message}`.slice(0, 300);
}

/** Where each fact is recorded the moment it exists (the tickets file, fsynced). */
export interface CopyJournal {
  /** Before the create request: a kill before `onCreated` still leaves a trace. */
  onCreating(email: string): Promise<void>;
  /** The create answered 201 with `userId`: this run made the account. */
  onCreated(email: string, userId: string): Promise<void>;
  /** The create answered 409: the account is someone's own, never ticketed. */
  onExists(email: string): Promise<void>;
  onTicket(ticket: Ticket): Promise<void>;
}

/**
 * Issues a link and journals it. A refused ticket comes back as its reason (the other users go
 * on); a journal that cannot be written throws, since a link that is not saved must stop the run.
 */
async function issueAndRecord(
  client: ManagementClient,
  email: string,
  userId: string,
  journal: CopyJournal | undefined,
): Promise<Ticket | { failed: string }> {
  let issued: Ticket;
  try {
    issued = await issueTicket(client, email, userId);
  } catch (err) {
    return { failed: reasonOf(err) };
  }
  await journal?.onTicket(issued);
  return issued;
}

/** Issues a password-change ticket for `userId` (the caller journals it). */
async function issueTicket(
  client: ManagementClient,
  email: string,
  userId: string,
): Promise<Ticket> {
  const { ticket } = await client.tickets.changePassword({
    user_id: userId,
    mark_email_as_verified: false,
  });
  return { email, userId, ticket: ticket! };
}

/**
 * Issues links for users that exist already (created by an earlier, interrupted run, or
 * `--resend-tickets`). One failure does not stop the others.
 */
export async function issueTickets(
  client: ManagementClient,
  users: { email: string; userId: string }[],
  opts: { journal?: CopyJournal; progress?: Progress },
): Promise<{ results: CopyResult[]; tickets: Ticket[] }> {
  const results: CopyResult[] = [];
  const tickets: Ticket[] = [];
  for (const { email, userId } of users) {
    const issued = await issueAndRecord(client, email, userId, opts.journal);
    if ("failed" in issued) {
      const reason = `no password-change ticket (${issued.failed})`;
      results.push({ email, userId, outcome: "failed", reason });
    } else {
      tickets.push(issued);
    }
    opts.progress?.tick();
  }
  return { results, tickets };
}

/**
 * Applies the plan's creates and updates. `password` is the chosen one, if any. Each creation and
 * each link goes to `journal` as soon as it exists, so an interruption loses neither.
 */
export async function applyCopy(
  client: ManagementClient,
  plan: CopyPlan,
  opts: { connection: string; password?: string; progress?: Progress; journal?: CopyJournal },
): Promise<{ results: CopyResult[]; tickets: Ticket[] }> {
  const results: CopyResult[] = [];
  const tickets: Ticket[] = [];
  for (const user of plan.create) {
    const email = user.email!;
    let userId: string;
    if (opts.password === undefined) await opts.journal?.onCreating(email);
    try {
      const { data, rawResponse } = await client.users
        .create({
          connection: opts.connection,
          email,
          email_verified: user.email_verified === true,
          verify_email: false,
          password: opts.password ?? randomPassword(),
          ...profileOf(user),
        })
        .withRawResponse();
      // Only a 201 naming the new user proves that this run made the account.
      if (rawResponse.status !== 201 || typeof data.user_id !== "string" || !data.user_id) {
        results.push({
          email,
          outcome: "failed",
          reason: `Auth0 answered ${rawResponse.status} without a new user id: not treated as created, no link issued`,
        });
        opts.progress?.tick();
        continue;
      }
      userId = data.user_id;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 409) {
        // The person (or someone) made this account since the listing: it is theirs, never
        // given a link by this tool.
        if (opts.password === undefined) await opts.journal?.onExists(email);
        results.push({ email, outcome: "skipped", reason: EXISTS_IN_TARGET });
      } else {
        results.push({ email, outcome: "failed", reason: reasonOf(err) });
      }
      opts.progress?.tick();
      continue;
    }
    // Not inside the try above: a journal that cannot be written stops the run (a user whose
    // creation is not on record could be left without a link).
    if (opts.password === undefined) {
      await opts.journal?.onCreated(email, userId);
      const issued = await issueAndRecord(client, email, userId, opts.journal);
      if ("failed" in issued) {
        results.push({
          email,
          userId,
          outcome: "failed",
          reason: `created, but no password-change ticket (${issued.failed}): run copy-users again to issue it`,
        });
        opts.progress?.tick();
        continue;
      }
      tickets.push(issued);
    }
    results.push({ email, userId, outcome: "created" });
    opts.progress?.tick();
  }
  for (const { source, target } of plan.update) {
    const email = source.email!;
    try {
      await client.users.update(target.user_id, profileOf(source));
      results.push({ email, userId: target.user_id, outcome: "updated" });
    } catch (err) {
      results.push({ email, userId: target.user_id, outcome: "failed", reason: reasonOf(err) });
    }
    opts.progress?.tick();
  }
  for (const { source, reason } of [...plan.skip, ...plan.conflicts]) {
    results.push({ email: source.email ?? source.user_id, outcome: "skipped", reason });
  }
  return { results, tickets };
}
