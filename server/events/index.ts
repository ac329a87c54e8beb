/**
 * Auth0 Event Streams: `POST /auth0/events` (server/events/route.ts), the parsing, deduplication
 * and ordering of user and organization events (events.ts, organizationEvents.ts), their pruning,
 * and the receiver's health. User events write through the users' door, organization events
 * through the organizations'.
 */
export { EVENTS_PATH, ingest, prune } from "./events";
export { failures, health } from "./health";
export { auth0EventsRoute } from "./route";
