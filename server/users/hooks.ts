/**
 * The app's say in its `users` rows, set once from the app's `convex/auth0.ts` with
 * `configureAuth0Users<DataModel>({ ... })`: lifecycle hooks that run in the writing mutation
 * (`onUserCreated`, `onUserUpdated`, `onUserDeleted`), the profile fields the app owns
 * (`appOwnedFields`), and the Auth0 metadata copied into its own fields (`metadata`). Every path
 * (the Action's route, `auth0.store`, events, the reconcile, the log sync, adoption) writes
 * through server/users/users.ts, which applies all of them; README, "Field ownership, hooks and
 * metadata".
 *
 * `onUserCreated` runs just before a new row is inserted and returns the app's own fields for it
 * (a `users` table with required fields of the app validates on every path); `onUserUpdated`
 * runs after the module changed a row (old and new row; a login that only moves `lastActiveAt`
 * is not a change). Both share the writing mutation's limits, like `onUserDeleted` below.
 *
 * `onUserDeleted` runs when a user deleted in Auth0 is removed from `users` (a `user.deleted`
 * event, or any later path that calls `deleteUser` in server/users/users.ts). It receives the user's
 * first organization memberships (at most `INLINE_USER_MEMBERSHIPS`, 16, in server/limits.ts),
 * which are removed with the row; a user in more organizations has the rest removed right after
 * by scheduled `auth0:purgeMemberships` mutations. It runs:
 * - exactly once per removed row: a redelivered or late event whose row is already gone does not
 *   call it again;
 * - inside the same mutation as the removal, just before the row is deleted, so the row can still
 *   be read and everything it writes commits or rolls back together with the removal;
 * - with the same limits as any mutation (1 s of code, 4,096 index ranges, 16,000 documents
 *   written), shared with the rest of the deletion and, in a reconcile batch, with the other
 *   users of the batch (`auth0.applyBatch` checks `ctx.meta.getTransactionMetrics()` before each
 *   user and leaves the rest to the caller's next call). Keep it to a bounded amount of work; a
 *   user with more dependent data should be marked here and cleaned up by a scheduled function
 *   (`ctx.scheduler.runAfter(0, internal.myApp.cleanup, { userId: user._id })`) in chunks.
 *
 * If it throws, nothing is removed and the event route answers 500, so Auth0 retries the event.
 *
 * With `AUTH0_USER_DELETION=anonymize` the row is kept with its Auth0 facts cleared instead of
 * deleted (see `deleteUser`); the hook runs the same way, before the facts are cleared.
 *
 * @example
 * // convex/auth0.ts
 * configureAuth0Users<DataModel>({
 *   onUserDeleted: async (ctx, user) => {
 *     const posts = await ctx.db
 *       .query("posts")
 *       .withIndex("by_author", (q) => q.eq("authorId", user._id))
 *       .take(100);
 *     for (const post of posts) await ctx.db.delete("posts", post._id);
 *   },
 * });
 */
import type {
  DocumentByName,
  GenericDataModel,
  GenericMutationCtx,
  TableNamesInDataModel,
  WithoutSystemFields,
} from "convex/server";
import type { OptionalProperty, Validator } from "convex/values";
import type { Doc, MutationCtx } from "../builders";
import { parseMetadataPath } from "./auth0Profile";
import { userFields } from "../tables";
import { PROFILE_KEYS, type ProfileKey } from "./profile";
import { setConfiguredUserDeletion, type UserDeletionMode } from "./rowState";

/** What `onUserDeleted` receives beside the row. */
export interface DeletedUserRelated {
  /** The user's first memberships, removed with the row (the rest right after, scheduled). */
  memberships: Doc<"auth0Memberships">[];
  /** AUTH0_USER_DELETION: whether the row is about to be removed or kept anonymized. */
  mode: UserDeletionMode;
}

/** The app's `users` document (the module's own when the data model has no `users`). */
export type AppUserDoc<AppDataModel extends GenericDataModel> =
  "users" extends TableNamesInDataModel<AppDataModel>
    ? DocumentByName<AppDataModel, "users">
    : Doc<"users">;

type ModuleUserField = keyof typeof userFields;

/** The app's own fields on `users`: every field but the module's and the system's. */
export type AppUserFields<AppDataModel extends GenericDataModel> = Omit<
  WithoutSystemFields<AppUserDoc<AppDataModel>>,
  ModuleUserField
