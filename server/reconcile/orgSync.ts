/**
 * The reconcile's access to `auth0Organizations` and `auth0Memberships` (see scripts/lib/reconcile/orgs.ts):
 * pages of rows, and a batch of changes applied through server/organizations/writes.ts, dated with the time
 * the reconcile started reading Auth0, so that a newer login or event always wins. Reached over
 * HTTP by server/reconcile/orgSyncRoutes.ts, signed with AUTH0_SYNC_SECRET.
 */
import { v, type GenericValidator, type Infer } from "convex/values";
import { internal } from "../api";
import { internalMutation, internalQuery } from "../builders";
import {
  deleteOrganization,
  purgeMembershipsPage,
  removeMembership,
  setMembership,
  upsertOrganization,
  organizationReadFields,
  storedEntries,
} from "../organizations";
import { metadataEntries } from "../orgMetadata";
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

const cursorArg = v.union(v.string(), v.null());

/**
 * Removes a deleted organization's memberships, `PURGE_CHUNK` (server/limits.ts) per mutation, scheduling
 * itself until none is left. A host app may run it itself (`npx convex run
 * auth0:purgeOrganization '{"auth0OrgId": "org_..."}'`); `deletedAt` (default now) spares
 * memberships seen after it. Kept under this name for purges scheduled by earlier versions.
 */
export const purgeOrganization = internalMutation({
  args: {
    auth0OrgId: v.string(),
    deletedAt: v.optional(v.number()),
    cursor: v.optional(cursorArg),
  },
  returns: v.number(),
  handler: (ctx, { auth0OrgId, deletedAt, cursor }) =>
    purgeMembershipsPage(ctx, { auth0OrgId }, deletedAt ?? Date.now(), cursor ?? null),
});

/** One scheduled page of a purge of an organization's or a user's memberships. */
export const purgeMemberships = internalMutation({
  args: {
    auth0OrgId: v.optional(v.string()),
    auth0UserId: v.optional(v.string()),
    deletedAt: v.number(),
    cursor: cursorArg,
  },
  returns: v.number(),
  handler: (ctx, { auth0OrgId, auth0UserId, deletedAt, cursor }) => {
    if (auth0OrgId !== undefined) {
      return purgeMembershipsPage(ctx, { auth0OrgId }, deletedAt, cursor);
    }
    if (auth0UserId !== undefined) {
      return purgeMembershipsPage(ctx, { auth0UserId }, deletedAt, cursor);
    }
    return Promise.resolve(0);
  },
});

/** Organizations one migration step rewrites (each one read and one patch). */
const MIGRATION_PAGE = 500;

/**
 * Migration for rows written before metadata was stored as entries: rewrites each
 * `auth0Organizations` row whose `metadata` is an object as `{ key, value }` entries, a page of
 * {@link MIGRATION_PAGE} (bounded in bytes too) per mutation, scheduling itself to the end.
 * Run once after upgrading: `npx convex run auth0:migrateOrganizationMetadata`. Idempotent;
 * rows in the new form are left alone, and every write path also rewrites the rows it touches.
 */
export const migrateOrganizationMetadata = internalMutation({
  args: { cursor: v.optional(cursorArg) },
  returns: v.object({ rewritten: v.number(), isDone: v.boolean() }),
  handler: async (ctx, { cursor }) => {
    const page = await ctx.db.query("auth0Organizations").paginate({
      cursor: cursor ?? null,
      numItems: MIGRATION_PAGE,
      maximumBytesRead: MAX_PAGE_BYTES,
    });
    let rewritten = 0;
    for (const row of page.page) {
      if (row.metadata !== undefined && !Array.isArray(row.metadata)) {
        await ctx.db.patch("auth0Organizations", row._id, {
          metadata: metadataEntries(row.metadata),
        });
        rewritten++;
      }
    }
    if (!page.isDone) {
      await ctx.scheduler.runAfter(0, internal.auth0.migrateOrganizationMetadata, {
        cursor: page.continueCursor,
      });
    }
    return { rewritten, isDone: page.isDone };
  },
});
