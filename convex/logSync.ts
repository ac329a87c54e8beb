/**
 * Incremental sync from the Auth0 tenant log, inside the deployment: every minute (convex/crons.ts)
 * `run` reads `GET /api/v2/logs?from=<checkpoint>&take=100`, collects the users the events name
 * (convex/logSyncEvents.ts), refetches each with `GET /api/v2/users/{id}` and applies the profiles
 * through the reconcile's batch (convex/sync.ts `applyBatch`, so through `upsertUser` /
 * `deleteUser`, keyed with the canonical issuer). The log is only a hint: every profile comes
 * from the Management API.
 *
 * - Off until configured: without AUTH0_DOMAIN, AUTH0_LOGS_CLIENT_ID and AUTH0_LOGS_CLIENT_SECRET
 *   (a machine-to-machine application with `read:logs` and `read:users`; `read:organizations` and
 *   `read:organization_member_roles` too for organizations) a run returns at once.
 * - Deletions need proof: a 404 `inexistent_user` answered to a token whose `iss` is
 *   `https://AUTH0_DOMAIN/` (the right tenant); the 404's time is the deletion time.
 * - The checkpoint moves only after the users of the events before it are applied: a crash
 *   repeats work, never skips it (the upsert is idempotent and ordered by `updated_at`).
 * - First run: starts at the newest event and asks for one full reconcile. A checkpoint Auth0 no
 *   longer holds (past the plan's retention) or refuses stops the sync and writes nothing: run
 *   `logSync:restart`, then a full reconcile.
 * - Bounded: a run stops after RUN_BUDGET_MS (rate-limit waits included) and applies small
 *   batches; the next run goes on from the checkpoint.
 */
/* eslint-disable @convex-dev/no-process-env -- `env` from _generated/server only types the
   variables convex.config.ts declares, and these are optional: process.env works in both. */
import { ConvexError, v } from "convex/values";
import { internal } from "./_generated/api";
import {
  internalAction,
  internalMutation,
  internalQuery,
  type ActionCtx,
} from "./_generated/server";
import { profileFromAuth0User } from "./auth0Profile";
import { normalizeIssuer } from "./tokenIdentifier";
import { emptyHints, readLogEvent } from "./logSyncEvents";
import {
  Auth0CallError,
  ManagementReader,
  OutOfTime,
  requestToken,
  tokenIssuer,
  type LogSyncConfig,
  type LogSyncToken,
} from "./logSyncAuth0";
import { readState, MAX_USER_ORGANIZATIONS } from "./logSyncState";

/** How long one run may read and write; the cron starts one a minute and runs never overlap. */
export const RUN_BUDGET_MS = 40_000;
/** Extra time the lease covers past the budget (the last batch in flight). */
const LEASE_MARGIN_MS = 15_000;
/** Events per log page (Auth0's maximum). */
export const LOG_PAGE = 100;
/** New users per step: the checkpoint moves after each step, so a slow tenant (2 calls/s on
 * Free) still advances within one run. */
export const STEP_USERS = 20;
/** Profiles per `applyBatch` mutation: a few index reads and one write each. */
export const APPLY_BATCH = 50;

/** Scopes without which organization changes are left to the reconcile. */
const ORG_SCOPES = ["read:organizations", "read:organization_member_roles"];

/** The log sync's configuration, or null when it is off. */
export function logSyncConfig(): LogSyncConfig | null {
  const domain = process.env.AUTH0_DOMAIN;
  const clientId = process.env.AUTH0_LOGS_CLIENT_ID;
  const clientSecret = process.env.AUTH0_LOGS_CLIENT_SECRET;
  if (!domain || !clientId || !clientSecret) return null;
  return { domain, clientId, clientSecret };
}

const runResult = v.object({
  status: v.union(
    /** Not configured: nothing done. */
    v.literal("off"),
    /** Another run holds the lease. */
    v.literal("busy"),
    /** First run: the checkpoint is now the newest event. */
    v.literal("started"),
    /** The tenant log is empty: nothing to start from yet. */
    v.literal("waiting"),
    /** Read to the newest event. */
    v.literal("caught_up"),
    /** Out of time: the next run goes on from the checkpoint. */
    v.literal("partial"),
    /** Stopped (checkpoint past retention or refused): a restart and a full reconcile are needed. */
    v.literal("stopped"),
    v.literal("error"),
  ),
  logEvents: v.number(),
  usersRefetched: v.number(),
  managementCalls: v.number(),
});
type RunResult = typeof runResult.type;

