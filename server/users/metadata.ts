/**
 * The app's fields copied from Auth0 metadata (`configureAuth0Users({ metadata })`,
 * server/users/hooks.ts): reading the mapped values out of a profile's `metadataJson`, checking each
 * with the app's validator, and comparing stored values. Pure: no Convex functions.
 */
import { convexToJson, v, type GenericValidator, type Infer } from "convex/values";
import { validate, ValidationError } from "convex-helpers/validators";
import { parseMetadataPath, valueAtPath } from "./auth0Profile";
import { logSafe, undeclaredKeys } from "../http";
import type { MetadataMapping } from "./hooks";

/** Longest JSON of one mapped value stored on a row: far above a plan, a role list or a locale,
 * and small enough that a row's size stays within what a batch plans to read. */
export const MAX_METADATA_VALUE_LENGTH = 8 * 1024;

/** A mapped value not stored, and why (never the value itself: metadata may be personal). */
export const metadataRefusal = v.object({
  field: v.string(),
  from: v.string(),
  reason: v.string(),
});
export type MetadataRefusal = Infer<typeof metadataRefusal>;

export interface MetadataReading {
  /** Per mapped field the profile carries, its checked value; `undefined` means Auth0 has none
   * (the field is removed, which only an optional validator accepts). */
  values: Map<string, unknown>;
  refused: MetadataRefusal[];
}

const kindOf = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

/** A validator in a few words: literals by value, unions by member, the rest by kind. */
function describeValidator(validator: GenericValidator): string {
  if (validator.kind === "literal") return JSON.stringify(validator.value);
  if (validator.kind === "union") return validator.members.map(describeValidator).join(" | ");
  return validator.kind;
}

/** Why `value` cannot be stored under `mapping`, or undefined when it can. */
function problemWith(mapping: MetadataMapping, value: unknown): string | undefined {
  const unknownKeys = undeclaredKeys(mapping.validator, value, "");
  if (unknownKeys.length > 0) {
    return `key ${logSafe(JSON.stringify(unknownKeys[0]), 80)} is not in the validator`;
  }
  try {
    validate(mapping.validator, value, { throw: true });
  } catch (err) {
    if (!(err instanceof ValidationError)) return "does not match the validator";
    // Inside the value, the validator's own words; at the top, the whole validator (a union's
    // error names only its last member).
    const expected = err.path
      ? `${logSafe(err.expected, 80)} at ${logSafe(err.path, 80)}`
      : logSafe(describeValidator(mapping.validator), 120);
    return `expected ${expected}, got ${kindOf(value)}`;
  }
  if (value === undefined) return undefined;
  try {
    convexToJson(value as Parameters<typeof convexToJson>[0]);
  } catch {
    return "not a value Convex can store";
  }
  if (JSON.stringify(value).length > MAX_METADATA_VALUE_LENGTH) {
    return `over ${MAX_METADATA_VALUE_LENGTH} characters as JSON`;
  }
  return undefined;
}

/**
 * The mapped values a profile carries. A source object (`app_metadata`, `user_metadata`) left out
 * of `metadataJson`, or no `metadataJson` at all (`auth0.store`: an ID token has no metadata),
 * carries nothing: those fields keep their values. A key absent from a carried object removes an
 * optional field and leaves a required one as it is. Refusals (a value present that its validator
 * refuses) are logged here, once per path call.
 */
export function readMappedMetadata(
  metadataJson: string | undefined,
  mappings: readonly MetadataMapping[],
  auth0UserId: string,
): MetadataReading {
  const reading: MetadataReading = { values: new Map(), refused: [] };
  if (mappings.length === 0 || metadataJson === undefined) return reading;
  let carried: unknown;
  try {
    carried = JSON.parse(metadataJson);
  } catch {
    carried = undefined;
  }
  for (const mapping of mappings) {
    if (carried === undefined) {
      reading.refused.push({ ...names(mapping), reason: "the metadata sent is not JSON" });
      continue;
    }
    const path = parseMetadataPath(mapping.from)!;
    const root =
      typeof carried === "object" && carried !== null
        ? (carried as Record<string, unknown>)[path.source]
        : undefined;
    if (root === undefined) continue;
    const value = valueAtPath(root, path.keys);
    // Absent in Auth0 while the app requires the field: nothing to copy, not a bad value. The
    // field keeps its value (at creation, the one onUserCreated returns).
    if (value === undefined && mapping.validator.isOptional !== "optional") continue;
    const reason = problemWith(mapping, value);
    if (reason) reading.refused.push({ ...names(mapping), reason });
    else reading.values.set(mapping.field, value);
  }
  for (const { field, from, reason } of reading.refused) {
    console.warn(
      `convex-auth0-users: users.${field} keeps its value: ${from} of Auth0 user ${logSafe(auth0UserId, 120)} is refused (${reason})`,
    );
  }
  return reading;
}

const names = ({ field, from }: MetadataMapping) => ({ field, from });

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonicalJson(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return JSON.stringify(value, (_key, x: unknown) =>
    typeof x === "object" && x !== null && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : x,
  );
}

/** Whether two stored values are the same (absent equals absent). */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
