/**
 * `auth0.upsertFromAuth0`: what a login writes, in one transaction: the user's row through the
 * one upsert (server/users/), and, for a login through an Auth0 Organization, that organization
 * and the membership with exactly the login's roles (server/organizations/). The Action's route
 * (server/login/upsertUserRoute.ts) calls it; it lives here, above both capabilities, so that
 * the users never import the organizations.
 */
import { v } from "convex/values";
import { internalMutation } from "../builders";
import { parseTokenIdentifier } from "../tokenIdentifier";
import { metadataRefusal, upsertArgs, upsertUser } from "../users";
import { setMembership, upsertOrganization } from "../organizations";

/**
 * Creates or updates a user from Auth0 facts. Internal: called by the `/auth0/upsert-user` route
 * (for the Post-Login Action) and by other server-side paths. Returns the row's `_id`, whether
 * this call created it (the route reports `created` from the same transaction), and the app's
 * metadata fields whose value was refused (the Action logs them).
 */
export const upsertFromAuth0 = internalMutation({
  args: {
    ...upsertArgs,
    /** When the login's facts were read (ms): the signed request's `iat`. The organization and
     * roles are dated with it, so an event from after the login wins over a slow request. */
    loginAt: v.optional(v.number()),
  },
  returns: v.object({
    userId: v.id("users"),
    created: v.boolean(),
    /** Present when some of the app's metadata fields were refused. */
    refusedMetadata: v.optional(v.array(metadataRefusal)),
  }),
  handler: async (ctx, { organization, loginAt, ...args }) => {
    const { userId, created, refusedMetadata } = await upsertUser(ctx, args);
    if (organization) {
      // A login through an organization shows it, and the membership with exactly these roles,
      // as of now: both become current in the same transaction as the user.
      const at = Math.min(loginAt ?? Date.now(), Date.now());
      const auth0UserId = parseTokenIdentifier(args.tokenIdentifier).subject;
      await upsertOrganization(
        ctx,
        {
          auth0OrgId: organization.id,
          name: organization.name,
          displayName: organization.displayName || null,
        },
        at,
      );
      await setMembership(ctx, { auth0OrgId: organization.id, auth0UserId }, at, {
        kind: "roles",
        roles: organization.roles,
      });
    }
    return { userId, created, ...(refusedMetadata.length > 0 ? { refusedMetadata } : {}) };
  },
});