/** A message safe to store: never the token or the secret. */
function safeMessage(err: unknown): string {
  if (err instanceof Auth0CallError || err instanceof OutOfTime) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  return `unexpected error: ${text.slice(0, 300)}`;
}

/** A valid token for the log sync's application, from the cache or from Auth0; checks the tenant. */
async function tokenFor(
  ctx: ActionCtx,
  config: LogSyncConfig,
  deadline: number,
): Promise<LogSyncToken> {
  let token: LogSyncToken | null = await ctx.runQuery(internal.logSyncState.cachedToken, {
    clientId: config.clientId,
  });
  const expected = normalizeIssuer(config.domain);
  if (!token || tokenIssuer(token.accessToken) !== expected) {
    token = await requestToken(config, deadline);
    const iss = tokenIssuer(token.accessToken);
    if (iss !== expected) {
      throw new Auth0CallError(
        `the Management API token was issued by ${iss === undefined ? "an unreadable issuer" : JSON.stringify(iss.slice(0, 100))}, not ${expected}: AUTH0_DOMAIN must be the tenant's own domain; nothing is applied without proof of the tenant`,
      );
    }
    await ctx.runMutation(internal.logSyncState.saveToken, { clientId: config.clientId, token });
  }
  return token;
}

type Upsert = { auth0UserId: string; profile: ReturnType<typeof profileFromAuth0User> };
type Deletion = { auth0UserId: string; deletedAt: number };

/** Refetches one user. A 404 is a deletion only with Auth0's `inexistent_user` code (any other
 * 404 is an error, never a proof), dated with the time of the 404. */
async function fetchUser(
  reader: ManagementReader,
  id: string,
): Promise<{ upsert: Upsert } | { deletion: Deletion }> {
  const answer = await reader.get(`/api/v2/users/${encodeURIComponent(id)}`);
  const body = (answer.json ?? {}) as { user_id?: unknown; errorCode?: unknown };
  if (answer.status === 404) {
    if (body.errorCode !== "inexistent_user") {
      throw new Auth0CallError(
        `Auth0 answered 404 without inexistent_user for a user: not a proof of deletion`,
        404,
      );
    }
    return { deletion: { auth0UserId: id, deletedAt: answer.at } };
  }
  if (body.user_id !== id) {
    throw new Auth0CallError(`Auth0 answered a user of another id or shape for ${id}`);
  }
  return {
    upsert: {
      auth0UserId: id,
      profile: profileFromAuth0User(answer.json as { user_id: string }),
    },
  };
}

/** Applies refetched users through the reconcile's batch, a few per mutation. Every item must
 * come back with an outcome: the checkpoint never moves past a user the batch left out. */
async function applyUsers(ctx: ActionCtx, upserts: Upsert[], deletions: Deletion[]) {
  const batches = [];
  for (let i = 0; i < upserts.length; i += APPLY_BATCH) {
    batches.push({ upserts: upserts.slice(i, i + APPLY_BATCH), deletions: [] });
  }
  for (let i = 0; i < deletions.length; i += APPLY_BATCH) {
    batches.push({ upserts: [], deletions: deletions.slice(i, i + APPLY_BATCH) });
  }
  for (const batch of batches) {
    const results = await ctx.runMutation(internal.sync.applyBatch, batch);
    const sent = new Set([...batch.upserts, ...batch.deletions].map((x) => x.auth0UserId));
    const answered = new Set(results.map((r) => r.auth0UserId));
    if ([...sent].some((id) => !answered.has(id))) {
      throw new Error("applyBatch left users of the batch unapplied");
    }
  }
}

