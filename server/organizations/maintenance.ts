/**
 * The organizations' own scheduled work, served as `auth0:*`: purging the memberships of a deleted
 * organization or user a page at a time (scheduled by server/organizations/writes.ts and by the
 * user deletion in server/users/users.ts, by name), and the one-time rewrite of organization
 * metadata into `{ key, value }` entries.
 */
import { v } from "convex/values";
import { internal } from "../api";
import { internalMutation } from "../builders";
import { MAX_PAGE_BYTES } from "../limits";
import { metadataEntries } from "../orgMetadata";
import { purgeMembershipsPage } from "./writes";

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
