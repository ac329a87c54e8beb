/** React hooks for apps that sign in with Auth0, under `ConvexProviderWithAuth0` or under
 * `ConvexProviderWithAuth` with any `useAuth` (e.g. Next.js with `@auth0/nextjs-auth0`). They read
 * the signed-in state from `useConvexAuth()` only: `@auth0/auth0-react` is not needed. */
export {
  useStoreUserEffect,
  type StoreUserOptions,
  type StoreUserState,
} from "./useStoreUserEffect";
export { useCurrentUser, type CurrentUser, type CurrentUserState } from "./useCurrentUser";
export {
  useCurrentOrganization,
  type CurrentOrganization,
  type CurrentOrganizationState,
} from "./useCurrentOrganization";
