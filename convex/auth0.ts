/**
 * convex-auth0-users: the module's Convex functions, served from this file as `api.auth0.*`.
 * Written by `npx convex-auth0-users init`; yours to edit.
 */
import { configureAuth0Users } from "../server/index";
import type { DataModel } from "./_generated/dataModel";

export * from "../server/functions";

configureAuth0Users<DataModel>({
  // Runs inside the mutation that removes (or, with AUTH0_USER_DELETION=anonymize, keeps and
  // clears) a user deleted in Auth0, before the row changes: delete or reassign what references it.
  onUserDeleted: async (_ctx, _user, _related) => {},
});
