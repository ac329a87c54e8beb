/**
 * The one place `auth0Organizations` and `auth0Memberships` rows are written or removed. Every path (a login
 * through an organization, Event Stream organization events, the reconcile) calls these
 * functions with the time of the Auth0 state it carries:
 *
 * - **Ordered.** A change older than what a row holds changes nothing (`superseded`). Member
 *   events carry no `updated_at`, so the event's `time` orders them; a login or a listing uses
 *   the time it saw Auth0. Each role keeps its own latest time, so a late `role.assigned` cannot
 *   undo a newer `role.deleted`.
 * - **Deletions stick.** Deleting an organization or removing a member leaves a tombstone: a late
 *   `member.added` (or any older change) never brings them back. A deleted user's tombstone
 *   (server/users/users.ts) keeps their memberships from coming back too.
 * - **No time from the future**: a change dated more than `MAX_CLOCK_SKEW_MS` ahead throws
 *   `timestamp_in_future`; a deletion time in the future is clamped to now.
 * - Idempotent: applying the same change twice writes nothing the second time.
 */
import { ConvexError } from "convex/values";
import type { Doc, Id } from "../builders";
import { internal } from "../api";
import type { MutationCtx } from "../builders";
import {
  isFromTheFuture,
  MAX_CLOCK_SKEW_MS,
  TIMESTAMP_IN_FUTURE,
  trustedDeletionTime,
  trustedRowsOf,
  userTombstoneOf,
} from "../users";
import { normalizeMetadata, sameMetadata, type MetadataEntries } from "../orgMetadata";
import { legacyActive, legacyName, moveLegacyRows, moveNeed, moveRow } from "../legacy";
import {
  budgetLeft,
  checkLength,
  checkMetadata,
  INLINE_PURGE,
  MAX_ID_LENGTH,
  MAX_ROLES_PER_MEMBERSHIP,
  MAX_TEXT_LENGTH,
  PURGE_CHUNK,
  PURGE_PAGE_BYTES,
  VALUE_TOO_LONG,
} from "../limits";

/** What a write did. */
export type OrgWriteOutcome = "applied" | "unchanged" | "superseded";

/** An organization as Auth0 describes it. `null` clears an optional fact; absent keeps it. */
export interface OrganizationFacts {
  auth0OrgId: string;
  name: string;
  displayName?: string | null;
  /** Sorted entries (see server/orgMetadata.ts). */
  metadata?: MetadataEntries | null;
}

/** What is known about one membership at a time. */
export type MembershipChange =
  /** The user is a member (`member.added`). */
  | { kind: "member" }
  /** The user is a member with exactly these roles (a login through the organization, a listing). */
  | { kind: "roles"; roles: string[] }
  /** One role assigned or removed (`member.role.assigned` / `member.role.deleted`): only members
   * hold roles, so it also shows the membership. */
  | { kind: "role"; name: string; present: boolean };

function refuseFuture(at: number, now: number): void {
  if (!Number.isFinite(at) || isFromTheFuture(at, now)) {
    throw new ConvexError({
      code: TIMESTAMP_IN_FUTURE,
      message: `the change is dated more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes in the future: it cannot be ordered`,
    });
  }
}

// Each lookup below first moves its row from the 0.1 table, if it is still there
// (server/legacy/tables.ts): the write that follows then changes the renamed table only.

async function tombstoneOf(ctx: MutationCtx, auth0OrgId: string, auth0UserId?: string) {
  const byKey = (table: "auth0OrganizationTombstones") =>
    ctx.db
      .query(table)
      .withIndex("by_org_user", (q) =>
        q.eq("auth0OrgId", auth0OrgId).eq("auth0UserId", auth0UserId),
      );
  await moveLegacyRows(ctx, "auth0OrganizationTombstones", byKey);
  return byKey("auth0OrganizationTombstones").first();
}

