/**
 * The reconcile's access to `organizations` and `memberships` (see scripts/lib/reconcile/orgs.ts):
 * pages of rows, and a batch of changes applied through convex/orgWrites.ts, dated with the time
 * the reconcile started reading Auth0, so that a newer login or event always wins. Reached over
 * HTTP by convex/orgSyncRoutes.ts, signed with AUTH0_SYNC_SECRET.
 */
import { v, type Infer } from "convex/values";
import { internalMutation, internalQuery } from "./_generated/server";
import {
  deleteOrganization,
  purgeMemberships,
  removeMembership,
  setMembership,
  upsertOrganization,
} from "./orgWrites";
import { convexErrorCode, TIMESTAMP_IN_FUTURE } from "./users";

export const ORG_TABLES = ["organizations", "memberships"] as const;

/** One page of `organizations` or `memberships`, whole documents (for backups too). */
export const orgPage = internalQuery({
  args: {
    table: v.union(v.literal("organizations"), v.literal("memberships")),
    cursor: v.union(v.string(), v.null()),
    numItems: v.number(),
  },
  returns: v.object({ rows: v.array(v.any()), isDone: v.boolean(), continueCursor: v.string() }),
  handler: async (ctx, { table, cursor, numItems }) => {
    const page = await ctx.db.query(table).paginate({ cursor, numItems });
    return { rows: page.page, isDone: page.isDone, continueCursor: page.continueCursor };
  },
});

export const orgBatchArgs = {
  /** When the reconcile started reading Auth0 (ms): the time of the state it applies. */
  at: v.number(),
  organizations: v.array(
    v.object({
      auth0OrgId: v.string(),
      name: v.string(),
      displayName: v.union(v.string(), v.null()),
      metadata: v.union(v.record(v.string(), v.string()), v.null()),
    }),
  ),
  organizationDeletions: v.array(v.object({ auth0OrgId: v.string() })),
  memberships: v.array(
    v.object({ auth0OrgId: v.string(), auth0UserId: v.string(), roles: v.array(v.string()) }),
  ),
  membershipRemovals: v.array(v.object({ auth0OrgId: v.string(), auth0UserId: v.string() })),
};

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

/** Applies a batch of organization changes in one transaction. */
export const applyOrgBatch = internalMutation({
  args: orgBatchArgs,
  returns: v.array(orgResult),
  handler: async (ctx, batch) => {
    const results: OrgApplyResult[] = [];
    const guard = async (run: () => Promise<OrgApplyResult["outcome"]>) => {
      try {
        return await run();
      } catch (err) {
        if (convexErrorCode(err) === TIMESTAMP_IN_FUTURE) return "refused" as const;
        throw err;
      }
    };
    for (const org of batch.organizations) {
      const outcome = await guard(() => upsertOrganization(ctx, org, batch.at));
      results.push({ kind: "organization", auth0OrgId: org.auth0OrgId, outcome });
    }
    for (const m of batch.memberships) {
      const outcome = await guard(() =>
        setMembership(ctx, m, batch.at, { kind: "roles", roles: m.roles }),
      );
      results.push({ kind: "membership", ...pick(m), outcome });
    }
    for (const m of batch.membershipRemovals) {
      const outcome = await removeMembership(ctx, m, batch.at);
      results.push({ kind: "membershipRemoval", ...pick(m), outcome });
    }
    for (const { auth0OrgId } of batch.organizationDeletions) {
      const { outcome } = await deleteOrganization(ctx, auth0OrgId, batch.at);
      results.push({ kind: "organizationDeletion", auth0OrgId, outcome });
    }
    return results;
  },
});

const pick = (m: { auth0OrgId: string; auth0UserId: string }) => ({
  auth0OrgId: m.auth0OrgId,
  auth0UserId: m.auth0UserId,
});

/** Continues removing a deleted organization's memberships (scheduled by `purgeMemberships`). */
export const purgeOrganization = internalMutation({
  args: { auth0OrgId: v.string() },
  returns: v.number(),
  handler: (ctx, { auth0OrgId }) => purgeMemberships(ctx, auth0OrgId),
});
