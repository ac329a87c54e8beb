import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

/**
 * Fields this module owns on a `users` row. Host apps add their own fields next to these
 * (`defineTable({ ...userFields, plan: v.optional(v.string()) })`); the module never reads or writes
 * fields it does not own. Everything Auth0 may omit is optional.
 */
export const userFields = {
  /** `${iss}|${sub}` as Convex computes it; see convex/tokenIdentifier.ts. */
  tokenIdentifier: v.string(),
  /** Auth0 `user_id` (the token's `sub`), e.g. `google-oauth2|123`. */
  auth0UserId: v.string(),
  /** Absent for SMS and some social logins. Not unique: Auth0 allows one email on two connections. */
  email: v.optional(v.string()),
  emailVerified: v.optional(v.boolean()),
  name: v.optional(v.string()),
  nickname: v.optional(v.string()),
  givenName: v.optional(v.string()),
  familyName: v.optional(v.string()),
  avatarUrl: v.optional(v.string()),
  /** Auth0's `updated_at` (ms) of the profile stored here: older profiles never overwrite it. */
  auth0UpdatedAt: v.optional(v.number()),
  /** Last login seen (ms), at one-minute resolution. */
  lastActiveAt: v.optional(v.number()),
  createdAt: v.number(),
  /** Last time this module changed the row (ms). */
  updatedAt: v.number(),
};

export default defineSchema({
  users: defineTable(userFields)
    .index("by_token", ["tokenIdentifier"])
    .index("by_auth0_user_id", ["auth0UserId"])
    .index("by_email", ["email"]),
});
