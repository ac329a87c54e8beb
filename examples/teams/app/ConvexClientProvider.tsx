"use client";

import { useUser } from "@auth0/nextjs-auth0";
import { ConvexProviderWithAuth, ConvexReactClient } from "convex/react";
import { useCallback, useMemo, type ReactNode } from "react";

const convex = new ConvexReactClient(process.env.NEXT_PUBLIC_CONVEX_URL!);

/** Convex's `useAuth` from the nextjs-auth0 session: the ID token comes from our own route. */
function useAuthFromAuth0() {
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

export function ConvexClientProvider({ children }: { children: ReactNode }) {
  return (
    <ConvexProviderWithAuth client={convex} useAuth={useAuthFromAuth0}>
      {children}
    </ConvexProviderWithAuth>
  );
}
