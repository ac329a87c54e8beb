import { act, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { useCurrentUser, useStoreUserEffect, type CurrentUserState } from "../../react";
import { auth0, useAuth0Calls, type TestClaims } from "./helpers/fakeAuth0";
import {
  installReactTestGuards,
  ISS,
  PROVIDERS,
  renderWithConvex,
  settle,
  type Provider,
} from "./helpers/harness";

vi.mock("@auth0/auth0-react", () => import("./helpers/fakeAuth0"));

const alice: TestClaims = {
  iss: ISS,
  sub: "auth0|65f0a11ce",
  name: "Alice Liddell",
  email: "alice@example.com",
};
const aliceKey = tokenIdentifier(alice.iss, alice.sub);

/** Signed in without a row is loading, never "ready with no user". */
function expectLoadingUntilRow(states: CurrentUserState[]) {
  for (const s of states) {
    if (s.isAuthenticated && s.user === null) expect(s.isLoading).toBe(true);
    if (!s.isAuthenticated) expect(s.user).toBeNull();
  }
}

installReactTestGuards();

let provider: Provider;

// Under ConvexProviderWithAuth0 and under a Next.js app's ConvexProviderWithAuth alike.
describe.each(PROVIDERS)("useCurrentUser under %s", (setup) => {
  beforeEach(() => {
    provider = setup;
    useAuth0Calls.count = 0;
  });
  afterEach(() => {
    if (setup === "nextjs-auth0") expect(useAuth0Calls.count).toBe(0);
  });

  test("loading while auth is unresolved, then signed out with no user", async () => {
    const { result, states } = renderWithConvex(() => useCurrentUser(), { provider });
    await act(() => settle());
    expect(result.current).toEqual({ isLoading: true, isAuthenticated: false, user: null });

    act(() => auth0.signedOut());
    await waitFor(() => expect(result.current.isLoading).toBe(false));
    expect(result.current).toEqual({ isLoading: false, isAuthenticated: false, user: null });
    expectLoadingUntilRow(states);
  });

  test("signed in but not stored yet is loading; the row shows up once stored", async () => {
    const { client, result, states } = renderWithConvex(() => useCurrentUser(), { provider });
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.isAuthenticated).toBe(true));
    await act(() => settle());
    // The query ran and found no row: still loading, not "no user".
    expect(result.current).toEqual({ isLoading: true, isAuthenticated: true, user: null });

    // What useStoreUserEffect (or the Post-Login Action) does; the subscription updates by itself.
    await act(() => client.mutation(api.auth0.store, {}));
    await waitFor(() => expect(result.current.user).not.toBeNull());
    expect(result.current.isLoading).toBe(false);
    expect(result.current.user).toMatchObject({
      tokenIdentifier: aliceKey,
      auth0UserId: alice.sub,
      email: alice.email,
      name: alice.name,
    });
    expectLoadingUntilRow(states);
  });

  test("a row the Post-Login Action already wrote is returned at once", async () => {
    const { t, client, result } = renderWithConvex(() => useCurrentUser(), { provider });
    const { userId } = await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: aliceKey,
      email: "alice@action.example",
      login: true,
    });
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.user).not.toBeNull());
    expect(result.current).toMatchObject({ isLoading: false, isAuthenticated: true });
    expect(result.current.user!._id).toBe(userId);
    expect(result.current.user!.email).toBe("alice@action.example");
    expect(client.sent).toEqual([]);
  });

  test("with useStoreUserEffect: the user is the stored row; sign-out clears it", async () => {
    const { result, states } = renderWithConvex(
      () => ({
        stored: useStoreUserEffect(),
        current: useCurrentUser(),
      }),
      { provider },
    );
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.current.user).not.toBeNull());
    await waitFor(() => expect(result.current.stored.userId).not.toBeNull());
    expect(result.current.current.user!._id).toBe(result.current.stored.userId);
    expect(result.current.current.user!.tokenIdentifier).toBe(aliceKey);

    act(() => auth0.signOut());
    await waitFor(() => expect(result.current.current.isAuthenticated).toBe(false));
    expect(result.current.current).toEqual({
      isLoading: false,
      isAuthenticated: false,
      user: null,
    });
    expectLoadingUntilRow(states.map((s) => s.current));
  });
});