/** Keeps the later deletion time of a tombstone (creating it when there is none). */
async function keepTombstone(
  ctx: MutationCtx,
  auth0OrgId: string,
  auth0UserId: string | undefined,
  deletedAt: number,
) {
  const existing = await tombstoneOf(ctx, auth0OrgId, auth0UserId);
  if (!existing) {
    await ctx.db.insert("auth0OrganizationTombstones", {
      auth0OrgId,
      ...(auth0UserId !== undefined ? { auth0UserId } : {}),
      deletedAt,
    });
  } else if (deletedAt > existing.deletedAt) {
    await ctx.db.patch("auth0OrganizationTombstones", existing._id, { deletedAt });
  }
}

async function organizationRow(ctx: MutationCtx, auth0OrgId: string) {
  const byKey = (table: "auth0Organizations") =>
    ctx.db.query(table).withIndex("by_auth0_org_id", (q) => q.eq("auth0OrgId", auth0OrgId));
  await moveLegacyRows(ctx, "auth0Organizations", byKey);
  return byKey("auth0Organizations").first();
}

/** The membership of a user in an organization. */
async function membershipRow(ctx: MutationCtx, ids: { auth0OrgId: string; auth0UserId: string }) {
  const byKey = (table: "auth0Memberships") =>
    ctx.db
      .query(table)
      .withIndex("by_org", (q) =>
        q.eq("auth0OrgId", ids.auth0OrgId).eq("auth0UserId", ids.auth0UserId),
      );
  await moveLegacyRows(ctx, "auth0Memberships", byKey);
  return byKey("auth0Memberships").first();
}

/** Creates or updates an organization from facts dated `at` (ms). */
export async function upsertOrganization(
  ctx: MutationCtx,
  facts: OrganizationFacts,
  at: number,
): Promise<OrgWriteOutcome> {
  const now = Date.now();
  refuseFuture(at, now);
  checkLength("auth0OrgId", facts.auth0OrgId, MAX_ID_LENGTH);
  checkLength("the organization's name", facts.name, MAX_TEXT_LENGTH);
  checkLength("the organization's display name", facts.displayName, MAX_TEXT_LENGTH);
  checkMetadata(facts.metadata);
  const dead = await tombstoneOf(ctx, facts.auth0OrgId);
  if (dead && at <= dead.deletedAt) return "superseded";
  if (dead) await ctx.db.delete("auth0OrganizationTombstones", dead._id);

  const existing = await organizationRow(ctx, facts.auth0OrgId);
  if (!existing) {
    await ctx.db.insert("auth0Organizations", {
      auth0OrgId: facts.auth0OrgId,
      name: facts.name,
      ...(facts.displayName ? { displayName: facts.displayName } : {}),
      ...(facts.metadata && facts.metadata.length > 0
        ? { metadata: normalizeMetadata(facts.metadata)! }
        : {}),
      auth0At: at,
      createdAt: now,
      updatedAt: now,
    });
    return "applied";
  }
  if (existing.auth0At > at) return "superseded";
  const patch: Partial<Doc<"auth0Organizations">> = {};
  if (existing.name !== facts.name) patch.name = facts.name;
  if (
    facts.displayName !== undefined &&
    (facts.displayName || undefined) !== existing.displayName
  ) {
    patch.displayName = facts.displayName || undefined;
  }
  let reshaped = false;
  if (facts.metadata !== undefined) {
    const next = normalizeMetadata(facts.metadata);
    const wanted = next && next.length > 0 ? next : undefined;
    if (!sameMetadata(wanted, existing.metadata)) patch.metadata = wanted;
    // A row still in the old object form is rewritten as entries, which changes no fact.
    else if (existing.metadata !== undefined && !Array.isArray(existing.metadata)) {
      reshaped = true;
    }
    if (reshaped) patch.metadata = wanted;
  }
  const changed = Object.keys(patch).length > (reshaped ? 1 : 0);
  if (changed) patch.updatedAt = now;
  if (at > existing.auth0At) patch.auth0At = at;
  if (Object.keys(patch).length > 0) await ctx.db.patch("auth0Organizations", existing._id, patch);
  return changed ? "applied" : "unchanged";
}

/**
 * Deletes an organization and its memberships, and keeps a tombstone. A deletion older than the
 * stored state is `superseded`. At most `purgeBudget` memberships go in this transaction; the
 * rest are purged by scheduled mutations (see {@link purgeMembershipsNow}), and the tombstone
 * already stops any of them from coming back.
 */
