import { useAuth0 } from "@auth0/auth0-react";
import { useConvexAuth, useMutation } from "convex/react";
import { useEffect, useRef, useState } from "react";
import { api } from "../server/api";
import type { Id } from "../server/builders";
import { tokenIdentifier } from "../server/tokenIdentifier";

/** What {@link useStoreUserEffect} reports about the signed-in user's `users` row. */
export interface StoreUserState {
  /** True while auth is loading, or while signed in and the row is not stored yet. */
  isLoading: boolean;
  /** Convex has accepted the Auth0 ID token (`useConvexAuth().isAuthenticated`). */
  isAuthenticated: boolean;
  /** The signed-in user's row, once `auth0.store` returned it; null otherwise. */
  userId: Id<"users"> | null;
  /** The identity key the row was stored under (`${iss}|${sub}`, as Convex computes it). */
  tokenIdentifier: string | null;
  /** Why storing failed for the current identity; it is not retried until the identity changes. */
  error: Error | null;
}

/** The settled outcome of one identity's store, tagged with the Auth0 subject it belongs to. */
interface Outcome {
  subject: string | null;
  key: string | null;
  userId: Id<"users"> | null;
  error: Error | null;
}

/**
 * Stores the signed-in user in Convex (`auth0.store`) once per identity, and returns the row's id.
 *
 * The browser's backstop for a login the Post-Login Action could not report. It waits for Convex to
 * accept the Auth0 token, calls `auth0.store` once for that identity (re-renders, React StrictMode
 * and unrelated state changes do not call it again), calls it again when another user signs in,
 * and resets to `userId: null` on sign-out. A result that arrives for a previous identity is
 * dropped. A failed store is reported in `error` and is not retried in a loop; signing in again
 * (or as someone else) retries.
 *
 * Must be rendered under `Auth0Provider` and `ConvexProviderWithAuth0`.
 *
 * @example
 * ```tsx
 * function App() {
 *   const { isLoading, isAuthenticated, userId, error } = useStoreUserEffect();
 *   if (isLoading) return <Spinner />;
 *   if (error) return <p>Could not load your account: {error.message}</p>;
 *   if (!isAuthenticated) return <LoginButton />;
 *   return <Dashboard userId={userId!} />;
 * }
 * ```
 */
export function useStoreUserEffect(): StoreUserState {
  const { isLoading: authLoading, isAuthenticated } = useConvexAuth();
  const { user, getIdTokenClaims } = useAuth0();
  // `user.sub` is available synchronously and changes as soon as Auth0 switches users, so it is the
  // trigger; the key itself needs `iss`, which Auth0 strips from `user`.
  const subject = isAuthenticated ? (user?.sub ?? null) : null;
  const store = useMutation(api.auth0.store);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  // The store started for a key. Effects that re-run for the same key (StrictMode, unstable
  // dependencies) share it instead of calling the mutation again, and a failure stays a failure.
  const attempt = useRef<{ key: string; userId: Promise<Id<"users">> } | null>(null);

  useEffect(() => {
    if (!isAuthenticated) {
      // Signed out: forget everything, so the next sign-in (even by the same user) stores again.
      attempt.current = null;
      setOutcome(null);
      return;
    }
    // Cleared when the identity changes: a completion from the previous one is then ignored.
    let current = true;
    void (async () => {
      let key: string | null = null;
      try {
        // The key comes from the ID token's own claims: ConvexProviderWithAuth0 authenticates Convex
        // with this same cached ID token, and Convex builds `tokenIdentifier` from its verbatim `iss`
        // and `sub`. Deriving `iss` from the app's Auth0 config instead would be wrong for a custom
        // domain, whose tokens carry the custom domain's `iss`.
        const claims = await getIdTokenClaims();
        if (!claims?.iss || !claims.sub) {
          throw new Error("Auth0 has no ID token with iss and sub for the signed-in user");
        }
        key = tokenIdentifier(claims.iss, claims.sub);
        if (attempt.current?.key !== key) {
          const pending = { key, userId: store({}) };
          // Handled below or by the effect run that owns it; avoid an unhandled rejection.
          pending.userId.catch(() => undefined);
          attempt.current = pending;
        }
        const userId = await attempt.current.userId;
        if (current) setOutcome({ subject, key, userId, error: null });
      } catch (err) {
        if (current) setOutcome({ subject, key, userId: null, error: asError(err) });
      }
    })();
    return () => {
      current = false;
    };
  }, [isAuthenticated, subject, getIdTokenClaims, store]);

  // Only an outcome for the identity shown now counts: until the effect has settled for a new
  // subject, the previous user's row must not be reported.
  const mine = isAuthenticated && outcome !== null && outcome.subject === subject ? outcome : null;
  return {
    isLoading: authLoading || (isAuthenticated && mine === null),
    isAuthenticated,
    userId: mine?.userId ?? null,
    tokenIdentifier: mine?.key ?? null,
    error: mine?.error ?? null,
  };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
