/**
 * Incremental sync from the Auth0 tenant log, inside the deployment: every minute (convex/crons.ts)
 * `run` reads `GET /api/v2/logs?from=<checkpoint>&take=100`, collects the users the events name
 * (server/logSync/logEvents.ts), refetches each with `GET /api/v2/users/{id}` and applies the profiles
 * through the reconcile's batch (server/reconcile/sync.ts `applyBatch`, so through `upsertUser` /
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
 *   `auth0:logSyncRestart`, then a full reconcile.
 * - Bounded: a run stops after RUN_BUDGET_MS (rate-limit waits included) and applies small
 *   batches; the next run goes on from the checkpoint.
 */
import { ConvexError, v } from "convex/values";
import { internal } from "../api";
import { internalAction, internalMutation, internalQuery, type ActionCtx } from "../builders";
import { normalizeIssuer } from "../tokenIdentifier";
import { deploymentVariable } from "../deploymentVariables";
import {
  Auth0CallError,
  ManagementReader,
  OutOfTime,
  requestToken,
  tokenIssuer,
  type LogSyncConfig,
  type LogSyncToken,
} from "./auth0";
import { readState, writableState } from "./state";
import { position, readLog, start, type Progress } from "./run";

/** How long one run may read and write; the cron starts one a minute and runs never overlap. */
export const RUN_BUDGET_MS = 40_000;
/** Extra time the lease covers past the budget (the last batch in flight). */
const LEASE_MARGIN_MS = 15_000;
/** The log sync's configuration, or null when it is off. */
export function logSyncConfig(): LogSyncConfig | null {
  const domain = deploymentVariable("AUTH0_DOMAIN");
  const clientId = deploymentVariable("AUTH0_LOGS_CLIENT_ID");
  const clientSecret = deploymentVariable("AUTH0_LOGS_CLIENT_SECRET");
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
  let token: LogSyncToken | null = await ctx.runQuery(internal.auth0.logSyncCachedToken, {
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
    await ctx.runMutation(internal.auth0.logSyncSaveToken, { clientId: config.clientId, token });
  }
  return token;
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
    const state = await ctx.runMutation(internal.auth0.logSyncBegin, {
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
          await ctx.runMutation(internal.auth0.logSyncSaveToken, {
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
    await ctx.runMutation(internal.auth0.logSyncFinish, {
      succeeded: error === undefined && status !== "stopped",
      usersRefetched: progress.usersRefetched,
      logEvents: progress.logEvents,
      ...(progress.newestLogDate !== undefined ? { newestLogDate: progress.newestLogDate } : {}),
      ...(error !== undefined ? { error } : {}),
    });
    return result(status, reader?.calls ?? 0);
  },
});

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
 * `npx convex run auth0:logSyncHealth`.
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
 * asks for a full reconcile: `npx convex run auth0:logSyncRestart`, then `npm run sync`.
 */
export const restart = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const row = await writableState(ctx);
    if (!row) return null;
    await ctx.db.patch("auth0LogSyncState", row._id, {
      checkpoint: undefined,
      checkpointDate: undefined,
      stopped: undefined,
      leaseUntil: undefined,
    });
    return null;
  },
});

/** Clears the request for a full reconcile once one ran after the sync (re)started:
 * `npx convex run auth0:logSyncReconciled`. */
export const reconciled = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const row = await writableState(ctx);
    if (row?.stopped) {
      throw new ConvexError({
        code: "log_sync_stopped",
        message:
          "the log sync is stopped: run `npx convex run auth0:logSyncRestart` first, then the full reconcile, then this",
      });
    }
    if (row) await ctx.db.patch("auth0LogSyncState", row._id, { fullReconcileNeeded: undefined });
    return null;
  },
});
