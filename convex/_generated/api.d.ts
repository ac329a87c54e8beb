/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as adoption from "../adoption.js";
import type * as auth0Profile from "../auth0Profile.js";
import type * as crons from "../crons.js";
import type * as deploymentVariables from "../deploymentVariables.js";
import type * as events from "../events.js";
import type * as eventsRoute from "../eventsRoute.js";
import type * as http from "../http.js";
import type * as httpCommon from "../httpCommon.js";
import type * as limits from "../limits.js";
import type * as logSync from "../logSync.js";
import type * as logSyncAuth0 from "../logSyncAuth0.js";
import type * as logSyncEvents from "../logSyncEvents.js";
import type * as logSyncRun from "../logSyncRun.js";
import type * as logSyncState from "../logSyncState.js";
import type * as orgEvents from "../orgEvents.js";
import type * as orgMetadata from "../orgMetadata.js";
import type * as orgSync from "../orgSync.js";
import type * as orgSyncRoutes from "../orgSyncRoutes.js";
import type * as orgWrites from "../orgWrites.js";
import type * as organizations from "../organizations.js";
import type * as pingRoute from "../pingRoute.js";
import type * as signedRequest from "../signedRequest.js";
import type * as siteUrl from "../siteUrl.js";
import type * as sync from "../sync.js";
import type * as syncRoutes from "../syncRoutes.js";
import type * as tokenIdentifier from "../tokenIdentifier.js";
import type * as upsertUserRoute from "../upsertUserRoute.js";
import type * as userHooks from "../userHooks.js";
import type * as userRowState from "../userRowState.js";
import type * as userRules from "../userRules.js";
import type * as users from "../users.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  adoption: typeof adoption;
  auth0Profile: typeof auth0Profile;
  crons: typeof crons;
  deploymentVariables: typeof deploymentVariables;
  events: typeof events;
  eventsRoute: typeof eventsRoute;
  http: typeof http;
  httpCommon: typeof httpCommon;
  limits: typeof limits;
  logSync: typeof logSync;
  logSyncAuth0: typeof logSyncAuth0;
  logSyncEvents: typeof logSyncEvents;
  logSyncRun: typeof logSyncRun;
  logSyncState: typeof logSyncState;
  orgEvents: typeof orgEvents;
  orgMetadata: typeof orgMetadata;
  orgSync: typeof orgSync;
  orgSyncRoutes: typeof orgSyncRoutes;
  orgWrites: typeof orgWrites;
  organizations: typeof organizations;
  pingRoute: typeof pingRoute;
  signedRequest: typeof signedRequest;
  siteUrl: typeof siteUrl;
  sync: typeof sync;
  syncRoutes: typeof syncRoutes;
  tokenIdentifier: typeof tokenIdentifier;
  upsertUserRoute: typeof upsertUserRoute;
  userHooks: typeof userHooks;
  userRowState: typeof userRowState;
  userRules: typeof userRules;
  users: typeof users;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
