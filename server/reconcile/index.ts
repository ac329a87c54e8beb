/**
 * The reconcile's side in Convex: pages of `users`, `auth0Organizations` and `auth0Memberships`,
 * and batches applied through the users' and organizations' writes (sync.ts, orgSync.ts), reached
 * over the routes signed with AUTH0_SYNC_SECRET (syncRoutes.ts, orgSyncRoutes.ts). The log sync
 * applies its users through the same batch.
 */
export { applyOrgBatch, orgPage } from "./orgSync";
export {
  SYNC_ORGS_APPLY_PATH,
  SYNC_ORGS_PAGE_PATH,
  syncOrgsApplyRoute,
  syncOrgsPageRoute,
} from "./orgSyncRoutes";
export { applyBatch, userFieldRules, usersPage } from "./sync";
export {
  SYNC_APPLY_PATH,
  SYNC_STATUS_PATH,
  SYNC_USERS_PATH,
  syncApplyRoute,
  syncStatusRoute,
  syncUsersRoute,
} from "./syncRoutes";
