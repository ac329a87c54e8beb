/**
 * Adopting an app's existing `users` rows (the Convex docs' shape: `{ name, tokenIdentifier }`,
 * index `by_token`): fills what this module needs (`auth0UserId`, `createdAt`, `updatedAt`) so
 * the app's schema can go back from `adoptionUserFields` to `userFields`. Logins meanwhile find
 * and complete their own row (users.upsertUser), so nobody gets a second one.
 *
 * Run: `npx convex run auth0:adoptExistingRows '{"dryRun": true}'`, then without `dryRun`.
 */
import { v } from "convex/values";
import { internalMutation, type MutationCtx } from "../builders";
import type { Doc, Id } from "../builders";
import { internal } from "../api";
import { parseTokenIdentifier } from "../tokenIdentifier";
import { deploymentIssuers, trustedDeletionTime } from "./rules";
import { isAdopted } from "./rowState";
import { completeAdoptedRow } from "./users";
import { userTombstoneOf } from "./tombstones";
import {
  budgetLeft,
  INLINE_USER_MEMBERSHIPS,
  MAX_MEMBERSHIP_ROW_BYTES,
  MAX_USER_ROW_BYTES,
  PURGE_PAGE_BYTES,
} from "../limits";

/** Rows one step reads. Each adopted row costs at most a patch, 16 membership links
 * (linkMemberships schedules the rest), two index ranges and one scheduled deletion: 100 rows
 * need at most ~1,900 index ranges, ~1,700 writes and 200 scheduled functions. The app's
 * `onUserUpdated` comes on top: the budget check before each row stops a step that it ate. */
export const ADOPTION_PAGE_SIZE = 100;

/** What one row may cost at most (see above), checked before each row against the budget. */
const ROW_NEED = {
  ranges: 3 + INLINE_USER_MEMBERSHIPS,
  writes: 1 + INLINE_USER_MEMBERSHIPS,
  // A patch reads its document first: each linked membership is read twice, the row once more.
  bytesRead: 2 * INLINE_USER_MEMBERSHIPS * MAX_MEMBERSHIP_ROW_BYTES + MAX_USER_ROW_BYTES + 4096,
};

const counts = v.object({
  /** Rows read. */
  scanned: v.number(),
  /** Rows completed by this run (or, in a dry run, that would be). */
  adopted: v.number(),
  /** Rows that already had every field the module needs. */
  alreadyAdopted: v.number(),
  /** Rows keyed under an issuer this deployment does not trust (another tenant, another
   * provider): left alone. */
  foreignIssuer: v.number(),
  /** Rows whose `tokenIdentifier` is not `issuer|subject`: left alone. */
  malformed: v.number(),
  /** Adopted rows whose Auth0 user was deleted meanwhile (a tombstone): handed to deleteUser. */
  deletedInAuth0: v.number(),
});
type Counts = typeof counts.type;
const zero: Counts = {
  scanned: 0,
  adopted: 0,
  alreadyAdopted: 0,
  foreignIssuer: 0,
  malformed: 0,
  deletedInAuth0: 0,
};

/** Completes one existing row, or says why it is left alone. */
async function adoptRow(
  ctx: MutationCtx,
  row: Doc<"users">,
  issuers: string[],
  dryRun: boolean,
  now: number,
): Promise<keyof Counts> {
  if (isAdopted(row)) return "alreadyAdopted";
  let parsed;
  try {
    parsed = parseTokenIdentifier(row.tokenIdentifier);
  } catch {
    return "malformed";
  }
  if (!issuers.includes(parsed.issuer)) return "foreignIssuer";
  const auth0UserId = parsed.subject;
  if (dryRun) return "adopted";
  // Through users.ts like every write of a row: the app's onUserUpdated sees the change.
  await completeAdoptedRow(ctx, row, auth0UserId, now);
  // Deleted in Auth0 before its row was adopted (deleteUser found no adopted row then): the
  // deletion applies now, with its own rules (hook, memberships, AUTH0_USER_DELETION).
  const tombstone = await userTombstoneOf(ctx, auth0UserId);
  if (tombstone) {
    // Scheduled, not inline: the app's hook has a cost this page cannot plan for.
    await ctx.scheduler.runAfter(0, internal.auth0.deleteFromAuth0, {
      auth0UserId,
      deletedAt: trustedDeletionTime(tombstone, now),
    });
    return "deletedInAuth0";
  }
  return "adopted";
}

/**
 * One bounded step over `users` (a page of at most {@link ADOPTION_PAGE_SIZE} rows, fewer when
 * rows are large or the transaction's budget runs low), then schedules the next step with the
 * running totals until the table is done. Idempotent: completed rows are counted and skipped.
 * `dryRun` writes nothing (the steps still chain, to count the whole table). The totals are
 * returned for the first step and logged by the last one.
 */
export const adoptExistingRows = internalMutation({
  args: {
    dryRun: v.optional(v.boolean()),
    cursor: v.optional(v.union(v.string(), v.null())),
    totals: v.optional(counts),
    /** Rows of this page already handled (and counted) by a step that ran out of budget. */
    done: v.optional(v.array(v.id("users"))),
  },
  returns: v.object({ counts, isDone: v.boolean() }),
  handler: async (ctx, args) => {
    const dryRun = args.dryRun ?? false;
    const totals: Counts = { ...zero, ...args.totals };
    const issuers = deploymentIssuers();
    const now = Date.now();
    const page = await ctx.db.query("users").paginate({
      cursor: args.cursor ?? null,
      numItems: ADOPTION_PAGE_SIZE,
      maximumBytesRead: PURGE_PAGE_BYTES,
    });
    const skip = new Set(args.done ?? []);
    const handled: Id<"users">[] = [...skip];
    let stoppedEarly = false;
    for (const row of page.page) {
      if (skip.has(row._id)) continue;
      // Rows of unknown size (host fields) and memberships: stop before the planned budget runs
      // out; the next step redoes this page, skipping the rows handled here.
      if (handled.length > skip.size && !(await budgetLeft(ctx, ROW_NEED))) {
        stoppedEarly = true;
        break;
      }
      totals.scanned++;
      totals[await adoptRow(ctx, row, issuers, dryRun, now)]++;
      handled.push(row._id);
    }
    const isDone = page.isDone && !stoppedEarly;
    if (stoppedEarly) {
      await ctx.scheduler.runAfter(0, internal.auth0.adoptExistingRows, {
        dryRun,
        cursor: args.cursor ?? null,
        totals,
        done: handled,
      });
    } else if (!isDone) {
      await ctx.scheduler.runAfter(0, internal.auth0.adoptExistingRows, {
        dryRun,
        cursor: page.continueCursor,
        totals,
      });
    } else {
      console.log(
        `auth0:adoptExistingRows ${dryRun ? "(dry run) " : ""}done: ${JSON.stringify(totals)}`,
      );
    }
    return { counts: totals, isDone };
  },
});
