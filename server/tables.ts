import { defineSchema, defineTable } from "convex/server";
import { v, type Validator } from "convex/values";
import { storedMetadata } from "./orgMetadata";

/**
 * Fields this module owns on a `users` row. Host apps add their own fields next to these
 * (`defineTable({ ...userFields, plan: v.optional(v.string()) })`); the module never reads or writes
 * fields it does not own. Everything Auth0 may omit is optional.
 */
export const userFields = {
  /** `${iss}|${sub}` as Convex computes it; see server/tokenIdentifier.ts. */
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
  /** Set when the user was deleted in Auth0 and `AUTH0_USER_DELETION=anonymize` kept the row
   * (every Auth0 fact cleared) so the app's references to it stay valid: see `users.deleteUser`. */
  deletedAt: v.optional(v.number()),
};

/**
 * {@link userFields} for an app adopting an existing `users` table (rows in the Convex docs'
 * shape, `{ name, tokenIdentifier }`): the fields those rows lack are optional, so the push
 * accepts them. Use it until `auth0:adoptExistingRows` has completed every row, then switch
 * back to `userFields`. See README, "Adopting an existing users table".
 */
export const adoptionUserFields = {
  ...userFields,
  auth0UserId: v.optional(v.string()),
  createdAt: v.optional(v.number()),
  updatedAt: v.optional(v.number()),
};

/** What became of an Auth0 event (see server/events/events.ts). */
export const eventOutcome = v.union(
  /** Applied to `users` (which may have been a no-op when nothing changed). */
  v.literal("applied"),
  /** Older than what is stored (a newer profile or a deletion): nothing changed. */
  v.literal("superseded"),
  /** A test event or a type this module does not handle: acknowledged, nothing changed. */
  v.literal("ignored"),
  /** Can never apply (bad user object, no ordering key, too old): recorded for inspection. */
  v.literal("failed"),
);

// The renamed tables are built by functions: auth0LegacyTables declares the same tables again
// under their 0.1 names, and a TableDefinition must not be shared (`.index()` changes it).
const userTombstonesTable = () =>
  defineTable({
    auth0UserId: v.string(),
    /** Auth0's deletion time (ms). */
    deletedAt: v.number(),
    /** The `user.deleted` event that recorded it, when it came from an event. */
    eventId: v.optional(v.string()),
  })
    .index("by_auth0_user_id", ["auth0UserId"])
    .index("by_deleted_at", ["deletedAt"]);

/**
 * The tables the Event Stream receiver (server/events/events.ts) and the tombstone rule in
 * `users.upsertUser` need. A host app that writes its own schema spreads them in:
 * `defineSchema({ users: defineTable({ ...userFields, plan: v.string() })..., ...eventTables })`.
 */
export const eventTables = {
  /** One row per Auth0 Event Stream event id processed: deduplication, health and failures. */
  auth0Events: defineTable({
    eventId: v.string(),
    type: v.string(),
    /** The event's CloudEvents `time` (ms). */
    eventTime: v.number(),
    /** When this deployment received it (ms): pruning and the health figure use it. */
    receivedAt: v.number(),
    auth0UserId: v.optional(v.string()),
    /** For organization events: the organization. */
    auth0OrgId: v.optional(v.string()),
    outcome: eventOutcome,
    /** Why it was superseded, ignored or failed; never contains secrets or profile facts. */
    detail: v.optional(v.string()),
  })
    .index("by_event_id", ["eventId"])
    .index("by_received_at", ["receivedAt"])
    .index("by_outcome", ["outcome", "receivedAt"]),

  /** Auth0 users deleted recently: no older profile may bring them back (see users.upsertUser). */
  auth0UserTombstones: userTombstonesTable(),
};

/**
 * Auth0 Organizations and their members, a synced cache of what Auth0 holds (see
 * server/organizations/writes.ts, the one place these rows are written). Every change carries the time of
 * the Auth0 state it reflects (an event's `time`, a login, a reconcile's listing): an older change
 * never overwrites a newer one, and a tombstone keeps a deleted organization or a removed
 * membership from coming back. Host apps spread these into their schema, and may add fields.
 */
