import { v } from "convex/values";
import { mutation, query } from "./_generated/server";

/** The latest messages, newest first, each with its author's name. */
export const list = query({
  args: {},
  handler: async (ctx) => {
    const messages = await ctx.db.query("messages").order("desc").take(100);
    return Promise.all(
      messages.map(async (message) => {
        const author = await ctx.db.get("users", message.author);
        return { _id: message._id, body: message.body, author: author!._id, name: author!.name };
      }),
    );
  },
});

/** Posts a message as the signed-in user. */
export const send = mutation({
  args: { body: v.string() },
  handler: async (ctx, { body }) => {
    const identity = await ctx.auth.getUserIdentity();
    if (!identity) {
      throw new Error("Unauthenticated call to mutation");
    }
    const user = await ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
    if (!user) {
      throw new Error("Unauthenticated call to mutation");
    }
    await ctx.db.insert("messages", { author: user._id, body });
  },
});