/** Refetches a user's organizations and member roles, and applies them. */
async function refetchUserOrganizations(ctx: ActionCtx, reader: ManagementReader, id: string) {
  const at = Date.now();
  const user = encodeURIComponent(id);
  const organizations = [];
  for (let page = 0; ; page++) {
    const answer = await reader.get(`/api/v2/users/${user}/organizations`, {
      page: String(page),
      per_page: "100",
    });
    // The user is gone (its deletion goes through deleteUser, memberships included); any other
    // 404 proves nothing, so nothing is removed on it.
    const gone = (answer.json as { errorCode?: unknown } | null)?.errorCode === "inexistent_user";
    if (answer.status === 404 && !gone) {
      throw new Auth0CallError(`Auth0 answered 404 on the organizations of ${id}`, 404);
    }
    if (answer.status === 404) return;
    const list = answer.json;
    if (!Array.isArray(list))
      throw new Auth0CallError(`Auth0 answered an unreadable organization list for ${id}`);
    for (const org of list as {
      id?: unknown;
      name?: unknown;
      display_name?: unknown;
      metadata?: unknown;
    }[]) {
      if (typeof org.id !== "string" || typeof org.name !== "string") continue;
      const roles = await reader.get(
        `/api/v2/organizations/${encodeURIComponent(org.id)}/members/${user}/roles`,
        { per_page: "100" },
      );
      if (roles.status === 404) continue; // no longer a member since the listing
      const names = Array.isArray(roles.json)
        ? (roles.json as { name?: unknown }[]).flatMap((r) =>
            typeof r.name === "string" ? [r.name] : [],
          )
        : [];
      const metadata =
        typeof org.metadata === "object" && org.metadata !== null
          ? (Object.fromEntries(
              Object.entries(org.metadata).filter(([, x]) => typeof x === "string"),
            ) as Record<string, string>)
          : null;
      organizations.push({
        auth0OrgId: org.id,
        name: org.name,
        displayName: typeof org.display_name === "string" ? org.display_name : null,
        metadata,
        roles: names.sort(),
      });
    }
    if (list.length < 100) break;
  }
  if (organizations.length > MAX_USER_ORGANIZATIONS) {
    throw new Auth0CallError(
      `${id} belongs to more than ${MAX_USER_ORGANIZATIONS} organizations: run the reconcile with --orgs`,
    );
  }
  await ctx.runMutation(internal.logSyncState.applyUserOrganizations, {
    auth0UserId: id,
    at,
    organizations,
  });
}

interface Progress {
  logEvents: number;
  usersRefetched: number;
  newestLogDate?: number;
}

/** A log event's `log_id` and `date`, when it has both. */
function position(event: unknown): { id: string; date: number } | undefined {
  const e = (event ?? {}) as { log_id?: unknown; date?: unknown };
  const date = typeof e.date === "string" ? Date.parse(e.date) : NaN;
  return typeof e.log_id === "string" && e.log_id !== "" && Number.isFinite(date)
    ? { id: e.log_id, date }
    : undefined;
}

/** Reads the log from `checkpoint` until caught up or out of time. */
async function readLog(
  ctx: ActionCtx,
  reader: ManagementReader,
  token: LogSyncToken,
  checkpoint: string,
  progress: Progress,
): Promise<"caught_up" | "partial" | "stopped"> {
  const held = await reader.get(`/api/v2/logs/${encodeURIComponent(checkpoint)}`);
  if (held.status === 404) {
    await ctx.runMutation(internal.logSyncState.stop, {
      reason:
        "the checkpoint is past the tenant's log retention: events since may be lost. Run `npx convex run logSync:restart`, then a full reconcile (npm run sync)",
    });
    return "stopped";
  }
  const orgsAllowed = ORG_SCOPES.every((s) => token.scope.split(" ").includes(s));
  let cp = checkpoint;
  for (;;) {
    let answer;
    try {
      answer = await reader.get("/api/v2/logs", { from: cp, take: String(LOG_PAGE) });
    } catch (err) {
      if (err instanceof Auth0CallError && err.status === 400) {
        await ctx.runMutation(internal.logSyncState.stop, {
          reason: `Auth0 refused the checkpoint (${err.message}). Run \`npx convex run logSync:restart\`, then a full reconcile (npm run sync)`,
        });
        return "stopped";
      }
      throw err;
    }
    if (!Array.isArray(answer.json))
      throw new Auth0CallError("Auth0 answered an unreadable log page");
    const page: unknown[] = answer.json;
    if (page.length === 0) return "caught_up";
    // Users refetched after this page was read cover every event on it: one refetch each.
    const done = new Set<string>();
    const pageFrom = cp;
    // Refetched but not applied yet, and the last event whose users all are among them.
    let upserts: Upsert[] = [];
    let deletions: Deletion[] = [];
    let reasons: string[] = [];
    let complete: { id: string; date: number } | undefined;
    let events = 0;
    const flush = async () => {
      await applyUsers(ctx, upserts, deletions);
      const refetched = upserts.length + deletions.length;
      if (complete && complete.id > cp) {
        await ctx.runMutation(internal.logSyncState.advance, {
          from: cp,
          to: complete.id,
          toDate: complete.date,
          usersRefetched: refetched,
          reconcileReasons: reasons,
        });
        cp = complete.id;
        progress.logEvents += events;
        progress.newestLogDate = Math.max(progress.newestLogDate ?? 0, complete.date);
        events = 0;
        reasons = [];
      }
      progress.usersRefetched += refetched;
      upserts = [];
      deletions = [];
    };
    try {
      for (const event of page) {
        const hints = emptyHints();
        readLogEvent(event, hints);
        for (const id of hints.users) {
          if (done.has(id)) continue;
          const fetched = await fetchUser(reader, id);
          if ("upsert" in fetched) upserts.push(fetched.upsert);
          else deletions.push(fetched.deletion);
          done.add(id);
        }
        if (hints.userOrganizations.size > 0 && !orgsAllowed) {
          hints.reconcileReasons.push(
            "organization membership changes were logged, but the log sync's application lacks read:organizations / read:organization_member_roles: run the reconcile with --orgs",
          );
        } else {
          for (const id of hints.userOrganizations) {
            if (done.has(`org:${id}`)) continue;
            await refetchUserOrganizations(ctx, reader, id);
            done.add(`org:${id}`);
          }
        }
        reasons.push(...hints.reconcileReasons);
        complete = position(event) ?? complete;
        events += 1;
        if (upserts.length + deletions.length >= STEP_USERS) await flush();
      }
    } catch (err) {
      // What was refetched is applied and the checkpoint moves past the events it covers; the
      // event in progress is read again next run.
      if (err instanceof OutOfTime || err instanceof Auth0CallError || err instanceof TypeError) {
        await flush();
      }
      throw err;
    }
    await flush();
    if (!complete || complete.id <= pageFrom) {
      throw new Auth0CallError(
        "Auth0 answered log events without a usable log_id after the checkpoint",
      );
    }
    if (page.length < LOG_PAGE) return "caught_up";
  }
}