export async function deleteOrganization(
  ctx: MutationCtx,
  auth0OrgId: string,
  at: number,
  purgeBudget: number = INLINE_PURGE,
): Promise<{ outcome: OrgWriteOutcome; removedMemberships: number; purgeScheduled: boolean }> {
  checkLength("auth0OrgId", auth0OrgId, MAX_ID_LENGTH);
  const deletedAt = Math.min(at, Date.now());
  const existing = await organizationRow(ctx, auth0OrgId);
  if (existing && existing.auth0At > deletedAt) {
    return { outcome: "superseded", removedMemberships: 0, purgeScheduled: false };
  }
  const purge = await purgeMembershipsNow(ctx, { auth0OrgId }, deletedAt, purgeBudget);
  if (existing) await ctx.db.delete("auth0Organizations", existing._id);
  await keepTombstone(ctx, auth0OrgId, undefined, deletedAt);
  return {
    outcome: existing || purge.removed > 0 || purge.scheduled ? "applied" : "unchanged",
    removedMemberships: purge.removed,
    purgeScheduled: purge.scheduled,
  };
}

/** Whose memberships a purge removes: an organization's, or a user's. */
export type PurgeTarget = { auth0OrgId: string } | { auth0UserId: string };

function membershipsOf(
  ctx: MutationCtx,
  target: PurgeTarget,
  table: "auth0Memberships" = "auth0Memberships",
) {
  return "auth0OrgId" in target
    ? ctx.db.query(table).withIndex("by_org", (q) => q.eq("auth0OrgId", target.auth0OrgId))
    : ctx.db
        .query(table)
        .withIndex("by_auth0_user", (q) => q.eq("auth0UserId", target.auth0UserId));
}

/**
 * The purge's part of a target's memberships still under the 0.1 table name (while the migration
 * runs): up to `max` rows, each removed when seen no later than `deletedAt`, else moved (a newer
 * membership stays, in the renamed table), so every row it looks at leaves the old table. Stops
 * early when the planned budget runs low. `seen` says how many rows it handled.
 */
async function purgeLegacyMemberships(
  ctx: MutationCtx,
  target: PurgeTarget,
  deletedAt: number,
  max: number,
): Promise<{ removed: number; seen: number; more: boolean }> {
  let removed = 0;
  let seen = 0;
  if (max <= 0 || !(await legacyActive(ctx))) return { removed, seen, more: false };
  const old = legacyName("auth0Memberships");
  for await (const row of membershipsOf(ctx, target, old)) {
    if (seen >= max || !(await budgetLeft(ctx, moveNeed("auth0Memberships")))) {
      return { removed, seen, more: true };
    }
    seen++;
    if (row.auth0At <= deletedAt) {
      await ctx.db.delete(old, row._id);
      removed++;
    } else {
      await moveRow(ctx, "auth0Memberships", row);
    }
  }
  return { removed, seen, more: false };
}

/**
 * Removes up to `max` memberships of a deleted organization or user, seen no later than
 * `deletedAt` (a membership shown since, after the organization or user was re-created, stays),
 * and schedules `auth0.purgeMemberships` for the rest. Returns how many this call removed and
 * whether more were scheduled.
 */
export async function purgeMembershipsNow(
  ctx: MutationCtx,
  target: PurgeTarget,
  deletedAt: number,
  max: number,
): Promise<{ removed: number; scheduled: boolean }> {
  const legacy = await purgeLegacyMemberships(ctx, target, deletedAt, max);
  const budget = max - legacy.seen;
  // With no budget left, one row tells whether a purge is needed at all.
  const rows = await membershipsOf(ctx, target).take(Math.max(budget, 1));
  let removed = legacy.removed;
  for (const row of budget > 0 ? rows : []) {
    if (row.auth0At <= deletedAt) {
      await ctx.db.delete("auth0Memberships", row._id);
      removed++;
    }
  }
  // Rows this call could not reach (or skipped as newer) are looked at again from the start.
  const scheduled = legacy.more || (budget <= 0 ? rows.length > 0 : rows.length === budget);
  if (scheduled) {
    await ctx.scheduler.runAfter(0, internal.auth0.purgeMemberships, {
      ...target,
      deletedAt,
      cursor: null,
    });
  }
  return { removed, scheduled };
}

