import { v } from "convex/values";
import type { Id } from "./_generated/dataModel";
import type { QueryCtx } from "./_generated/server";
import { userMutation, userQuery } from "./functions";

/** Our namespaced claim with the member's roles (a Post-Login Action of ours adds it). */
const ROLES_CLAIM = "https://teams.example.com/roles";

/** The caller's membership of the organization; throws when they are not a member. */
export async function requireMembership(
  ctx: QueryCtx,
  userId: Id<"users">,
  organizationId: Id<"organizations">,
) {
  const membership = await ctx.db
    .query("memberships")
    .withIndex("by_organization_user", (q) =>
      q.eq("organizationId", organizationId).eq("userId", userId),
    )
    .unique();
  if (membership === null) {
    throw new Error("You are not a member of this organization");
  }
  return membership;
}

/**
 * Caches the organization the user signed in through (the token's org_id and org_name claims)
 * and their membership in it. The app calls it after each login.
 */
export const syncFromToken = userMutation({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    const auth0OrgId = identity?.org_id;
    if (typeof auth0OrgId !== "string") return null;
    const name = typeof identity?.org_name === "string" ? identity.org_name : auth0OrgId;
    const roles = identity?.[ROLES_CLAIM];
    const role = Array.isArray(roles) && roles.includes("admin") ? "admin" : "member";

    let organization = await ctx.db
      .query("organizations")
      .withIndex("by_auth0_org_id", (q) => q.eq("auth0OrgId", auth0OrgId))
      .unique();
    if (organization === null) {
      const id = await ctx.db.insert("organizations", { auth0OrgId, name });
      organization = (await ctx.db.get("organizations", id))!;
    } else if (organization.name !== name) {
      await ctx.db.patch("organizations", organization._id, { name });
    }
    const membership = await ctx.db
      .query("memberships")
      .withIndex("by_organization_user", (q) =>
        q.eq("organizationId", organization._id).eq("userId", ctx.user._id),
      )
      .unique();
    if (membership === null) {
      await ctx.db.insert("memberships", {
        organizationId: organization._id,
        userId: ctx.user._id,
        role,
      });
    } else if (membership.role !== role) {
      await ctx.db.patch("memberships", membership._id, { role });
    }
    return organization._id;
  },
});

/** The organizations the signed-in user belongs to. */
export const mine = userQuery({
  args: {},
  handler: async (ctx) => {
    const memberships = await ctx.db
      .query("memberships")
      .withIndex("by_user", (q) => q.eq("userId", ctx.user._id))
      .collect();
    const organizations = await Promise.all(
      memberships.map((m) => ctx.db.get("organizations", m.organizationId)),
    );
    return organizations.filter((o) => o !== null);
  },
});

/** The members of one of the user's organizations, with their profile. */
export const members = userQuery({
  args: { organizationId: v.id("organizations") },
  handler: async (ctx, { organizationId }) => {
    await requireMembership(ctx, ctx.user._id, organizationId);
    const memberships = await ctx.db
      .query("memberships")
      .withIndex("by_organization_user", (q) => q.eq("organizationId", organizationId))
      .collect();
    return Promise.all(
      memberships.map(async (m) => {
        const user = (await ctx.db.get("users", m.userId))!;
        return {
          userId: user._id,
          name: user.name,
          usertag: user.usertag,
          avatarUrl: user.avatarUrl,
          role: m.role,
        };
      }),
    );
  },
});