/** One run of the log sync (the cron's). `budgetMs` shortens it (tests). */
export const run = internalAction({
  args: { budgetMs: v.optional(v.number()) },
  returns: runResult,
  handler: async (ctx, { budgetMs = RUN_BUDGET_MS }): Promise<RunResult> => {
    const progress: Progress = { logEvents: 0, usersRefetched: 0 };
    const result = (status: RunResult["status"], calls = 0): RunResult => ({
      status,
      logEvents: progress.logEvents,
      usersRefetched: progress.usersRefetched,
      managementCalls: calls,
    });
    const config = logSyncConfig();
    if (!config) return result("off");
    const budget = Math.min(Math.max(budgetMs, 1_000), RUN_BUDGET_MS);
    const deadline = Date.now() + budget;
    const state = await ctx.runMutation(internal.logSyncState.begin, {
      leaseMs: budget + LEASE_MARGIN_MS,
    });
    if (!state) return result("busy");
    let reader: ManagementReader | undefined;
    let status: RunResult["status"] = "stopped";
    let error: string | undefined;
    try {
      if (!state.stopped) {
        const token = await tokenFor(ctx, config, deadline);
        reader = new ManagementReader(config.domain, token.accessToken, deadline);
        if (state.checkpoint === undefined) {
          status = await start(ctx, reader, progress);
        } else {
          status = await readLog(ctx, reader, token, state.checkpoint, progress);
          if (status === "caught_up") progress.newestLogDate ??= state.checkpointDate;
        }
      }
    } catch (err) {
      if (err instanceof OutOfTime) {
        status = "partial";
      } else {
        status = "error";
        error = safeMessage(err);
        if (err instanceof Auth0CallError && err.status === 401) {
          await ctx.runMutation(internal.logSyncState.saveToken, {
            clientId: config.clientId,
            token: null,
          });
        }
      }
    }
    if (status === "partial" && reader?.hasTime(0)) {
      // Lag: how far the newest event is ahead of where this run stopped.
      const newest = await reader
        .get("/api/v2/logs", { sort: "date:-1", per_page: "1", page: "0" })
        .catch(() => undefined);
      const date =
        newest && Array.isArray(newest.json) ? position(newest.json[0])?.date : undefined;
      if (date !== undefined) progress.newestLogDate = date;
    }
    await ctx.runMutation(internal.logSyncState.finish, {
      succeeded: error === undefined && status !== "stopped",
      usersRefetched: progress.usersRefetched,
      logEvents: progress.logEvents,
      ...(progress.newestLogDate !== undefined ? { newestLogDate: progress.newestLogDate } : {}),
      ...(error !== undefined ? { error } : {}),
    });
    return result(status, reader?.calls ?? 0);
  },
});