/**
 * One scheduled step of a purge: a page of at most {@link PURGE_CHUNK} memberships (fewer when
 * rows are large: the page is bounded in bytes too), removed when seen no later than `deletedAt`;
 * schedules the next page. Returns how many it removed.
 */
export async function purgeMembershipsPage(
  ctx: MutationCtx,
  target: PurgeTarget,
  deletedAt: number,
  cursor: string | null,
): Promise<number> {
  // Rows still under the 0.1 name go first, a budget's worth per step, until none is left.
  const legacy = await purgeLegacyMemberships(ctx, target, deletedAt, PURGE_CHUNK);
  if (legacy.seen > 0) {
    await ctx.scheduler.runAfter(0, internal.auth0.purgeMemberships, {
      ...target,
      deletedAt,
      cursor,
    });
    return legacy.removed;
  }
  const page = await membershipsOf(ctx, target).paginate({
    cursor,
    numItems: PURGE_CHUNK,
    maximumBytesRead: PURGE_PAGE_BYTES,
  });
  let removed = 0;
  for (const row of page.page) {
    if (row.auth0At <= deletedAt) {
      await ctx.db.delete("auth0Memberships", row._id);
      removed++;
    }
  }
  if (!page.isDone) {
    await ctx.scheduler.runAfter(0, internal.auth0.purgeMemberships, {
      ...target,
      deletedAt,
      cursor: page.continueCursor,
    });
  }
  return removed;
}

/** The user's row under an issuer this deployment trusts, if it has one. */
async function userRowFor(ctx: MutationCtx, auth0UserId: string): Promise<Id<"users"> | undefined> {
  return (await trustedRowsOf(ctx.db, auth0UserId))[0]?._id;
}

