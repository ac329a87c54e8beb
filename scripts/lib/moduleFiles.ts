/**
 * The module's own files under `convex/` (paths relative to that folder). Tools that look at an
 * app's Convex code (the doctor's lookup check) skip them: they are the module, not the app.
 * Today the module lives in this repository's `convex/`; keep this list in step when a file is
 * added or removed there.
 */
export const MODULE_CONVEX_FILES: readonly string[] = [
  "adoption.ts",
  "auth.config.ts",
  "auth0Profile.ts",
  "crons.ts",
  "deploymentVariables.ts",
  "events.ts",
  "eventsRoute.ts",
  "http.ts",
  "httpCommon.ts",
  "limits.ts",
  "logSync.ts",
  "logSyncAuth0.ts",
  "logSyncEvents.ts",
  "logSyncRun.ts",
  "logSyncState.ts",
  "orgEvents.ts",
  "orgMetadata.ts",
  "orgSync.ts",
  "orgSyncRoutes.ts",
  "orgWrites.ts",
  "organizations.ts",
  "pingRoute.ts",
  "schema.ts",
  "signedRequest.ts",
  "siteUrl.ts",
  "sync.ts",
  "syncRoutes.ts",
  "tokenIdentifier.ts",
  "upsertUserRoute.ts",
  "userHooks.ts",
  "userRowState.ts",
  "userRules.ts",
  "users.ts",
];
