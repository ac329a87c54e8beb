/**
 * Organizations for the host app: which organizations the signed-in user belongs to and with which
 * roles, the organization of the current token, and a guard for organization roles. Everything
 * here reads the `auth0Organizations` and `auth0Memberships` cache (kept in step with Auth0 by logins, events
 * and the reconcile, see server/organizations/writes.ts): no Management API call at request time.
 *
 * @example
 * export const deleteProject = mutation({
 *   args: { projectId: v.id("projects") },
 *   handler: async (ctx, { projectId }) => {
 *     const { organization } = await requireOrgRole(ctx, "admin");
 *     const project = await ctx.db.get("projects", projectId);
 *     if (project?.auth0OrgId !== organization.auth0OrgId) throw new ConvexError("not found");
 *     await ctx.db.delete("projects", projectId);
 *   },
 * });
 */
import type { UserIdentity } from "convex/server";
import { ConvexError, v } from "convex/values";
import type { Doc } from "../builders";
import { query, type QueryCtx } from "../builders";
import { getCurrentUser } from "../users";
import { firstOf, inKeyOrder, tablesToRead } from "../legacy";
import {
  budgetLeft,
  MAX_MEMBERSHIP_ROW_BYTES,
  MAX_MINE,
  MAX_ORGANIZATION_ROW_BYTES,
} from "../limits";

/** An organization and the member's roles in it, as the queries return them. */
export const membershipView = v.object({
  auth0OrgId: v.string(),
  name: v.optional(v.string()),
  displayName: v.optional(v.string()),
  roles: v.array(v.string()),
});

/**
 * The organization of the current ID token: Auth0's own `org_id` claim (present for every login
 * through an organization), else a namespaced `<ns>/org_id` set by the Action's CLAIMS_NAMESPACE.
 */
export function tokenOrganizationId(identity: UserIdentity): string | undefined {
  if (typeof identity.org_id === "string" && identity.org_id !== "") return identity.org_id;
  for (const [key, value] of Object.entries(identity)) {
    if (key.endsWith("/org_id") && typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

// Each read below also looks under the 0.1 table names while the migration runs
// (server/legacy/tables.ts).

async function organizationOf(ctx: QueryCtx, auth0OrgId: string) {
  return firstOf(ctx, "auth0Organizations", (table) =>
    ctx.db
      .query(table)
      .withIndex("by_auth0_org_id", (q) => q.eq("auth0OrgId", auth0OrgId))
      .first(),
  );
}

function view(m: Doc<"auth0Memberships">, org: Doc<"auth0Organizations"> | null) {
  return {
    auth0OrgId: m.auth0OrgId,
    ...(org ? { name: org.name } : {}),
    ...(org?.displayName ? { displayName: org.displayName } : {}),
    roles: m.roles,
  };
}

/**
 * The memberships of `user`, with their organization (when the cache has it): at most
 * {@link MAX_MINE} (by organization id), so a query stays inside Convex's limits whatever the
 * number of organizations (two index ranges and two documents per membership).
 */
export async function getMemberships(ctx: QueryCtx, user: Pick<Doc<"users">, "auth0UserId">) {
  const queries = (await tablesToRead(ctx, "auth0Memberships")).map((table) =>
    ctx.db.query(table).withIndex("by_auth0_user", (q) => q.eq("auth0UserId", user.auth0UserId)),
  );
  const query = inKeyOrder(queries, (m) => m.auth0OrgId);
  const out: {
    membership: Doc<"auth0Memberships">;
    organization: Doc<"auth0Organizations"> | null;
  }[] = [];
  // Row by row, so that rows larger than planned (many roles, long metadata) stop the list
  // early instead of failing the query.
  const reserve = MAX_MEMBERSHIP_ROW_BYTES + MAX_ORGANIZATION_ROW_BYTES;
  for await (const membership of query) {
    out.push({ membership, organization: await organizationOf(ctx, membership.auth0OrgId) });
    if (out.length >= MAX_MINE || !(await budgetLeft(ctx, { ranges: 4, bytesRead: reserve }))) {
      break;
    }
  }
  return out;
}

/**
 * The organization of the current token and the user's membership in it: `null` when signed out,
 * when the token names no organization, or when the user is not (yet) a member in the cache.
 */
export async function getCurrentOrganization(ctx: QueryCtx) {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) return null;
  const auth0OrgId = tokenOrganizationId(identity);
  if (!auth0OrgId) return null;
  const user = await getCurrentUser(ctx);
  if (!user) return null;
  const membership = await firstOf(ctx, "auth0Memberships", (table) =>
    ctx.db
      .query(table)
      .withIndex("by_org", (q) =>
        q.eq("auth0OrgId", auth0OrgId).eq("auth0UserId", user.auth0UserId),
      )
      .first(),
  );
  if (!membership) return null;
  return { user, membership, organization: await organizationOf(ctx, auth0OrgId) };
}

/**
 * Returns the current organization when the signed-in user holds `role` in it; otherwise throws a
 * `ConvexError` whose `code` says why: `not_signed_in`, `no_organization` (the token names none:
 * sign in through an organization), `not_a_member`, or `missing_role`.
 */
export async function requireOrgRole(ctx: QueryCtx, role: string) {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) {
    throw new ConvexError({ code: "not_signed_in", message: "Sign in first." });
  }
  const auth0OrgId = tokenOrganizationId(identity);
  if (!auth0OrgId) {
    throw new ConvexError({
      code: "no_organization",
      message: "This needs an organization: sign in through one.",
    });
  }
  const current = await getCurrentOrganization(ctx);
  if (!current) {
    throw new ConvexError({
      code: "not_a_member",
      message: `You are not a member of organization ${auth0OrgId}.`,
    });
  }
  if (!current.membership.roles.includes(role)) {
    const name = current.organization?.displayName ?? current.organization?.name ?? auth0OrgId;
    throw new ConvexError({
      code: "missing_role",
      message: `This needs the role "${role}" in ${name}.`,
    });
  }
  return {
    user: current.user,
    organization: current.organization ?? { auth0OrgId, name: auth0OrgId },
    roles: current.membership.roles,
  };
}

/** The signed-in user's organizations and roles (empty when signed out or not stored yet), at
 * most the first 1,000 by organization id (`MAX_MINE` in server/limits.ts). */
export const mine = query({
  args: {},
  returns: v.array(membershipView),
  handler: async (ctx) => {
    const user = await getCurrentUser(ctx);
    if (!user) return [];
    return (await getMemberships(ctx, user)).map(({ membership, organization }) =>
      view(membership, organization),
    );
  },
});

/** The organization of the current token with the user's roles in it, or null. */
export const current = query({
  args: {},
  returns: v.union(membershipView, v.null()),
  handler: async (ctx) => {
    const current = await getCurrentOrganization(ctx);
    return current ? view(current.membership, current.organization) : null;
  },
});
