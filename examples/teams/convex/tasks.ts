import { v } from "convex/values";
import { userMutation, userQuery } from "./functions";
import { requireMembership } from "./organizations";

/** A project's tasks, with the assignee's usertag. */
export const list = userQuery({
  args: { projectId: v.id("projects") },
  handler: async (ctx, { projectId }) => {
    const project = await ctx.db.get("projects", projectId);
    if (project === null) throw new Error("No such project");
    await requireMembership(ctx, ctx.user._id, project.organizationId);
    const tasks = await ctx.db
      .query("tasks")
      .withIndex("by_project", (q) => q.eq("projectId", projectId))
      .collect();
    return Promise.all(
      tasks.map(async (task) => ({
        _id: task._id,
        title: task.title,
        done: task.done,
        assignee: task.assignee ? (await ctx.db.get("users", task.assignee))!.usertag : null,
      })),
    );
  },
});

export const create = userMutation({
  args: { projectId: v.id("projects"), title: v.string(), assignee: v.optional(v.id("users")) },
  handler: async (ctx, { projectId, title, assignee }) => {
    const project = await ctx.db.get("projects", projectId);
    if (project === null) throw new Error("No such project");
    await requireMembership(ctx, ctx.user._id, project.organizationId);
    if (assignee) await requireMembership(ctx, assignee, project.organizationId);
    return await ctx.db.insert("tasks", { projectId, title, assignee, done: false });
  },
});

export const complete = userMutation({
  args: { taskId: v.id("tasks") },
  handler: async (ctx, { taskId }) => {
    const task = await ctx.db.get("tasks", taskId);
    if (task === null) throw new Error("No such task");
    const project = (await ctx.db.get("projects", task.projectId))!;
    await requireMembership(ctx, ctx.user._id, project.organizationId);
    await ctx.db.patch("tasks", taskId, { done: true });
  },
});
