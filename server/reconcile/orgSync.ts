/**
 * The reconcile's access to `auth0Organizations` and `auth0Memberships` (see scripts/lib/reconcile/orgs.ts):
 * pages of rows, and a batch of changes applied through server/organizations/writes.ts, dated with the time
 * the reconcile started reading Auth0, so that a newer login or event always wins. Reached over
 * HTTP by server/reconcile/orgSyncRoutes.ts, signed with AUTH0_SYNC_SECRET.
 */
import { v, type GenericValidator, type Infer } from "convex/values";
import { internalMutation, internalQuery } from "../builders";
import {
  deleteOrganization,
  removeMembership,
  setMembership,
  upsertOrganization,
  organizationReadFields,
  storedEntries,
} from "../organizations";
import {
  budgetLeft,
  BYTES_PER_BATCH_ITEM,
  MAX_PAGE_BYTES,
  orgBatchPurgeBudget,
  RANGES_PER_BATCH_ITEM,
  VALUE_TOO_LONG,
} from "../limits";
import { convexErrorCode, TIMESTAMP_IN_FUTURE } from "../users";

export const ORG_TABLES = ["auth0Organizations", "auth0Memberships"] as const;

/** One page of `auth0Organizations` or `auth0Memberships`, whole documents (for backups too). */
export const orgPage = internalQuery({
  args: {
    table: v.union(v.literal("auth0Organizations"), v.literal("auth0Memberships")),
    cursor: v.union(v.string(), v.null()),
    numItems: v.number(),
  },
  returns: v.object({ rows: v.array(v.any()), isDone: v.boolean(), continueCursor: v.string() }),
  handler: async (ctx, { table, cursor, numItems }) => {
    // Bounded in bytes too: a page of large rows (metadata, many roles) is shorter, not an error.
    const page = await ctx.db
      .query(table)
      .paginate({ cursor, numItems, maximumBytesRead: MAX_PAGE_BYTES });
    return { rows: page.page, isDone: page.isDone, continueCursor: page.continueCursor };
  },
});

const batchFields = <M extends GenericValidator>(metadata: M) => ({
  /** When the reconcile started reading Auth0 (ms): the time of the state it applies. */
  at: v.number(),
  organizations: v.array(v.object(organizationReadFields(metadata))),
  organizationDeletions: v.array(v.object({ auth0OrgId: v.string() })),
  memberships: v.array(
    v.object({ auth0OrgId: v.string(), auth0UserId: v.string(), roles: v.array(v.string()) }),
  ),
  membershipRemovals: v.array(v.object({ auth0OrgId: v.string(), auth0UserId: v.string() })),
});
/** A batch as the reconcile sends it (over HTTP) and `applyOrgBatch` takes it: metadata as
 * `{ key, value }` entries, since Auth0 keys such as `région`, `$tier` or `__proto__` cannot be
 * field names of a Convex object (argument or row). */
export const orgBatchArgs = batchFields(storedEntries);

const orgResult = v.object({
  kind: v.union(
    v.literal("organization"),
    v.literal("organizationDeletion"),
    v.literal("membership"),
    v.literal("membershipRemoval"),
  ),
  auth0OrgId: v.string(),
  auth0UserId: v.optional(v.string()),
  /** `superseded`: Convex holds a newer state (a login or an event since the listing). */
  outcome: v.union(
    v.literal("applied"),
    v.literal("unchanged"),
    v.literal("superseded"),
    v.literal("refused"),
  ),
});
export type OrgApplyResult = Infer<typeof orgResult>;

/**
 * Applies a batch of organization changes in one transaction, possibly in part (like
 * `auth0.applyBatch`: an item starts only while the plan holds its worst case; the results then
 * list the items applied, in order, and the caller sends the rest again). Deleted organizations share
 * what `orgBatchPurgeBudget` (server/limits.ts) allows membership deletions; the rest of each purge is scheduled, so a
 * batch of any number of large organizations stays within the limits (see server/limits.ts).
 */
export const applyOrgBatch = internalMutation({
  args: orgBatchArgs,
  returns: v.array(orgResult),
  handler: async (ctx, batch) => {
    const results: OrgApplyResult[] = [];
    const guard = async (run: () => Promise<OrgApplyResult["outcome"]>) => {
      try {
        return await run();
      } catch (err) {
        const code = convexErrorCode(err);
        if (code === TIMESTAMP_IN_FUTURE || code === VALUE_TOO_LONG) return "refused" as const;
        throw err;
      }
    };
    // Each item's worst case must fit in what the plan has left (real rows are far smaller, so
    // a whole batch normally runs); otherwise the results end here and the caller resends.
    const room = async () =>
      results.length === 0 ||
      (await budgetLeft(ctx, {
        ranges: RANGES_PER_BATCH_ITEM,
        writes: RANGES_PER_BATCH_ITEM,
        bytesRead: BYTES_PER_BATCH_ITEM,
      }));
    for (const org of batch.organizations) {
      if (!(await room())) return results;
      const outcome = await guard(() => upsertOrganization(ctx, org, batch.at));
      results.push({ kind: "organization", auth0OrgId: org.auth0OrgId, outcome });
    }
    for (const m of batch.memberships) {
      if (!(await room())) return results;
      const outcome = await guard(() =>
        setMembership(ctx, m, batch.at, { kind: "roles", roles: m.roles }),
      );
      results.push({ kind: "membership", ...pick(m), outcome });
    }
    for (const m of batch.membershipRemovals) {
      if (!(await room())) return results;
      const outcome = await guard(() => removeMembership(ctx, m, batch.at));
      results.push({ kind: "membershipRemoval", ...pick(m), outcome });
    }
    let purgeBudget = orgBatchPurgeBudget(
      batch.organizations.length +
        batch.memberships.length +
        batch.membershipRemovals.length +
        batch.organizationDeletions.length,
    );
    for (const { auth0OrgId } of batch.organizationDeletions) {
      if (!(await room())) return results;
      const outcome = await guard(async () => {
        const deleted = await deleteOrganization(ctx, auth0OrgId, batch.at, purgeBudget);
        purgeBudget -= deleted.removedMemberships;
        return deleted.outcome;
      });
      results.push({ kind: "organizationDeletion", auth0OrgId, outcome });
    }
    return results;
  },
});

const pick = (m: { auth0OrgId: string; auth0UserId: string }) => ({
  auth0OrgId: m.auth0OrgId,
  auth0UserId: m.auth0UserId,
});