/** First run: the checkpoint becomes the newest event; everything before is the reconcile's. */
async function start(ctx: ActionCtx, reader: ManagementReader, progress: Progress) {
  const newest = await reader.get("/api/v2/logs", { sort: "date:-1", per_page: "1", page: "0" });
  const first = Array.isArray(newest.json) ? position(newest.json[0]) : undefined;
  if (!first) return "waiting" as const;
  await ctx.runMutation(internal.logSyncState.initialize, {
    checkpoint: first.id,
    checkpointDate: first.date,
    reason:
      "the log sync started from now: run one full reconcile (npm run sync) to cover what came before, then `npx convex run logSync:reconciled`",
  });
  progress.newestLogDate = first.date;
  return "started" as const;
}

const healthShape = v.object({
  configured: v.boolean(),
  running: v.boolean(),
  checkpoint: v.union(v.string(), v.null()),
  /** Date (ms) of the checkpoint's event: changes up to it have reached Convex. */
  checkpointDate: v.union(v.number(), v.null()),
  /** How far (ms) the newest event the last run saw is ahead of the checkpoint. */
  lagMs: v.union(v.number(), v.null()),
  lastRunAt: v.union(v.number(), v.null()),
  lastSuccessAt: v.union(v.number(), v.null()),
  lastRunUsersRefetched: v.number(),
  lastRunLogEvents: v.number(),
  usersRefetchedTotal: v.number(),
  consecutiveErrors: v.number(),
  lastError: v.union(v.null(), v.object({ at: v.number(), message: v.string() })),
  stopped: v.union(v.null(), v.object({ at: v.number(), reason: v.string() })),
  fullReconcileNeeded: v.union(v.null(), v.object({ since: v.number(), reason: v.string() })),
});

/**
 * The log sync's health, for the sync status route (check-sync prints it), the doctor and
 * `npx convex run logSync:health`.
 */
export const health = internalQuery({
  args: {},
  returns: healthShape,
  handler: async (ctx) => {
    const row = await readState(ctx);
    const lag =
      row?.checkpointDate !== undefined && row.newestLogDate !== undefined
        ? Math.max(0, row.newestLogDate - row.checkpointDate)
        : null;
    return {
      configured: logSyncConfig() !== null,
      running: row?.leaseUntil !== undefined && row.leaseUntil > Date.now(),
      checkpoint: row?.checkpoint ?? null,
      checkpointDate: row?.checkpointDate ?? null,
      lagMs: lag,
      lastRunAt: row?.lastRunAt ?? null,
      lastSuccessAt: row?.lastSuccessAt ?? null,
      lastRunUsersRefetched: row?.lastRunUsersRefetched ?? 0,
      lastRunLogEvents: row?.lastRunLogEvents ?? 0,
      usersRefetchedTotal: row?.usersRefetchedTotal ?? 0,
      consecutiveErrors: row?.consecutiveErrors ?? 0,
      lastError: row?.lastError ?? null,
      stopped: row?.stopped ?? null,
      fullReconcileNeeded: row?.fullReconcileNeeded ?? null,
    };
  },
});

/**
 * Starts the log sync again from the newest event (after it stopped, or to skip a backlog) and
 * asks for a full reconcile: `npx convex run logSync:restart`, then `npm run sync`.
 */
export const restart = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const row = await readState(ctx);
    if (!row) return null;
    await ctx.db.patch("logSyncState", row._id, {
      checkpoint: undefined,
      checkpointDate: undefined,
      stopped: undefined,
      leaseUntil: undefined,
    });
    return null;
  },
});

/** Clears the request for a full reconcile once one ran after the sync (re)started:
 * `npx convex run logSync:reconciled`. */
export const reconciled = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const row = await readState(ctx);
    if (row?.stopped) {
      throw new ConvexError({
        code: "log_sync_stopped",
        message:
          "the log sync is stopped: run `npx convex run logSync:restart` first, then the full reconcile, then this",
      });
    }
    if (row) await ctx.db.patch("logSyncState", row._id, { fullReconcileNeeded: undefined });
    return null;
  },
});