export const organizationFields = {
  auth0OrgId: v.string(),
  /** The organization's `name`: its slug, e.g. `acme`. */
  name: v.string(),
  /** The name people see, e.g. `Acme Inc.`. */
  displayName: v.optional(v.string()),
  /** Auth0 organization metadata as `{ key, value }` entries sorted by key (any key Auth0
   * accepts; see server/orgMetadata.ts). Rows from before hold an object until
   * `auth0.migrateOrganizationMetadata` rewrites them. */
  metadata: v.optional(storedMetadata),
  /** Time (ms) of the Auth0 state stored here: older changes never overwrite it. */
  auth0At: v.number(),
  createdAt: v.number(),
  updatedAt: v.number(),
};

export const membershipFields = {
  /** The member's `users` row; absent until the user has one (linked when it is created). */
  userId: v.optional(v.id("users")),
  auth0UserId: v.string(),
  auth0OrgId: v.string(),
  /** The member's roles in this organization (names), sorted. */
  roles: v.array(v.string()),
  /** Per role name, the latest assignment or removal seen, so a late event cannot undo it. */
  roleTimes: v.array(v.object({ name: v.string(), present: v.boolean(), at: v.number() })),
  /** Latest time (ms) Auth0 showed this membership (an event, a login, a listing). */
  auth0At: v.number(),
  /** When the membership was last removed before this one began: older changes (a late role
   * assignment from the earlier membership) do not apply. */
  notBefore: v.optional(v.number()),
  createdAt: v.number(),
  updatedAt: v.number(),
};

const organizationTablesOf = () => ({
  auth0Organizations: defineTable(organizationFields).index("by_auth0_org_id", ["auth0OrgId"]),
  auth0Memberships: defineTable(membershipFields)
    .index("by_user", ["userId"])
    .index("by_auth0_user", ["auth0UserId", "auth0OrgId"])
    .index("by_org", ["auth0OrgId", "auth0UserId"]),
  /** Deleted organizations (no `auth0UserId`) and removed memberships, kept like user tombstones. */
  auth0OrganizationTombstones: defineTable({
    auth0OrgId: v.string(),
    auth0UserId: v.optional(v.string()),
    deletedAt: v.number(),
  })
    .index("by_org_user", ["auth0OrgId", "auth0UserId"])
    .index("by_deleted_at", ["deletedAt"]),
});
export const organizationTables = organizationTablesOf();

/**
 * The tenant-log sync (server/logSync/logSync.ts): one state row (checkpoint, health figures) and the
 * cached Management API token of its machine-to-machine application.
 */
const logSyncTablesOf = () => ({
  auth0LogSyncState: defineTable({
    /** Always "tenant": one row. */
    key: v.string(),
    /** The last log event whose users are applied; the next run reads the events after it. */
    checkpoint: v.optional(v.string()),
    /** That event's `date` (ms). */
    checkpointDate: v.optional(v.number()),
    /** Set when the sync cannot go on by itself (checkpoint past retention or refused). */
    stopped: v.optional(v.object({ at: v.number(), reason: v.string() })),
    /** Set when only a full reconcile can cover what the log cannot (first run, bulk import). */
    fullReconcileNeeded: v.optional(v.object({ since: v.number(), reason: v.string() })),
    /** A run holds the state until then, so cron runs never overlap. */
    leaseUntil: v.optional(v.number()),
    lastRunAt: v.optional(v.number()),
    lastSuccessAt: v.optional(v.number()),
    /** Date (ms) of the newest log event the last run saw: the lag is its distance to the checkpoint. */
    newestLogDate: v.optional(v.number()),
    lastRunUsersRefetched: v.optional(v.number()),
    lastRunLogEvents: v.optional(v.number()),
    usersRefetchedTotal: v.optional(v.number()),
    consecutiveErrors: v.optional(v.number()),
    lastError: v.optional(v.object({ at: v.number(), message: v.string() })),
  }).index("by_key", ["key"]),
  auth0LogSyncToken: defineTable({
    clientId: v.string(),
    accessToken: v.string(),
    scope: v.string(),
    expiresAt: v.number(),
  }).index("by_client", ["clientId"]),
});
export const logSyncTables = logSyncTablesOf();

/** Progress of the module's own data migrations, one row each (see server/legacy/migration.ts). */
export const migrationTables = {
  auth0Migrations: defineTable({
    /** Which migration: `legacyTables` moves the rows of the 0.1 table names. */
    name: v.string(),
    startedAt: v.number(),
    updatedAt: v.number(),
    /** Set once nothing is left to move: the module stops reading the old tables. */
    finishedAt: v.optional(v.number()),
    /** Rows moved, and rows folded into a row the new table already held for the same key. */
    moved: v.number(),
    merged: v.number(),
    /** A row the migration will not move (not the module's shape): it waits for a person. */
    blocked: v.optional(v.object({ table: v.string(), id: v.string(), reason: v.string() })),
  }).index("by_name", ["name"]),
};

