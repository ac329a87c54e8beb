import { useConvexAuth, useMutation } from "convex/react";
import { useEffect, useRef, useState } from "react";
import { api } from "../server/api";
import type { Id } from "../server/builders";

/** What {@link useStoreUserEffect} reports about the signed-in user's `users` row. */
export interface StoreUserState {
  /** True while auth is loading, or while signed in and the row is not stored yet. */
  isLoading: boolean;
  /** Convex has accepted the Auth0 token (`useConvexAuth().isAuthenticated`). */
  isAuthenticated: boolean;
  /** The signed-in user's row, once `auth0.store` returned it; null otherwise. */
  userId: Id<"users"> | null;
  /** Why storing failed for the current identity; it is not retried until the identity changes. */
  error: Error | null;
}

/** What the app tells {@link useStoreUserEffect} about its Auth0 session. */
export interface StoreUserOptions {
  /**
   * The signed-in Auth0 user id (`user.sub` of `useAuth0()`, or of `useUser()` with
   * `@auth0/nextjs-auth0`). Optional: sign-out and sign-in are seen through Convex alone, but a
   * token refresh that brings another account while Convex stays signed in is seen only here.
   */
  auth0UserId?: string | null;
}

/** The settled outcome of one identity's store, tagged with the identity it belongs to. */
interface Outcome {
  identity: string;
  userId: Id<"users"> | null;
  error: Error | null;
}

/**
 * Stores the signed-in user in Convex (`auth0.store`) once per identity, and returns the row's id.
 *
 * The browser's backstop for a login the Post-Login Action could not report. It works under any
 * Convex auth provider (`ConvexProviderWithAuth0`, or `ConvexProviderWithAuth` with the app's own
 * `useAuth`, as Next.js apps on `@auth0/nextjs-auth0` have): it waits for `useConvexAuth()` to
 * report the user signed in, calls `auth0.store` once for that identity (re-renders, React
 * StrictMode and unrelated state changes do not call it again), calls it again after a sign-out and
 * sign-in or when `auth0UserId` changes, and resets to `userId: null` on sign-out. A result that
 * arrives for a previous identity is dropped. A failed store is reported in `error` and is not
 * retried in a loop; signing in again (or as someone else) retries. The server stores whoever the
 * token names: the hook sends nothing but the call.
 *
 * @example
 * ```tsx
 * function App() {
 *   const { user } = useAuth0(); // or useUser() from @auth0/nextjs-auth0
 *   const { isLoading, isAuthenticated, userId, error } = useStoreUserEffect({
 *     auth0UserId: user?.sub,
 *   });
 *   if (isLoading) return <Spinner />;
 *   if (error) return <p>Could not load your account: {error.message}</p>;
 *   if (!isAuthenticated) return <LoginButton />;
 *   return <Dashboard userId={userId!} />;
 * }
 * ```
 */
export function useStoreUserEffect(options: StoreUserOptions = {}): StoreUserState {
  const { isLoading: authLoading, isAuthenticated } = useConvexAuth();
  // What "this identity" means while signed in: the app's Auth0 user id when it gives one.
  const identity = isAuthenticated ? `user:${options.auth0UserId ?? ""}` : null;
  const store = useMutation(api.auth0.store);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  // The store started for an identity. Effects that re-run for the same identity (StrictMode,
  // unstable dependencies) share it instead of calling the mutation again, and a failure stays a
  // failure.
  const attempt = useRef<{ identity: string; userId: Promise<Id<"users">> } | null>(null);

  useEffect(() => {
    if (identity === null) {
      // Signed out: forget everything, so the next sign-in (even by the same user) stores again.
      attempt.current = null;
      setOutcome(null);
      return;
    }
    // Cleared when the identity changes: a completion from the previous one is then ignored.
    let current = true;
    if (attempt.current?.identity !== identity) {
      const pending = { identity, userId: store({}) };
      // Handled below or by the effect run that owns it; avoid an unhandled rejection.
      pending.userId.catch(() => undefined);
      attempt.current = pending;
    }
    attempt.current.userId.then(
      (userId) => {
        if (current) setOutcome({ identity, userId, error: null });
      },
      (err: unknown) => {
        if (current) setOutcome({ identity, userId: null, error: asError(err) });
      },
    );
    return () => {
      current = false;
    };
  }, [identity, store]);

  // Only an outcome for the identity shown now counts: until the effect has settled for a new
  // identity, the previous user's row must not be reported.
  const mine = identity !== null && outcome?.identity === identity ? outcome : null;
  return {
    isLoading: authLoading || (isAuthenticated && mine === null),
    isAuthenticated,
    userId: mine?.userId ?? null,
    error: mine?.error ?? null,
  };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
