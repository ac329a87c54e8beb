import { useConvexAuth, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../server/api";

/** A `users` row as `auth0.current` returns it. */
export type CurrentUser = NonNullable<FunctionReturnType<typeof api.auth0.current>>;

/** What {@link useCurrentUser} reports. */
export interface CurrentUserState {
  /** True while auth is loading, or while signed in and the row is not loaded (or not stored) yet. */
  isLoading: boolean;
  /** Convex has accepted the Auth0 ID token. */
  isAuthenticated: boolean;
  /** The signed-in user's row; null while loading and when signed out. */
  user: CurrentUser | null;
}

/**
 * The signed-in user's `users` row, live, combined with the auth state.
 *
 * A signed-in user whose row does not exist yet counts as loading: pair this hook with
 * `useStoreUserEffect` (or the Post-Login Action), which creates the row, and the query
 * updates by itself once it exists. Signed out, it is `{ isLoading: false, user: null }` and no
 * query runs.
 *
 * @example
 * ```tsx
 * function Profile() {
 *   const { isLoading, user } = useCurrentUser();
 *   if (isLoading) return <Spinner />;
 *   if (!user) return <LoginButton />;
 *   return <p>Signed in as {user.name ?? user.email}</p>;
 * }
 * ```
 */
export function useCurrentUser(): CurrentUserState {
  const { isLoading: authLoading, isAuthenticated } = useConvexAuth();
  // Skipped when signed out: there is nothing to read, and no row of a previous identity lingers.
  const user = useQuery(api.auth0.current, isAuthenticated ? {} : "skip");
  return {
    isLoading: authLoading || (isAuthenticated && (user === undefined || user === null)),
    isAuthenticated,
    user: isAuthenticated ? (user ?? null) : null,
  };
}
