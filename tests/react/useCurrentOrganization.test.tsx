import { act, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import { tokenIdentifier } from "../../server/tokenIdentifier";
import { useCurrentOrganization } from "../../react";
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

const alice: TestClaims = { iss: ISS, sub: "auth0|65f0a11ce", email: "alice@example.com" };
const aliceKey = tokenIdentifier(alice.iss, alice.sub);

installReactTestGuards();

let provider: Provider;

// Under ConvexProviderWithAuth0 and under a Next.js app's ConvexProviderWithAuth alike.
describe.each(PROVIDERS)("useCurrentOrganization under %s", (setup) => {
  beforeEach(() => {
    provider = setup;
    useAuth0Calls.count = 0;
  });
  afterEach(() => {
    if (setup === "nextjs-auth0") expect(useAuth0Calls.count).toBe(0);
  });

  test("the organization of the token and the user's roles, live from the cache", async () => {
    const { t, client, result } = renderWithConvex(() => useCurrentOrganization(), { provider });
    // What the Action's upsert does for a login through an organization.
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: aliceKey,
      login: true,
      organization: { id: "org_acme", name: "acme", displayName: "Acme Inc.", roles: ["admin"] },
    });
    act(() => auth0.signIn({ ...alice, org_id: "org_acme" }));
    await waitFor(() => expect(result.current.organization).not.toBeNull());
    expect(result.current.isLoading).toBe(false);
    expect(result.current.organization).toEqual({
      auth0OrgId: "org_acme",
      name: "acme",
      displayName: "Acme Inc.",
      roles: ["admin"],
    });
    expect(result.current.hasRole("admin")).toBe(true);
    expect(result.current.hasRole("billing")).toBe(false);

    // A role assigned in Auth0 reaches the UI without a new login (the cache updates).
    await t.mutation(internal.auth0.upsertFromAuth0, {
      tokenIdentifier: aliceKey,
      organization: { id: "org_acme", name: "acme", roles: ["admin", "billing"] },
    });
    await act(() => client.backendChanged());
    await waitFor(() => expect(result.current.hasRole("billing")).toBe(true));
  });

  test("no organization in the token, or signed out: null and no roles", async () => {
    const { result } = renderWithConvex(() => useCurrentOrganization(), { provider });
    act(() => auth0.signIn(alice));
    await act(() => settle());
    await waitFor(() => expect(result.current.isLoading).toBe(false));
    expect(result.current.organization).toBeNull();
    expect(result.current.roles).toEqual([]);
    act(() => auth0.signOut());
    await waitFor(() => expect(result.current.isLoading).toBe(false));
    expect(result.current.organization).toBeNull();
  });
});
