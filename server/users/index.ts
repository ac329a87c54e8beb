/**
 * The `users` table: the one upsert and the one deletion every path writes through
 * (server/users/users.ts), the profile they take (profile.ts, auth0Profile.ts), the app's hooks
 * and metadata (hooks.ts, metadata.ts), what the writes trust (rules.ts, tombstones.ts), row
 * states and adoption, and the user's side of memberships (memberships.ts). The base capability:
 * it imports no other one, only the shared files and the plumbing (http/, legacy/).
 */
export { adoptExistingRows } from "./adoption";
export { parseAuth0Time, profileFromAuth0User } from "./auth0Profile";
export {
  appOwnedFields,
  type AppUserFields,
  type Auth0UsersOptions,
  configureAuth0Users,
  type DeletedUserRelated,
  type MetadataField,
  metadataMappings,
  type MetadataPath,
  type NewUser,
  type NewUserFields,
} from "./hooks";
export { linkMembershipsStep } from "./memberships";
export { metadataRefusal } from "./metadata";
export {
  auth0ProfileFields,
  PROFILE_KEYS,
  type ProfileKey,
  upsertArgs,
  upsertBodyFields,
} from "./profile";
export {
  convexErrorCode,
  deploymentIssuers,
  isFromTheFuture,
  isUserDeletedError,
  MAX_CLOCK_SKEW_MS,
  TIMESTAMP_IN_FUTURE,
  trustedDeletionTime,
  trustedProfileTime,
  trustedRowsOf,
  USER_DELETED,
} from "./rules";
export { userTombstoneOf } from "./tombstones";
export {
  current,
  deleteFromAuth0,
  deleteUser,
  findUserByTokenIdentifier,
  getCurrentUser,
  getCurrentUserOrThrow,
  store,
  upsertUser,
} from "./users";
