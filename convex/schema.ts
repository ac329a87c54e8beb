import { defineSchema } from "convex/server";
import { auth0Tables } from "../server/index";

export default defineSchema({
  ...auth0Tables,
});
