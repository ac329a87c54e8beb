import { useConvexAuth, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../server/api";

/** The organization of the current token, as `auth0.currentOrganization` returns it. */
export type CurrentOrganization = NonNullable<
  FunctionReturnType<typeof api.auth0.currentOrganization>
>;

/** What {@link useCurrentOrganization} reports. */
export interface CurrentOrganizationState {
  /** True while auth or the query is loading. */
  isLoading: boolean;
  /** The organization the user signed in through, with its names; null when the token names
   * none, when signed out, or while the membership is not in Convex yet. */
  organization: CurrentOrganization | null;
  /** The user's roles in that organization (empty when none). */
  roles: string[];
  /** Whether the user holds `role` in the current organization. */
  hasRole(role: string): boolean;
}

/**
 * The organization of the current Auth0 login and the user's roles in it, live from the Convex
 * cache (no Management API call). The server-side check is `requireOrgRole` from
 * `convex-auth0-users/server`; this hook is for what the UI shows.
 *
 * @example
 * ```tsx
 * function Billing() {
 *   const { isLoading, organization, hasRole } = useCurrentOrganization();
 *   if (isLoading) return <Spinner />;
 *   if (!organization) return <p>Sign in through your organization.</p>;
 *   return hasRole("billing") ? <Invoices org={organization.auth0OrgId} /> : <p>Ask an admin.</p>;
 * }
 * ```
 */
export function useCurrentOrganization(): CurrentOrganizationState {
  const { isLoading: authLoading, isAuthenticated } = useConvexAuth();
  const current = useQuery(api.auth0.currentOrganization, isAuthenticated ? {} : "skip");
  const organization = isAuthenticated ? (current ?? null) : null;
  const roles = organization?.roles ?? [];
  return {
    isLoading: authLoading || (isAuthenticated && current === undefined),
    organization,
    roles,
    hasRole: (role) => roles.includes(role),
  };
}
