/**
 * The module's HTTP routes, added to the app's router in `convex/http.ts`:
 * `registerRoutes(http)`. Every handler lives in its own file and shares server/http/common.ts.
 */
import type { HttpRouter } from "convex/server";
import { UPSERT_USER_PATH } from "./http";
import { EVENTS_PATH, auth0EventsRoute } from "./events";
import { upsertUserRoute, PING_PATH, pingRoute } from "./login";
import {
  SYNC_APPLY_PATH,
  SYNC_STATUS_PATH,
  SYNC_USERS_PATH,
  syncApplyRoute,
  syncStatusRoute,
  syncUsersRoute,
  SYNC_ORGS_APPLY_PATH,
  SYNC_ORGS_PAGE_PATH,
  syncOrgsApplyRoute,
  syncOrgsPageRoute,
} from "./reconcile";

/** Adds the module's routes (all `POST`, all signed; see the README's "HTTP routes") to `http`. */
export function registerRoutes(http: HttpRouter): void {
  http.route({ path: UPSERT_USER_PATH, method: "POST", handler: upsertUserRoute });
  http.route({ path: PING_PATH, method: "POST", handler: pingRoute });
  http.route({ path: EVENTS_PATH, method: "POST", handler: auth0EventsRoute });
  http.route({ path: SYNC_STATUS_PATH, method: "POST", handler: syncStatusRoute });
  http.route({ path: SYNC_USERS_PATH, method: "POST", handler: syncUsersRoute });
  http.route({ path: SYNC_APPLY_PATH, method: "POST", handler: syncApplyRoute });
  http.route({ path: SYNC_ORGS_PAGE_PATH, method: "POST", handler: syncOrgsPageRoute });
  http.route({ path: SYNC_ORGS_APPLY_PATH, method: "POST", handler: syncOrgsApplyRoute });
}
