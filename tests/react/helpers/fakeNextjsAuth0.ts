/**
 * A Next.js App Router app on `@auth0/nextjs-auth0` v4, as the README's "Next.js with
 * @auth0/nextjs-auth0" sets it up: the SDK's client hook `useUser()` (its v4 shape: `user`,
 * `isLoading`, `error`, `invalidate`), the app's token route `GET /api/convex-token` (the session's
 * ID token, `?refresh=1` for a fresh one) and the app's `useAuth` for `ConvexProviderWithAuth`,
 * written exactly as the README writes it. The session is the one fakeAuth0.ts drives, so the same
 * controls (`auth0.signIn`, `auth0.sessionBecame`, ...) act on both setups.
 */
import { useCallback, useMemo, useSyncExternalStore } from "react";
import { session } from "./fakeAuth0";

/** `useUser()` of `@auth0/nextjs-auth0` (the client entry): the session's profile. */
export function useUser() {
  const s = useSyncExternalStore(session.subscribe, session.get);
  const user = session.user(s);
  return { user: user ?? null, isLoading: s.isLoading, error: null, invalidate: async () => user };
}

/** Every request the token route answered, in order (`refresh` when Convex forced a refresh). */
export const tokenRequests: { refresh: boolean }[] = [];

/**
 * The app's route handler: `auth0.getSession()` and its `tokenSet.idToken`, 401 without a session.
 * Installed as `fetch` for the page (relative URLs resolve against the page, as in a browser).
 */
export async function tokenRouteFetch(input: string | URL | Request): Promise<Response> {
  const url = new URL(typeof input === "string" ? input : input.toString(), "http://localhost/");
  if (url.pathname !== "/api/convex-token") return new Response("not found", { status: 404 });
  tokenRequests.push({ refresh: url.searchParams.has("refresh") });
  const idToken = session.get().idToken;
  return idToken === null
    ? Response.json({ token: null }, { status: 401 })
    : Response.json({ token: idToken });
}

// ---- The app's code, as in the README -------------------------------------------------------

/** The app's `useAuth` for `ConvexProviderWithAuth`. */
export function useAuthFromNextjsAuth0() {
  const { user, isLoading } = useUser();
  const fetchAccessToken = useCallback(
    async ({ forceRefreshToken }: { forceRefreshToken: boolean }) => {
      const response = await fetch(`/api/convex-token${forceRefreshToken ? "?refresh=1" : ""}`);
      if (!response.ok) return null;
      const { token } = (await response.json()) as { token: string | null };
      return token;
    },
    [],
  );
  return useMemo(
    () => ({ isLoading, isAuthenticated: user != null, fetchAccessToken }),
    [isLoading, user, fetchAccessToken],
  );
}
