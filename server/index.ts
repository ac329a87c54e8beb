/**
 * `convex-auth0-users/server`: what an app's `convex/` files import. The functions themselves are
 * served from the app's `convex/auth0.ts` (`export * from "convex-auth0-users/functions"`).
 *
 * - convex/schema.ts: `defineSchema({ ...auth0Tables, ... })`, `auth0UsersTable({ appFields })`
 * - convex/http.ts: `registerRoutes(http)`
 * - convex/crons.ts: `registerCrons(crons)`
 * - convex/auth.config.ts: `{ providers: auth0Providers() }`
 * - convex/auth0.ts: `configureAuth0Users<DataModel>({ onUserDeleted })`
 * - the app's functions: `getCurrentUser(ctx)` / `getCurrentUserOrThrow(ctx)`
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

export { auth0Tables, auth0UsersTable, userFields, adoptionUserFields } from "./tables";
export { registerRoutes } from "./routes";
export { registerCrons } from "./crons";
export { auth0Providers } from "./authConfig";
export { configureAuth0Users, type Auth0UsersOptions, type DeletedUserRelated } from "./userHooks";
export { tokenIdentifier, parseTokenIdentifier, normalizeIssuer } from "./tokenIdentifier";
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

/** The signed-in user's organization of this session (the token's `org_id`), or null. */
export async function getCurrentOrganization<AppDataModel extends GenericDataModel>(
  ctx: ReaderCtx<AppDataModel>,
) {
  return await organizations.getCurrentOrganization(ctx as unknown as QueryCtx);
}

/** Throws unless the signed-in user has `role` in the session's organization; returns both. */
export async function requireOrgRole<AppDataModel extends GenericDataModel>(
  ctx: ReaderCtx<AppDataModel>,
  role: string,
) {
  return await organizations.requireOrgRole(ctx as unknown as QueryCtx, role);
}