>;

/** The row `onUserCreated` is shown: the module's fields and the mapped metadata values. */
export type NewUser<AppDataModel extends GenericDataModel> = WithoutSystemFields<Doc<"users">> &
  Partial<AppUserFields<AppDataModel>>;

/** What `onUserCreated` returns: the app's fields for the new row, every required one included
 * (nothing when the app has none required). */
export type NewUserFields<AppDataModel extends GenericDataModel> =
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "all fields optional"
  {} extends AppUserFields<AppDataModel>
    ? AppUserFields<AppDataModel> | void
    : AppUserFields<AppDataModel>;

/** Where a mapped value comes from in the Auth0 user: a key of `app_metadata` or
 * `user_metadata`, nested keys joined with dots (`app_metadata.billing.plan`). */
export type MetadataPath = `app_metadata.${string}` | `user_metadata.${string}`;

/** One app field filled from Auth0 metadata, and the validator its value must pass. */
export interface MetadataField<T> {
  from: MetadataPath;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any field paths
  validator: Validator<T, OptionalProperty, any>;
}

/** The app's options; each is optional. `AppDataModel` is the app's own (`./_generated/dataModel`). */
export interface Auth0UsersOptions<AppDataModel extends GenericDataModel = GenericDataModel> {
  /** Cascade for a deleted user, in the deleting mutation, before the row changes. */
  onUserDeleted?: (
    ctx: GenericMutationCtx<AppDataModel>,
    user: AppUserDoc<AppDataModel>,
    related: DeletedUserRelated,
  ) => Promise<void>;
  /**
   * Runs in the creating mutation just before the row is inserted; returns the app's own fields
   * for it, which are inserted with the row. A valid mapped metadata value (see `metadata`)
   * wins over the same field returned here: what is returned for it is the default.
   */
  onUserCreated?: (
    ctx: GenericMutationCtx<AppDataModel>,
    user: NewUser<AppDataModel>,
  ) => Promise<NewUserFields<AppDataModel>>;
  /** Runs in the writing mutation after the module changed a row: the row before and after. */
  onUserUpdated?: (
    ctx: GenericMutationCtx<AppDataModel>,
    change: { before: AppUserDoc<AppDataModel>; after: AppUserDoc<AppDataModel> },
  ) => Promise<void>;
  /**
   * Profile fields the app owns: filled from Auth0 when the row is created, never written by the
   * module afterwards (no path refreshes them, the reconcile does not count them as drift). The
   * others stay Auth0's, refreshed on every path. Anonymizing a deleted user clears them too.
   */
  appOwnedFields?: readonly ProfileKey[];
  /**
   * App fields copied from Auth0's `app_metadata` / `user_metadata` on every path that carries
   * them, each value checked with its validator first: an invalid one is refused (logged, and
   * reported to the path) and leaves that field as it was.
   */
  metadata?: {
    [Field in keyof AppUserFields<AppDataModel>]?: MetadataField<
      AppUserFields<AppDataModel>[Field]
    >;
  };
  /** What a deletion does while the Convex variable AUTH0_USER_DELETION is unset (it wins when
   * set): `anonymize` keeps the row so your `v.id("users")` references resolve; default `remove`. */
  userDeletion?: UserDeletionMode;
}

/** A configured metadata mapping, checked. */
export interface MetadataMapping {
  field: string;
  from: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the app's validator
  validator: Validator<any, OptionalProperty, any>;
}

interface Configured {
  onUserDeleted?: Auth0UsersOptions["onUserDeleted"];
  onUserCreated?: Auth0UsersOptions["onUserCreated"];
  onUserUpdated?: Auth0UsersOptions["onUserUpdated"];
  appOwned: ReadonlySet<ProfileKey>;
  metadata: readonly MetadataMapping[];
}

let configured: Configured = { appOwned: new Set(), metadata: [] };

const fail = (message: string): never => {
  throw new Error(`configureAuth0Users: ${message}`);
};

