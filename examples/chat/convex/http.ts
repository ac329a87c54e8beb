import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
import { api } from "./_generated/api";

const http = httpRouter();

// The app's own route: the latest messages as JSON, for a status page.
http.route({
  path: "/messages",
  method: "GET",
  handler: httpAction(async (ctx) => {
    const messages = await ctx.runQuery(api.messages.list, {});
    return Response.json(messages);
  }),
});

export default http;
