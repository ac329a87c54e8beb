import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  users: defineTable({
    name: v.string(),
    email: v.string(),
    // Set on the profile page; the Auth0 picture until then.
    avatarUrl: v.optional(v.string()),
    // @handle shown in the app, derived from the email at sign-up.
    usertag: v.string(),
    plan: v.union(v.literal("free"), v.literal("team")),
    tokenIdentifier: v.string(),
  })
    .index("by_token", ["tokenIdentifier"])
    .index("by_usertag", ["usertag"]),

  // Our cache of the Auth0 Organizations people sign in through.
  organizations: defineTable({
    auth0OrgId: v.string(),
    name: v.string(),
  }).index("by_auth0_org_id", ["auth0OrgId"]),
  memberships: defineTable({
    organizationId: v.id("organizations"),
    userId: v.id("users"),
    role: v.union(v.literal("admin"), v.literal("member")),
  })
    .index("by_user", ["userId"])
    .index("by_organization_user", ["organizationId", "userId"]),

  projects: defineTable({
    organizationId: v.id("organizations"),
    name: v.string(),
    createdBy: v.id("users"),
  }).index("by_organization", ["organizationId"]),
  tasks: defineTable({
    projectId: v.id("projects"),
    title: v.string(),
    assignee: v.optional(v.id("users")),
    done: v.boolean(),
  })
    .index("by_project", ["projectId"])
    .index("by_assignee", ["assignee"]),
});
