/**
 * `convex-auth0-users/server`: what an app's `convex/` files import. The functions themselves are
 * served from the app's `convex/auth0.ts` (`export * from "convex-auth0-users/functions"`).
 *
 * - convex/schema.ts: `defineSchema({ ...auth0Tables, ... })`, `auth0UsersTable({ appFields })`
 * - convex/http.ts: `registerRoutes(http)`
 * - convex/crons.ts: `registerCrons(crons)`
 * - convex/auth.config.ts: `{ providers: auth0Providers() }`
 * - convex/auth0.ts: `configureAuth0Users<DataModel>({ onUserCreated, onUserUpdated,
 *   onUserDeleted, appOwnedFields, metadata })`
 * - the app's functions: `getCurrentUser(ctx)` / `getCurrentUserOrThrow(ctx)`, and for
 *   organizations `requireOrgRole(ctx, role)`, `getCurrentOrganization(ctx)`, `getMemberships`
 */
import type {
  Auth,
  DocumentByName,
  GenericDataModel,
  GenericDatabaseReader,
  TableNamesInDataModel,
} from "convex/server";
import type { QueryCtx } from "./builders";
import * as users from "./users";
import * as organizations from "./organizations";

export {
  auth0Tables,
  auth0LegacyTables,
  auth0UsersTable,
  userFields,
  adoptionUserFields,
} from "./tables";
export { registerRoutes } from "./routes";
export { registerCrons } from "./crons";
export { auth0Providers } from "./authConfig";
export {
  configureAuth0Users,
  type Auth0UsersOptions,
  type AppUserFields,
  type DeletedUserRelated,
  type MetadataField,
  type MetadataPath,
  type NewUser,
  type NewUserFields,
} from "./users";
export type { ProfileKey } from "./users";
export { tokenIdentifier, parseTokenIdentifier, normalizeIssuer } from "./tokenIdentifier";
export { metadataObject } from "./orgMetadata";
export type { Doc as ModuleDoc, DataModel as ModuleDataModel } from "./builders";

/** The `users` document of the app's data model (its own fields included). */
export type AppUser<AppDataModel extends GenericDataModel> =
  "users" extends TableNamesInDataModel<AppDataModel>
    ? DocumentByName<AppDataModel, "users">
    : never;

/** Any query, mutation or action-less context of the app: it has `auth` and a `db` reader. */
export interface ReaderCtx<AppDataModel extends GenericDataModel> {
  auth: Auth;
  db: GenericDatabaseReader<AppDataModel>;
}

/**
 * The signed-in user's row, or null: signed out, not stored yet, or deleted. Use it in the app's
 * own functions instead of looking `identity.tokenIdentifier` up in `by_token`: a person who signs
 * in through the custom domain has the row of their first issuer, found here by Auth0 user id.
 */
export async function getCurrentUser<AppDataModel extends GenericDataModel>(
  ctx: ReaderCtx<AppDataModel>,
): Promise<AppUser<AppDataModel> | null> {
  return (await users.getCurrentUser(ctx as unknown as QueryCtx)) as AppUser<AppDataModel> | null;
}

/** {@link getCurrentUser}, throwing a ConvexError `user_not_found` instead of returning null. */
export async function getCurrentUserOrThrow<AppDataModel extends GenericDataModel>(
  ctx: ReaderCtx<AppDataModel>,
): Promise<AppUser<AppDataModel>> {
  const user = await users.getCurrentUserOrThrow(ctx as unknown as QueryCtx);
  return user as unknown as AppUser<AppDataModel>;
}

/** What the organizations helpers return, with the module's user row replaced by the app's. */
type WithAppUser<T, User> = T extends { user: unknown } ? Omit<T, "user"> & { user: User } : T;

/** The session's organization, its membership and the app's user row: {@link getCurrentOrganization}. */
export type CurrentOrganization<AppDataModel extends GenericDataModel> = WithAppUser<
  NonNullable<Awaited<ReturnType<typeof organizations.getCurrentOrganization>>>,
  AppUser<AppDataModel>
>;

/** What {@link requireOrgRole} returns: the app's user row, the organization and the roles. */
export type OrgRoleGrant<AppDataModel extends GenericDataModel> = WithAppUser<
  Awaited<ReturnType<typeof organizations.requireOrgRole>>,
  AppUser<AppDataModel>
>;

/** The signed-in user's organization of this session (the token's `org_id`), or null. */
export async function getCurrentOrganization<AppDataModel extends GenericDataModel>(
  ctx: ReaderCtx<AppDataModel>,
): Promise<CurrentOrganization<AppDataModel> | null> {
  const current = await organizations.getCurrentOrganization(ctx as unknown as QueryCtx);
  return current as CurrentOrganization<AppDataModel> | null;
}

/**
 * Throws a ConvexError (`not_signed_in`, `no_organization`, `not_a_member`, `missing_role`) unless
 * the signed-in user has `role` in the session's organization; returns the user, the organization
 * and the user's roles there.
 */
export async function requireOrgRole<AppDataModel extends GenericDataModel>(
  ctx: ReaderCtx<AppDataModel>,
  role: string,
): Promise<OrgRoleGrant<AppDataModel>> {
  const grant = await organizations.requireOrgRole(ctx as unknown as QueryCtx, role);
  return grant as unknown as OrgRoleGrant<AppDataModel>;
}

/**
 * The user's organization memberships, each with its organization (null while the cache lacks
 * it), at most the first 1,000 by organization id: `getMemberships(ctx, user)` with the row
 * {@link getCurrentUser} returned.
 */
export async function getMemberships<AppDataModel extends GenericDataModel>(
  ctx: ReaderCtx<AppDataModel>,
  user: { auth0UserId: string },
): ReturnType<typeof organizations.getMemberships> {
  return await organizations.getMemberships(ctx as unknown as QueryCtx, user);
}
