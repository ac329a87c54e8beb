/**
 * Organization metadata as it is stored: an array of `{ key, value }` sorted by key. Auth0
 * accepts keys Convex refuses as field names (non-ASCII such as `région`, a leading `$`, over
 * 1,024 characters), so a metadata object is never stored as a Convex object. Rows written
 * before this form hold a plain object; `auth0.migrateOrganizationMetadata` rewrites them and
 * every reader here accepts both. No Convex server imports: the reconcile scripts import it.
 */
import { v, type Infer } from "convex/values";

/** One metadata entry. */
export const metadataEntry = v.object({ key: v.string(), value: v.string() });
export type MetadataEntries = Infer<typeof metadataEntry>[];

/** The stored field: entries, or the object form of rows not yet migrated. */
export const storedMetadata = v.union(v.array(metadataEntry), v.record(v.string(), v.string()));
export type StoredMetadata = Infer<typeof storedMetadata>;

const byKey = (a: { key: string }, b: { key: string }) =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/** Auth0's metadata object as stored entries, sorted by key. */
export function metadataEntries(metadata: Record<string, string>): MetadataEntries {
  return Object.entries(metadata)
    .map(([key, value]) => ({ key, value }))
    .sort(byKey);
}

/**
 * Auth0's metadata as it arrives (parsed JSON: `__proto__`, `constructor` or `toString` are keys
 * like any other, own properties) as sorted entries of its string values; not an object: null.
 * Entries, never an object: a key is data, not a field name.
 */
export function auth0MetadataEntries(metadata: unknown): MetadataEntries | null {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return null;
  return Object.entries(metadata)
    .filter((entry): entry is [string, string] => typeof entry[1] === "string")
    .map(([key, value]) => ({ key, value }))
    .sort(byKey);
}

/** Entries sorted by key, or undefined when a key appears twice (not one Auth0 object). */
export function uniqueEntries(entries: MetadataEntries): MetadataEntries | undefined {
  const sorted = [...entries].sort(byKey);
  return sorted.some((e, i) => i > 0 && e.key === sorted[i - 1].key) ? undefined : sorted;
}

/** Stored metadata (either form) as sorted entries; absent or null gives null. */
export function normalizeMetadata(
  metadata: StoredMetadata | null | undefined,
): MetadataEntries | null {
  if (metadata === null || metadata === undefined) return null;
  if (Array.isArray(metadata)) return [...metadata].sort(byKey);
  return metadataEntries(metadata);
}

/** Stored metadata (either form) as Auth0's object (own properties only); null when absent. */
export function metadataObject(
  metadata: StoredMetadata | null | undefined,
): Record<string, string> | null {
  const entries = normalizeMetadata(metadata);
  if (entries === null) return null;
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const { key, value } of entries) out[key] = value;
  return out;
}

/** Whether two metadata values (stored entries, stored object, or Auth0's object) hold the same
 * entries; an empty metadata equals none. */
export function sameMetadata(
  a: StoredMetadata | null | undefined,
  b: StoredMetadata | null | undefined,
): boolean {
  const x = normalizeMetadata(a) ?? [];
  const y = normalizeMetadata(b) ?? [];
  return JSON.stringify(x) === JSON.stringify(y);
}
