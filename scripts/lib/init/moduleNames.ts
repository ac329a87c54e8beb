/**
 * What the module owns in an app's schema, as `init` needs it to merge an existing `users` table:
 * the module's table names, its `users` fields (with the validators `auth0UsersTable(…, {
 * adopting: true })` gives them) and its `users` indexes. tests/node/init.test.ts checks these
 * against the schema this repository deploys, so they cannot drift from the module.
 */

/** Every table `auth0Tables` holds. */
export const MODULE_TABLES: readonly string[] = [
  "users",
  "auth0Events",
  "auth0UserTombstones",
  "auth0Organizations",
  "auth0Memberships",
  "auth0OrganizationTombstones",
  "auth0LogSyncState",
  "auth0LogSyncToken",
  "auth0Migrations",
];

/** The module's `users` fields and their validators while adopting (source text). */
export const MODULE_USER_FIELDS: Readonly<Record<string, string>> = {
  tokenIdentifier: "v.string()",
  auth0UserId: "v.optional(v.string())",
  email: "v.optional(v.string())",
  emailVerified: "v.optional(v.boolean())",
  name: "v.optional(v.string())",
  nickname: "v.optional(v.string())",
  givenName: "v.optional(v.string())",
  familyName: "v.optional(v.string())",
  avatarUrl: "v.optional(v.string())",
  auth0UpdatedAt: "v.optional(v.number())",
  lastActiveAt: "v.optional(v.number())",
  createdAt: "v.optional(v.number())",
  updatedAt: "v.optional(v.number())",
  deletedAt: "v.optional(v.number())",
};

/**
 * The module's `users` fields that carry a row's state for its own logic (not a profile fact):
 * an app field of the same name means something else, so init never takes one over. Each with
 * what it means to the module.
 */
export const MODULE_STATE_FIELDS: Readonly<Record<string, string>> = {
  deletedAt:
    "marks a user deleted in Auth0 whose row AUTH0_USER_DELETION=anonymize keeps (server/users/rowState.ts reads it)",
};

/** The module's `users` indexes: name and fields. */
export const MODULE_USER_INDEXES: Readonly<Record<string, readonly string[]>> = {
  by_token: ["tokenIdentifier"],
  by_auth0_user_id: ["auth0UserId"],
  by_email: ["email"],
  by_auth0_updated_at: ["auth0UpdatedAt"],
};
