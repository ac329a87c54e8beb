/**
 * How a log sync run reads the tenant log (see server/logSync/logSync.ts, which starts runs): the first
 * checkpoint, the pages after it, the users and organizations the events name refetched and
 * applied in small batches, and the checkpoint moved after them. No Convex functions here.
 */
import { internal } from "../api";
import type { ActionCtx } from "../builders";
import { profileFromAuth0User, metadataMappings } from "../users";
import { emptyHints, readLogEvent } from "./logEvents";
import { auth0MetadataEntries } from "../orgMetadata";
import { Auth0CallError, ManagementReader, OutOfTime, type LogSyncToken } from "./auth0";
import { MAX_USER_ORGANIZATIONS } from "./state";

/** Events per log page (Auth0's maximum). */
export const LOG_PAGE = 100;
/** New users per step: the checkpoint moves after each step, so a slow tenant (2 calls/s on
 * Free) still advances within one run. */
export const STEP_USERS = 20;
/** Profiles per `applyBatch` mutation: a few index reads and one write each. */
export const APPLY_BATCH = 50;

/** Scopes without which organization changes are left to the reconcile. */
const ORG_SCOPES = ["read:organizations", "read:organization_member_roles"];

type Upsert = { auth0UserId: string; profile: ReturnType<typeof profileFromAuth0User> };
type Deletion = { auth0UserId: string; deletedAt: number };

/** The metadata paths the app maps, or undefined (no metadata carried) when it maps none. */
function mappedPaths(): string[] | undefined {
  const paths = metadataMappings().map((m) => m.from);
  return paths.length > 0 ? paths : undefined;
}

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
      // Only the metadata the app maps travels on (its mappings are set in this module).
      profile: profileFromAuth0User(answer.json as { user_id: string }, mappedPaths()),
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
    const results = await ctx.runMutation(internal.auth0.applyBatch, batch);
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
      const metadata = auth0MetadataEntries(org.metadata);
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
  await ctx.runMutation(internal.auth0.logSyncApplyUserOrganizations, {
    auth0UserId: id,
    at,
    organizations,
  });
}

export interface Progress {
  logEvents: number;
  usersRefetched: number;
  newestLogDate?: number;
}

/** A log event's `log_id` and `date`, when it has both. */
export function position(event: unknown): { id: string; date: number } | undefined {
  const e = (event ?? {}) as { log_id?: unknown; date?: unknown };
  const date = typeof e.date === "string" ? Date.parse(e.date) : NaN;
  return typeof e.log_id === "string" && e.log_id !== "" && Number.isFinite(date)
    ? { id: e.log_id, date }
    : undefined;
}

/** Reads the log from `checkpoint` until caught up or out of time. */
export async function readLog(
  ctx: ActionCtx,
  reader: ManagementReader,
  token: LogSyncToken,
  checkpoint: string,
  progress: Progress,
): Promise<"caught_up" | "partial" | "stopped"> {
  const held = await reader.get(`/api/v2/logs/${encodeURIComponent(checkpoint)}`);
  if (held.status === 404) {
    await ctx.runMutation(internal.auth0.logSyncStop, {
      reason:
        "the checkpoint is past the tenant's log retention: events since may be lost. Run `npx convex run auth0:logSyncRestart`, then a full reconcile (npm run sync)",
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
        await ctx.runMutation(internal.auth0.logSyncStop, {
          reason: `Auth0 refused the checkpoint (${err.message}). Run \`npx convex run auth0:logSyncRestart\`, then a full reconcile (npm run sync)`,
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
        await ctx.runMutation(internal.auth0.logSyncAdvance, {
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

/** First run: the checkpoint becomes the newest event; everything before is the reconcile's. */
export async function start(ctx: ActionCtx, reader: ManagementReader, progress: Progress) {
  const newest = await reader.get("/api/v2/logs", { sort: "date:-1", per_page: "1", page: "0" });
  const first = Array.isArray(newest.json) ? position(newest.json[0]) : undefined;
  if (!first) return "waiting" as const;
  await ctx.runMutation(internal.auth0.logSyncInitialize, {
    checkpoint: first.id,
    checkpointDate: first.date,
    reason:
      "the log sync started from now: run one full reconcile (npm run sync) to cover what came before, then `npx convex run auth0:logSyncReconciled`",
  });
  progress.newestLogDate = first.date;
  return "started" as const;
}
