/**
 * An organization as the module reads it from Auth0's Management API, in one validator for the two
 * paths that do: the reconcile's batch (server/reconcile/orgSync.ts) and the log sync's list of a
 * user's organizations (server/logSync/state.ts). Metadata travels as sorted `{ key, value }`
 * entries (server/orgMetadata.ts), since Auth0 keys such as `région` or `$tier` cannot be field
 * names of a Convex object.
 */
import { v, type GenericValidator } from "convex/values";
import { metadataEntry } from "../orgMetadata";

/** An organization as read from Auth0, with its metadata in the form `metadata` validates. */
export const organizationReadFields = <M extends GenericValidator>(metadata: M) => ({
  auth0OrgId: v.string(),
  name: v.string(),
  displayName: v.union(v.string(), v.null()),
  metadata,
});

/** Metadata as `{ key, value }` entries, or none. */
export const storedEntries = v.union(v.array(metadataEntry), v.null());
