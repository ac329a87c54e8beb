import { useAuth0 } from "@auth0/auth0-react";
import { useConvexAuth, useMutation } from "convex/react";
import { useEffect, useState } from "react";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";

/**
 * Stores the signed-in user once Convex accepts the Auth0 token, as the Convex docs'
 * useStoreUserEffect does; `isAuthenticated` turns true once the row exists.
 */
export function useStoreUserEffect() {
  const { isLoading, isAuthenticated } = useConvexAuth();
  const { user } = useAuth0();
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
