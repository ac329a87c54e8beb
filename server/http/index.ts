/**
 * The plumbing every HTTP route of the module shares, and nothing that belongs to one route:
 * JSON errors, capped body reads, media-type and JSON checks, the `not_configured` answer, the
 * signed-request check (server/http/signedRequest.ts) and the route-secret rule
 * (server/http/routeSecrets.ts). Each route lives with its capability. signedRequest.ts,
 * siteUrl.ts and routeSecrets.ts are plain code that the Post-Login Action and the scripts import
 * directly too.
 */
export {
  configurationError,
  describeValidationError,
  hasMediaType,
  jsonError,
  logSafe,
  parseJsonOr400,
  readBodyOr413,
  readSignedJson,
  type SignedRouteOptions,
  undeclaredKeys,
  validateBody,
  weakSecretError,
} from "./common";
export { audienceFor, constantTimeEqual, UPSERT_USER_PATH } from "./signedRequest";
