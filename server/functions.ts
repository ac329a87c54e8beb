/**
 * Every Convex function of the module, flat, under the names an app serves them as. The app's
 * `convex/auth0.ts` re-exports this file (`export * from "convex-auth0-users/functions"`), so
 * each one is `api.auth0.<name>` / `internal.auth0.<name>` there and `auth0:<name>` on the
 * command line. server/api.ts refers to them by those paths.
 */
export { store, current, deleteFromAuth0 } from "./users/users";
export { linkMembershipsStep as linkMemberships } from "./users/memberships";
export { upsertFromAuth0 } from "./login/upsertFromAuth0";
export {
  mine as myOrganizations,
  current as currentOrganization,
} from "./organizations/organizations";
export { ingest as ingestEvent, prune as pruneEvents } from "./events/events";
export { health as eventsHealth, failures as eventFailures } from "./events/health";
export {
  run as logSyncRun,
  health as logSyncHealth,
  restart as logSyncRestart,
  reconciled as logSyncReconciled,
} from "./logSync/logSync";
export {
  begin as logSyncBegin,
  initialize as logSyncInitialize,
  advance as logSyncAdvance,
  stop as logSyncStop,
  finish as logSyncFinish,
  cachedToken as logSyncCachedToken,
  saveToken as logSyncSaveToken,
  applyUserOrganizations as logSyncApplyUserOrganizations,
} from "./logSync/state";
export { usersPage, applyBatch, userFieldRules } from "./reconcile/sync";
export {
  orgPage,
  applyOrgBatch,
  purgeOrganization,
  purgeMemberships,
  migrateOrganizationMetadata,
} from "./reconcile/orgSync";
export { adoptExistingRows } from "./users/adoption";
export { migrateLegacyTables, legacyTablesStatus } from "./legacy/migration";
