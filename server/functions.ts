/**
 * Every Convex function of the module, flat, under the names an app serves them as. The app's
 * `convex/auth0.ts` re-exports this file (`export * from "convex-auth0-users/functions"`), so
 * each one is `api.auth0.<name>` / `internal.auth0.<name>` there and `auth0:<name>` on the
 * command line. server/api.ts refers to them by those paths.
 */
export {
  store,
  current,
  deleteFromAuth0,
  linkMembershipsStep as linkMemberships,
  adoptExistingRows,
} from "./users";
export { upsertFromAuth0 } from "./login";
export {
  mine as myOrganizations,
  current as currentOrganization,
  purgeOrganization,
  purgeMemberships,
  migrateOrganizationMetadata,
} from "./organizations";
export {
  ingest as ingestEvent,
  prune as pruneEvents,
  health as eventsHealth,
  failures as eventFailures,
} from "./events";
export {
  run as logSyncRun,
  health as logSyncHealth,
  restart as logSyncRestart,
  reconciled as logSyncReconciled,
  begin as logSyncBegin,
  initialize as logSyncInitialize,
  advance as logSyncAdvance,
  stop as logSyncStop,
  finish as logSyncFinish,
  cachedToken as logSyncCachedToken,
  saveToken as logSyncSaveToken,
  applyUserOrganizations as logSyncApplyUserOrganizations,
} from "./logSync";
export { usersPage, applyBatch, userFieldRules, orgPage, applyOrgBatch } from "./reconcile";
export { migrateLegacyTables, legacyTablesStatus } from "./legacy";