/** Applies `change` to the role times; returns the new times, or null when it is superseded. */
function nextRoleTimes(
  times: Doc<"auth0Memberships">["roleTimes"],
  change: MembershipChange,
  at: number,
): Doc<"auth0Memberships">["roleTimes"] | null {
  const byName = new Map(times.map((t) => [t.name, { ...t }]));
  if (change.kind === "role") {
    const entry = byName.get(change.name);
    if (entry && entry.at > at) return null;
    byName.set(change.name, { name: change.name, present: change.present, at });
  } else if (change.kind === "roles") {
    const wanted = new Set(change.roles);
    for (const name of wanted) {
      const entry = byName.get(name);
      if (!entry || entry.at <= at) byName.set(name, { name, present: true, at });
    }
    for (const entry of byName.values()) {
      if (!wanted.has(entry.name) && entry.present && entry.at <= at) {
        byName.set(entry.name, { ...entry, present: false, at });
      }
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Records that `auth0UserId` is a member of `auth0OrgId` at `at`, with the role information of
 * `change`. Refused (`superseded`) when the organization was deleted, the membership removed or
 * the user deleted at or after `at`.
 */
export async function setMembership(
  ctx: MutationCtx,
  ids: { auth0OrgId: string; auth0UserId: string },
  at: number,
  change: MembershipChange,
): Promise<OrgWriteOutcome> {
  const now = Date.now();
  refuseFuture(at, now);
  checkIds(ids);
  if (change.kind === "role") checkLength("a role name", change.name, MAX_TEXT_LENGTH);
  if (change.kind === "roles") {
    for (const role of change.roles) checkLength("a role name", role, MAX_TEXT_LENGTH);
  }
  const orgDead = await tombstoneOf(ctx, ids.auth0OrgId);
  if (orgDead && at <= orgDead.deletedAt) return "superseded";
  const removed = await tombstoneOf(ctx, ids.auth0OrgId, ids.auth0UserId);
  if (removed && at <= removed.deletedAt) return "superseded";
  const userDead = await userTombstoneOf(ctx, ids.auth0UserId);
  if (userDead && at <= trustedDeletionTime(userDead, now)) return "superseded";
  if (removed) await ctx.db.delete("auth0OrganizationTombstones", removed._id);

  const existing = await membershipRow(ctx, ids);
  // A change from before the last removal belongs to the earlier membership.
  if (existing?.notBefore !== undefined && at <= existing.notBefore) return "superseded";
  const roleTimes = nextRoleTimes(existing?.roleTimes ?? [], change, at);
  if (roleTimes === null && existing && existing.auth0At >= at) return "superseded";
  const times = roleTimes ?? existing?.roleTimes ?? [];
  if (times.length > MAX_ROLES_PER_MEMBERSHIP) {
    throw new ConvexError({
      code: VALUE_TOO_LONG,
      message: `a membership keeps at most ${MAX_ROLES_PER_MEMBERSHIP} role names`,
    });
  }
  const roles = times.filter((t) => t.present).map((t) => t.name);

  if (!existing) {
    const userId = await userRowFor(ctx, ids.auth0UserId);
    await ctx.db.insert("auth0Memberships", {
      ...(userId ? { userId } : {}),
      auth0UserId: ids.auth0UserId,
      auth0OrgId: ids.auth0OrgId,
      roles,
      roleTimes: times,
      auth0At: at,
      ...(removed ? { notBefore: removed.deletedAt } : {}),
      createdAt: now,
      updatedAt: now,
    });
    return "applied";
  }
  const patch: Partial<Doc<"auth0Memberships">> = {};
  if (JSON.stringify(roles) !== JSON.stringify(existing.roles)) patch.roles = roles;
  if (JSON.stringify(times) !== JSON.stringify(existing.roleTimes)) patch.roleTimes = times;
  if (at > existing.auth0At) patch.auth0At = at;
  if (!existing.userId) {
    const userId = await userRowFor(ctx, ids.auth0UserId);
    if (userId) patch.userId = userId;
  }
  const changed = patch.roles !== undefined || patch.userId !== undefined;
  if (changed) patch.updatedAt = now;
  if (Object.keys(patch).length > 0) await ctx.db.patch("auth0Memberships", existing._id, patch);
  if (roleTimes === null) return "superseded";
  return changed ? "applied" : "unchanged";
}

function checkIds(ids: { auth0OrgId: string; auth0UserId: string }): void {
  checkLength("auth0OrgId", ids.auth0OrgId, MAX_ID_LENGTH);
  checkLength("auth0UserId", ids.auth0UserId, MAX_ID_LENGTH);
}

/**
 * Removes a membership (`member.deleted`, a listing without it) and keeps a tombstone. Older than
 * the membership's latest sighting: `superseded` (the user was added again since).
 */
export async function removeMembership(
  ctx: MutationCtx,
  ids: { auth0OrgId: string; auth0UserId: string },
  at: number,
): Promise<OrgWriteOutcome> {
  checkIds(ids);
  const deletedAt = Math.min(at, Date.now());
  const existing = await membershipRow(ctx, ids);
  if (existing && existing.auth0At > deletedAt) {
    // The user was added again after this removal. The earlier membership's roles ended here,
    // even those whose own removal never arrives (a removed member's roles go with them).
    const roleTimes = existing.roleTimes.map((t) =>
      t.present && t.at < deletedAt ? { ...t, present: false, at: deletedAt } : t,
    );
    const roles = roleTimes.filter((t) => t.present).map((t) => t.name);
    const notBefore = Math.max(existing.notBefore ?? -Infinity, deletedAt);
    if (
      notBefore !== existing.notBefore ||
      JSON.stringify(roleTimes) !== JSON.stringify(existing.roleTimes)
    ) {
      await ctx.db.patch("auth0Memberships", existing._id, {
        roleTimes,
        roles,
        notBefore,
        ...(roles.length !== existing.roles.length ? { updatedAt: Date.now() } : {}),
      });
    }
    return "superseded";
  }
  if (existing) await ctx.db.delete("auth0Memberships", existing._id);
  await keepTombstone(ctx, ids.auth0OrgId, ids.auth0UserId, deletedAt);
  return existing ? "applied" : "unchanged";
}
