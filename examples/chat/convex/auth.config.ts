import { AuthConfig } from "convex/server";

export default {
  providers: [
    {
      domain: "chat-example.us.auth0.com",
      applicationID: "chatExampleClientId",
    },
  ],
} satisfies AuthConfig;
