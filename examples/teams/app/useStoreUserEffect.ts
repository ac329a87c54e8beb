"use client";

import { useUser } from "@auth0/nextjs-auth0";
import { useConvexAuth, useMutation } from "convex/react";
import { useEffect, useState } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";

/**
 * Stores the signed-in user in Convex once Convex has accepted the session's token (the Convex
 * docs' useStoreUserEffect); `isAuthenticated` turns true once the row exists.
 */
export function useStoreUserEffect() {
  const { isLoading, isAuthenticated } = useConvexAuth();
  const { user } = useUser();
  const [userId, setUserId] = useState<Id<"users"> | null>(null);
  const storeUser = useMutation(api.users.store);
  useEffect(() => {
    if (!isAuthenticated) return;
    void storeUser().then(setUserId);
    return () => setUserId(null);
    // Runs again when someone else signs in.
  }, [isAuthenticated, storeUser, user?.sub]);
  return {
    isLoading: isLoading || (isAuthenticated && userId === null),
    isAuthenticated: isAuthenticated && userId !== null,
  };
}
