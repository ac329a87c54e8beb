import { v } from "convex/values";
import { userMutation, userQuery } from "./functions";
import { requireMembership } from "./organizations";

/** The organization's projects, newest first, each with who created it. */
export const list = userQuery({
  args: { organizationId: v.id("organizations") },
  handler: async (ctx, { organizationId }) => {
    await requireMembership(ctx, ctx.user._id, organizationId);
    const projects = await ctx.db
      .query("projects")
      .withIndex("by_organization", (q) => q.eq("organizationId", organizationId))
      .order("desc")
      .take(50);
    return Promise.all(
      projects.map(async (project) => {
        const creator = (await ctx.db.get("users", project.createdBy))!;
        return {
          _id: project._id,
          name: project.name,
          createdBy: { _id: creator._id, name: creator.name, usertag: creator.usertag },
        };
      }),
    );
  },
});

export const create = userMutation({
  args: { organizationId: v.id("organizations"), name: v.string() },
  handler: async (ctx, { organizationId, name }) => {
    await requireMembership(ctx, ctx.user._id, organizationId);
    return await ctx.db.insert("projects", { organizationId, name, createdBy: ctx.user._id });
  },
});
