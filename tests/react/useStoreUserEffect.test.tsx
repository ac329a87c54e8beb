/**
 * useStoreUserEffect under both React auth setups an app may have: `ConvexProviderWithAuth0`
 * (`@auth0/auth0-react`), and `ConvexProviderWithAuth` with a Next.js app's own `useAuth` on
 * `@auth0/nextjs-auth0` (its `useUser` and a token route). Every scenario runs under both; under
 * the second, `@auth0/auth0-react`'s hook is never called.
 */
import { act, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { useStoreUserEffect, type StoreUserState } from "../../react";
import { auth0, useAuth0Calls, type TestClaims } from "./helpers/fakeAuth0";
import { tokenRequests } from "./helpers/fakeNextjsAuth0";
import {
  installReactTestGuards,
  ISS,
  PROVIDERS,
  renderWithConvex,
  settle,
  useSessionSubject,
  type Provider,
} from "./helpers/harness";

vi.mock("@auth0/auth0-react", () => import("./helpers/fakeAuth0"));

const alice: TestClaims = {
  iss: ISS,
  // Social subjects contain "|": the key must keep it verbatim.
  sub: "google-oauth2|1234",
  name: "Alice Liddell",
  email: "alice@example.com",
  email_verified: true,
};
const bob: TestClaims = { iss: ISS, sub: "auth0|65f0b0b", email: "bob@example.com" };

const STORE = "auth0:store";

let provider: Provider;

/** The hook as an app renders it: with the signed-in Auth0 user id its SDK reports. */
function useStoreUser() {
  return useStoreUserEffect({ auth0UserId: useSessionSubject() });
}

function render(options: { strict?: boolean; signedInOnly?: boolean } = {}) {
  return renderWithConvex(() => useStoreUser(), { ...options, provider });
}

/** The row `auth0.store` wrote for these claims, looked up by the key Convex computed. */
async function rowFor(t: ReturnType<typeof render>["t"], claims: TestClaims) {
  const key = tokenIdentifier(claims.iss, claims.sub);
  return await t.run((ctx) =>
    ctx.db
      .query("users")
      .withIndex("by_token", (q) => q.eq("tokenIdentifier", key))
      .unique(),
  );
}

/** Signed in and not failed means loading until the row id is known. */
function expectNeverReadyWithoutRow(states: StoreUserState[]) {
  for (const s of states) {
    if (s.isAuthenticated && s.error === null && s.userId === null) expect(s.isLoading).toBe(true);
    if (!s.isAuthenticated) expect(s.userId).toBeNull();
  }
}

installReactTestGuards();

describe.each(PROVIDERS)("useStoreUserEffect under %s", (setup) => {
  beforeEach(() => {
    provider = setup;
    useAuth0Calls.count = 0;
  });
  afterEach(() => {
    // The Next.js setup has no @auth0/auth0-react: nothing of the package may need it.
    if (setup === "nextjs-auth0") expect(useAuth0Calls.count).toBe(0);
  });

  test("stores the signed-in user once and returns the real row's id", async () => {
    const { t, client, result, states, rerender } = render();
    expect(result.current).toMatchObject({ isLoading: true, isAuthenticated: false, userId: null });

    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.userId).not.toBeNull());

    const row = await rowFor(t, alice);
    expect(row).not.toBeNull();
    expect(result.current).toEqual({
      isLoading: false,
      isAuthenticated: true,
      userId: row!._id,
      error: null,
    });
    // The row is keyed as Convex computed it from the token (`${iss}|${sub}`).
    expect(row!.tokenIdentifier).toBe("https://tenant.us.auth0.com/|google-oauth2|1234");
    expect(row).toMatchObject({ auth0UserId: alice.sub, email: alice.email, name: alice.name });

    // Re-renders and time passing do not store again.
    for (let i = 0; i < 5; i++) rerender();
    await act(() => settle());
    expect(client.sent.map((m) => m.name)).toEqual([STORE]);
    expect(client.sent[0].tokenIdentifier).toBe(row!.tokenIdentifier);
    // The Next.js setup authenticated Convex through the app's token route.
    if (provider === "nextjs-auth0") expect(tokenRequests).toContainEqual({ refresh: false });
    expect(result.current.userId).toBe(row!._id);
    expectNeverReadyWithoutRow(states);
  });

  test("is loading, not signed out, while Auth0 and Convex are still checking", async () => {
    const { result, states, client } = render();
    await act(() => settle());
    expect(result.current).toMatchObject({ isLoading: true, isAuthenticated: false });

    act(() => auth0.signedOut());
    await waitFor(() => expect(result.current.isLoading).toBe(false));
    expect(result.current).toEqual({
      isLoading: false,
      isAuthenticated: false,
      userId: null,
      error: null,
    });
    expect(client.sent).toEqual([]);
    expectNeverReadyWithoutRow(states);
  });

  test("stores once under React StrictMode, also when mounted already signed in", async () => {
    for (const signedInOnly of [false, true]) {
      const { t, client, result, unmount } = render({ strict: true, signedInOnly });
      act(() => auth0.signIn(alice));
      await waitFor(() => expect(result.current?.userId).toBeTruthy());
      await act(() => settle());

      expect(client.sent.filter((m) => m.name === STORE)).toHaveLength(1);
      expect(result.current.userId).toBe((await rowFor(t, alice))!._id);
      unmount();
    }
  });

  test("another user signing in stores again and reports their own row", async () => {
    const { t, client, result, states } = render();
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.userId).not.toBeNull());
    const aliceId = result.current.userId;

    // A popup login as someone else: Auth0 reports loading, then the new user.
    act(() => auth0.loginStarted());
    await waitFor(() => expect(result.current.isLoading).toBe(true));
    expect(result.current.userId).toBeNull();
    act(() => auth0.signIn(bob));
    await waitFor(() => expect(result.current.userId).not.toBeNull());

    const bobRow = await rowFor(t, bob);
    expect(result.current.userId).toBe(bobRow!._id);
    expect(result.current.userId).not.toBe(aliceId);
    expect(client.sent.map((m) => m.tokenIdentifier)).toEqual([
      tokenIdentifier(alice.iss, alice.sub),
      tokenIdentifier(bob.iss, bob.sub),
    ]);
    expectNeverReadyWithoutRow(states);
  });

  test("a token refresh that brings another user stores that user, under their identity", async () => {
    // Records which Auth0 user each state was rendered for.
    const { t, client, result, states } = renderWithConvex(
      () => ({ ...useStoreUser(), auth0Sub: useSessionSubject() }),
      { provider },
    );
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.userId).not.toBeNull());

    // No loading phase here: Convex stays authenticated throughout, only the subject changes.
    auth0.sessionBecame(bob);
    await act(() => client.refreshToken());
    if (provider === "nextjs-auth0") expect(tokenRequests.at(-1)).toEqual({ refresh: true });
    act(() => auth0.notify());
    const bobRow = () => rowFor(t, bob);
    await waitFor(async () => expect(result.current.userId).toBe((await bobRow())?._id));

    expect(client.sent.map((m) => m.tokenIdentifier)).toEqual([
      tokenIdentifier(alice.iss, alice.sub),
      tokenIdentifier(bob.iss, bob.sub),
    ]);
    // Never Alice's row while Bob is the one signed in.
    const aliceId = (await rowFor(t, alice))!._id;
    for (const s of states) {
      if (s.userId !== null) expect(s.userId === aliceId).toBe(s.auth0Sub === alice.sub);
    }
    expectNeverReadyWithoutRow(states);
  });

  test("sign-out resets to signed out; signing in again stores again", async () => {
    const { client, result, states } = render();
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.userId).not.toBeNull());
    const aliceId = result.current.userId;

    act(() => auth0.signOut());
    await waitFor(() => expect(result.current.isAuthenticated).toBe(false));
    expect(result.current).toEqual({
      isLoading: false,
      isAuthenticated: false,
      userId: null,
      error: null,
    });

    // A new sign-in is a new login to record, and it finds the same row.
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.userId).not.toBeNull());
    expect(result.current.userId).toBe(aliceId);
    expect(client.sent.filter((m) => m.name === STORE)).toHaveLength(2);
    expectNeverReadyWithoutRow(states);
  });

  test("a slow result for the previous user is ignored after another signs in", async () => {
    const { t, client, result, states } = render();
    client.holdResults();

    act(() => auth0.signIn(alice));
    await waitFor(() => expect(client.sent).toHaveLength(1));
    act(() => auth0.loginStarted());
    act(() => auth0.signIn(bob));
    await waitFor(() => expect(client.sent).toHaveLength(2));
    expect(client.sent[0].tokenIdentifier).toBe(tokenIdentifier(alice.iss, alice.sub));
    expect(client.sent[1].tokenIdentifier).toBe(tokenIdentifier(bob.iss, bob.sub));

    const bobId = (await rowFor(t, bob))!._id;
    const aliceId = (await rowFor(t, alice))!._id;
    expect(result.current).toMatchObject({ isLoading: true, userId: null });

    act(() => client.sent[1].release());
    await waitFor(() => expect(result.current.userId).toBe(bobId));
    // Alice's store completes last: it must not overwrite Bob's id.
    act(() => client.sent[0].release());
    await act(() => settle());
    expect(result.current.userId).toBe(bobId);
    expect(states.some((s) => s.userId === aliceId)).toBe(false);
    expect(client.sent).toHaveLength(2);
  });

  test("a slow result is also ignored when the user signed out meanwhile", async () => {
    const { client, result } = render();
    client.holdResults();
    act(() => auth0.signIn(alice));
    await waitFor(() => expect(client.sent).toHaveLength(1));

    act(() => auth0.signOut());
    await waitFor(() => expect(result.current.isAuthenticated).toBe(false));
    act(() => client.sent[0].release());
    await act(() => settle());
    expect(result.current).toMatchObject({
      isLoading: false,
      isAuthenticated: false,
      userId: null,
    });
  });

  test("a failing store is reported once, not retried in a loop; a new identity retries", async () => {
    const { t, client, result, rerender } = render();
    client.failMutations(new Error("Connection lost while storing"));

    act(() => auth0.signIn(alice));
    await waitFor(() => expect(result.current.error).not.toBeNull());
    expect(result.current).toMatchObject({ isLoading: false, isAuthenticated: true, userId: null });
    expect(result.current.error!.message).toBe("Connection lost while storing");

    for (let i = 0; i < 5; i++) rerender();
    await act(() => settle(100));
    expect(client.sent).toHaveLength(1);
    expect(await rowFor(t, alice)).toBeNull();

    client.failMutations(null);
    act(() => auth0.loginStarted());
    act(() => auth0.signIn(bob));
    await waitFor(() => expect(result.current.userId).not.toBeNull());
    expect(result.current.error).toBeNull();
    expect(result.current.userId).toBe((await rowFor(t, bob))!._id);
    expect(client.sent).toHaveLength(2);
  });

  test("a token the server refuses is reported as the error, nothing stored, no retry", async () => {
    const { t, client, result } = render();
    // Convex accepted the token, but its `iss` carries a path no Auth0 tenant issues: auth0.store
    // refuses it, and the hook reports that instead of a row.
    const odd = { ...alice, iss: "https://tenant.us.auth0.com/oops/" };
    act(() => auth0.signIn(odd));
    await waitFor(() => expect(result.current.error).not.toBeNull());
    expect(result.current.error!.message).toMatch(/invalid_token_identifier|issuer/);
    expect(result.current).toMatchObject({ isLoading: false, userId: null });
    await act(() => settle());
    expect(client.sent.map((m) => m.name)).toEqual([STORE]);
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual([]);
  });

  test("stores under the token's own issuer, e.g. a custom domain's", async () => {
    process.env.AUTH0_CUSTOM_DOMAIN = "login.example.com";
    try {
      const { t, result } = render();
      const viaCustomDomain = { ...alice, iss: "https://login.example.com/" };
      act(() => auth0.signIn(viaCustomDomain));
      await waitFor(() => expect(result.current.userId).not.toBeNull());
      const row = await rowFor(t, viaCustomDomain);
      expect(row!.tokenIdentifier).toBe("https://login.example.com/|google-oauth2|1234");
      expect(row!._id).toBe(result.current.userId);
    } finally {
      delete process.env.AUTH0_CUSTOM_DOMAIN;
    }
  });
});