/** The 0.1 name of each table this module has renamed (every table it adds but `users`). */
export const LEGACY_TABLE_NAMES = {
  auth0Organizations: "organizations",
  auth0Memberships: "memberships",
  auth0OrganizationTombstones: "organizationTombstones",
  auth0UserTombstones: "userTombstones",
  auth0LogSyncState: "logSyncState",
  auth0LogSyncToken: "logSyncToken",
} as const;
export type RenamedTable = keyof typeof LEGACY_TABLE_NAMES;

const renamedTablesOf = () => ({
  ...organizationTablesOf(),
  ...logSyncTablesOf(),
  auth0UserTombstones: userTombstonesTable(),
});

type LegacyTables = {
  [T in RenamedTable as (typeof LEGACY_TABLE_NAMES)[T]]: ReturnType<typeof renamedTablesOf>[T];
};

/**
 * The module's tables under their 0.1 names (`organizations`, `memberships`, ...), each with the
 * fields and indexes of the table it became. Only for an app upgrading from 0.1 whose deployment
 * holds rows under those names: spread it beside `auth0Tables` and set the Convex variable
 * `AUTH0_LEGACY_TABLES=migrate` until `auth0:migrateLegacyTables` reports `done`, then remove both.
 * An app that never ran 0.1 (its own `organizations` included) never needs it.
 */
export const auth0LegacyTables: LegacyTables = (() => {
  const fresh = renamedTablesOf();
  return Object.fromEntries(
    (Object.keys(LEGACY_TABLE_NAMES) as RenamedTable[]).map((t) => [
      LEGACY_TABLE_NAMES[t],
      fresh[t],
    ]),
  ) as LegacyTables;
})();

/** The module's indexes on `users`: every lookup it makes goes through one of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any field validator of the app
type ValidatorFields = Record<string, Validator<any, any, any>>;

function withUserIndexes<Fields extends ValidatorFields>(fields: Fields) {
  return (
    defineTable(fields)
      .index("by_token", ["tokenIdentifier"])
      .index("by_auth0_user_id", ["auth0UserId"])
      .index("by_email", ["email"])
      // auth0.eventsHealth finds rows whose ordering key lies in the future.
      .index("by_auth0_updated_at", ["auth0UpdatedAt"])
  );
}

/**
 * The `users` table: the module's fields and indexes plus the app's own fields (which the module
 * never reads or writes). `adopting: true` accepts rows in the Convex docs' shape until
 * `auth0:adoptExistingRows` has completed them (see {@link adoptionUserFields}).
 *
 * @example
 * users: auth0UsersTable({ plan: v.optional(v.string()) }).index("by_plan", ["plan"]),
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no fields of the app
export function auth0UsersTable<AppFields extends ValidatorFields = {}>(
  appFields?: AppFields,
  options?: { adopting?: false },
): ReturnType<typeof withUserIndexes<AppFields & typeof userFields>>;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no fields of the app
export function auth0UsersTable<AppFields extends ValidatorFields = {}>(
  appFields: AppFields,
  options: { adopting: true },
): ReturnType<typeof withUserIndexes<AppFields & typeof adoptionUserFields>>;
export function auth0UsersTable(
  appFields: ValidatorFields = {},
  options: { adopting?: boolean } = {},
) {
  const owned = Object.keys(appFields).filter((name) => name in userFields);
  if (owned.length > 0) {
    throw new Error(
      `auth0UsersTable: ${owned.join(", ")} belong${owned.length === 1 ? "s" : ""} to the module; remove ${owned.length === 1 ? "it" : "them"} from the app's own fields`,
    );
  }
  return withUserIndexes({
    ...appFields,
    ...(options.adopting ? adoptionUserFields : userFields),
  });
}

/**
 * Every table of the module, `users` included, to spread into the app's schema:
 * `defineSchema({ ...auth0Tables, messages: defineTable(...) })`. An app with fields of its own on
 * `users` puts `users: auth0UsersTable({ ... })` after the spread.
 */
export const auth0Tables = {
  users: withUserIndexes(userFields),
  ...eventTables,
  ...organizationTables,
  ...logSyncTables,
  ...migrationTables,
};

/** The module's own view of the schema: the types its functions are written against. */
export const moduleSchema = defineSchema(auth0Tables);
