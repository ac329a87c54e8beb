/**
 * A stand-in for `@auth0/auth0-react` (installed with `vi.mock`) whose sign-in state the test drives.
 *
 * It keeps what the hooks rely on from the real SDK: `getAccessTokenSilently({ detailedResponse })`
 * returns the cached ID token that `ConvexProviderWithAuth0` hands to Convex, `getIdTokenClaims()`
 * decodes that same token, `user` is its claims without the protocol ones (`iss`, `aud`, ... like
 * auth0-spa-js), the functions keep their identity across renders, and a popup login passes through
 * `isLoading: true` before the new user appears.
 */
import { UnsecuredJWT, decodeJwt } from "jose";
import { useSyncExternalStore } from "react";

/** ID token claims of a test user. */
export interface TestClaims {
  iss: string;
  sub: string;
  aud?: string;
  name?: string;
  nickname?: string;
  email?: string;
  email_verified?: boolean;
  picture?: string;
  updated_at?: string;
  /** Auth0's organization claim, present for a login through an organization. */
  org_id?: string;
}

export interface State {
  isLoading: boolean;
  idToken: string | null;
}

// Claims auth0-spa-js removes from `user` (it keeps them in getIdTokenClaims()).
const PROTOCOL_CLAIMS = new Set(["iss", "aud", "exp", "nbf", "iat", "jti", "azp", "nonce"]);

let state: State = { isLoading: true, idToken: null };
const listeners = new Set<() => void>();

function set(next: State) {
  state = next;
  for (const l of listeners) l();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Unsigned JWT: the test backend reads it as Convex would after verifying the signature. */
function encode(claims: TestClaims): string {
  const now = Math.floor(Date.now() / 1000);
  return new UnsecuredJWT({ aud: "test-client-id", ...claims, iat: now, exp: now + 3600 }).encode();
}

// Stable like the SDK's (useCallback over the client).
async function getIdTokenClaims() {
  const token = state.idToken;
  return token === null ? undefined : { ...decodeJwt(token), __raw: token };
}

async function getAccessTokenSilently(options?: { detailedResponse?: boolean }) {
  if (state.idToken === null) throw new Error("login_required");
  return options?.detailedResponse
    ? { id_token: state.idToken, access_token: "opaque", expires_in: 3600 }
    : "opaque";
}

/** `useAuth0().user`: the ID token's profile claims. */
export interface FakeUser {
  sub?: string;
  [claim: string]: unknown;
}

let cachedUser: { token: string | null; user: FakeUser | undefined } = {
  token: null,
  user: undefined,
};
function userOf(token: string | null): FakeUser | undefined {
  if (cachedUser.token !== token) {
    const user =
      token === null
        ? undefined
        : Object.fromEntries(
            Object.entries(decodeJwt(token)).filter(([k]) => !PROTOCOL_CLAIMS.has(k)),
          );
    cachedUser = { token, user };
  }
  return cachedUser.user;
}

/**
 * The Auth0 session as a server-side SDK holds it (`@auth0/nextjs-auth0`'s session cookie): the
 * same state the controls below drive, for the Next.js stand-in (fakeNextjsAuth0.ts).
 */
export const session = {
  subscribe,
  get: (): State => state,
  /** The profile claims of the session's ID token (`session.user`), cached per token. */
  user: (s: State) => userOf(s.idToken),
};

/** How many times the mocked hook ran: the hooks under a setup without it must never call it. */
export const useAuth0Calls = { count: 0 };

/** The mocked hook. */
export function useAuth0() {
  useAuth0Calls.count++;
  const s = useSyncExternalStore(subscribe, () => state);
  return {
    isLoading: s.isLoading,
    // Like the SDK, a login in progress keeps the previous user until it completes.
    isAuthenticated: s.idToken !== null,
    user: userOf(s.idToken),
    error: undefined,
    getIdTokenClaims,
    getAccessTokenSilently,
  };
}

/** Test controls. */
export const auth0 = {
  /** Back to the SDK's initial state: loading, nobody signed in. */
  reset() {
    cachedUser = { token: null, user: undefined };
    set({ isLoading: true, idToken: null });
  },
  /** The SDK finished checking the session and found none. */
  signedOut() {
    set({ isLoading: false, idToken: null });
  },
  /** A login (redirect callback or popup) started: the SDK reports loading. */
  loginStarted() {
    set({ ...state, isLoading: true });
  },
  /** The login completed with this user's ID token. */
  signIn(claims: TestClaims) {
    set({ isLoading: false, idToken: encode(claims) });
  },
  /**
   * A silent token refresh came back for another user (their session cookie won, e.g. after a
   * login in another tab). The SDK writes the new tokens to its cache before it re-renders with the
   * new `user`, so this only changes the cache; call {@link auth0.notify} for the re-render.
   */
  sessionBecame(claims: TestClaims) {
    state = { isLoading: false, idToken: encode(claims) };
  },
  /** The SDK's re-render after a token request (`GET_ACCESS_TOKEN_COMPLETE`). */
  notify() {
    set({ ...state });
  },
  /** `logout()` cleared the cache. */
  signOut() {
    set({ isLoading: false, idToken: null });
  },
};
