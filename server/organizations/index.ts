/**
 * Auth0 Organizations in Convex: the one place `auth0Organizations` and `auth0Memberships` rows
 * are written (server/organizations/writes.ts), the app's helpers and queries
 * (organizations.ts), and an organization as read from Auth0 (validators.ts). Builds on the
 * users' door (their rules and tombstones); the users never import it.
 */
export {
  current,
  getCurrentOrganization,
  getMemberships,
  mine,
  requireOrgRole,
} from "./organizations";
export { migrateOrganizationMetadata, purgeMemberships, purgeOrganization } from "./maintenance";
export { organizationReadFields, storedEntries } from "./validators";
export {
  deleteOrganization,
  type OrgWriteOutcome,
  removeMembership,
  setMembership,
  upsertOrganization,
} from "./writes";