function checkedMetadata(metadata: unknown): MetadataMapping[] {
  if (metadata === undefined) return [];
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    return fail("metadata must be an object of { from, validator } per field of the app");
  }
  return Object.entries(metadata as Record<string, unknown>).map(([field, mapping]) => {
    if (field in userFields || field.startsWith("_")) {
      fail(`metadata.${field}: ${field} is not a field of the app (the module or Convex owns it)`);
    }
    const { from, validator } = (mapping ?? {}) as { from?: unknown; validator?: unknown };
    if (typeof from !== "string" || !parseMetadataPath(from)) {
      fail(
        `metadata.${field}.from must be "app_metadata.<key>" or "user_metadata.<key>" (nested keys joined with dots), not ${JSON.stringify(from)}`,
      );
    }
    if ((validator as { isConvexValidator?: unknown } | undefined)?.isConvexValidator !== true) {
      fail(
        `metadata.${field}.validator must be a Convex validator (v.string(), v.union(...), ...)`,
      );
    }
    return { field, from, validator } as MetadataMapping;
  });
}

/**
 * Sets the app's options. Call it once, at the top level of `convex/auth0.ts`, the file that
 * serves the module's functions: it runs whenever one of them is loaded, before any of them runs.
 * A bad option throws here, naming it, so the deployment's push fails instead of a login.
 */
export function configureAuth0Users<AppDataModel extends GenericDataModel = GenericDataModel>(
  options: Auth0UsersOptions<AppDataModel>,
): void {
  for (const hook of ["onUserDeleted", "onUserCreated", "onUserUpdated"] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== "function") {
      fail(`${hook} must be a function`);
    }
  }
  const appOwned = options.appOwnedFields ?? [];
  if (!Array.isArray(appOwned)) fail("appOwnedFields must be an array of profile fields");
  for (const key of appOwned) {
    if (!(PROFILE_KEYS as readonly unknown[]).includes(key)) {
      fail(`appOwnedFields: ${JSON.stringify(key)} is not one of ${PROFILE_KEYS.join(", ")}`);
    }
  }
  const metadata = checkedMetadata(options.metadata);
  // Last of the checks, as it also sets the mode: a refused configuration changes nothing.
  setConfiguredUserDeletion(options.userDeletion);
  // The app's data model is a superset of the module's: its hooks get the same ctx and rows.
  const generic = options as unknown as Auth0UsersOptions;
  configured = {
    onUserDeleted: generic.onUserDeleted,
    onUserCreated: generic.onUserCreated,
    onUserUpdated: generic.onUserUpdated,
    appOwned: new Set(appOwned),
    metadata,
  };
}

/** The profile fields the app owns (see `appOwnedFields`). */
export function appOwnedFields(): ReadonlySet<ProfileKey> {
  return configured.appOwned;
}

/** The app's metadata mappings (see `metadata`). */
export function metadataMappings(): readonly MetadataMapping[] {
  return configured.metadata;
}

const appCtx = (ctx: MutationCtx) => ctx as unknown as GenericMutationCtx<GenericDataModel>;

/** Runs the app's `onUserDeleted`, if any; the default keeps the app's other data untouched. */
export async function onUserDeleted(
  ctx: MutationCtx,
  user: Doc<"users">,
  related: DeletedUserRelated,
): Promise<void> {
  await configured.onUserDeleted?.(appCtx(ctx), user, related);
}

/**
 * Runs the app's `onUserCreated`, if any, and returns the fields it gives the new row. A field of
 * the module's (or a system field) among them throws: the module fills those itself.
 */
export async function onUserCreated(
  ctx: MutationCtx,
  user: WithoutSystemFields<Doc<"users">> & Record<string, unknown>,
): Promise<Record<string, unknown>> {
  if (!configured.onUserCreated) return {};
  const fields: unknown = await configured.onUserCreated(appCtx(ctx), {
    ...user,
  } as NewUser<GenericDataModel>);
  if (fields === undefined || fields === null) return {};
  if (typeof fields !== "object" || Array.isArray(fields)) {
    throw new Error(
      "onUserCreated must return the app's fields for the new row (an object), or nothing",
    );
  }
  const theirs = Object.keys(fields).filter((key) => key in userFields || key.startsWith("_"));
  if (theirs.length > 0) {
    throw new Error(
      `onUserCreated returned ${theirs.join(", ")}: the module fills ${theirs.length === 1 ? "that field" : "those fields"} itself; return only the app's own fields`,
    );
  }
  return fields as Record<string, unknown>;
}

/** Runs the app's `onUserUpdated`, if any, with the row before and after the module's change. */
export async function onUserUpdated(
  ctx: MutationCtx,
  before: Doc<"users">,
  after: Doc<"users">,
): Promise<void> {
  await configured.onUserUpdated?.(appCtx(ctx), { before, after });
}
