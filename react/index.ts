/** React hooks for apps that sign in with Auth0 through `ConvexProviderWithAuth0`. */
export { useStoreUserEffect, type StoreUserState } from "./useStoreUserEffect";
export { useCurrentUser, type CurrentUser, type CurrentUserState } from "./useCurrentUser";
export {
  useCurrentOrganization,
  type CurrentOrganization,
  type CurrentOrganizationState,
} from "./useCurrentOrganization";
