/**
 * Maps an Auth0 user object (the shape of `event.user` in an Action and of `data.object` in an
 * Event Stream event) to the profile fields `auth0.upsertFromAuth0` takes.
 *
 * Such an object is the user's whole profile, so a fact it lacks is sent as `null` (clear it),
 * not left out (keep it). No Convex or Node imports: the Action bundle imports this file.
 *
 * Auth0's `app_metadata` / `user_metadata` travel as JSON text (`metadataJson`), whole or cut to
 * the paths the deployment maps (see server/users/metadata.ts): as text, any key Auth0 accepts
 * passes Convex's argument rules, and only the mapped values are ever checked and stored.
 */

/** The Auth0 user attributes this module reads. */
export interface Auth0UserLike {
  user_id: string;
  email?: string | null;
  email_verified?: boolean | null;
  name?: string | null;
  nickname?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  picture?: string | null;
  updated_at?: string | Date | null;
  app_metadata?: unknown;
  user_metadata?: unknown;
}

/** Profile facts as `auth0.upsertFromAuth0` takes them: absent keeps, `null` clears. */
export interface Auth0Profile {
  email?: string | null;
  emailVerified?: boolean | null;
  name?: string | null;
  nickname?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  avatarUrl?: string | null;
  auth0UpdatedAt?: number;
  /** `{ app_metadata?, user_metadata? }` as JSON: a source object present is carried (a key it
   * lacks is absent in Auth0), a source object left out is not (the stored values stay). */
  metadataJson?: string;
}

/** Where the app's mapped values come from: `app_metadata.<key>[.<key>...]` or the same under
 * `user_metadata`. Auth0 field names hold no `.` or `$`, so a dotted path is unambiguous. */
export const METADATA_SOURCES = ["app_metadata", "user_metadata"] as const;
export type MetadataSource = (typeof METADATA_SOURCES)[number];

/** Longest `metadataJson` stored paths accept: an event's whole body at most (server/events/events.ts). */
export const MAX_METADATA_JSON_LENGTH = 256 * 1024;

/** Splits `app_metadata.a.b` into its source and keys; undefined for any other shape. */
export function parseMetadataPath(
  path: string,
): { source: MetadataSource; keys: string[] } | undefined {
  const [source, ...keys] = path.split(".");
  if (!(METADATA_SOURCES as readonly string[]).includes(source) || keys.length === 0) {
    return undefined;
  }
  if (keys.some((k) => k === "" || k.includes("$"))) return undefined;
  return { source: source as MetadataSource, keys };
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** The value at `keys` inside `root`, own properties only; undefined where any step is missing. */
export function valueAtPath(root: unknown, keys: readonly string[]): unknown {
  let at: unknown = root;
  for (const key of keys) {
    if (!isPlainObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/**
 * The metadata of a whole Auth0 user object as `metadataJson`: both objects (`"all"`), or only
 * the values at `paths` (the rest is cut, so no more than the app maps travels or is held in
 * memory). A user object is the whole profile: a missing metadata object is an empty one.
 */
export function metadataJsonOf(user: Auth0UserLike, paths: "all" | readonly string[]): string {
  const objectOf = (source: MetadataSource) => {
    const value = user[source];
    return isPlainObject(value) ? value : {};
  };
  if (paths === "all") {
    return JSON.stringify({
      app_metadata: objectOf("app_metadata"),
      user_metadata: objectOf("user_metadata"),
    });
  }
  const picked: Partial<Record<MetadataSource, Record<string, unknown>>> = {};
  for (const path of paths) {
    const parsed = parseMetadataPath(path);
    if (!parsed) continue;
    const value = valueAtPath(objectOf(parsed.source), parsed.keys);
    let at = (picked[parsed.source] ??= {});
    if (value === undefined) continue;
    for (const key of parsed.keys.slice(0, -1)) {
      if (!isPlainObject(at[key])) at[key] = {};
      at = at[key] as Record<string, unknown>;
    }
    at[parsed.keys[parsed.keys.length - 1]] = value;
  }
  return JSON.stringify(picked);
}

const nonEmpty = (s: string | null | undefined): string | null =>
  typeof s === "string" && s !== "" ? s : null;

/** Parses Auth0's `updated_at` (ISO string or Date) to ms; undefined when missing or invalid. */
export function parseAuth0Time(value: string | Date | null | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Builds the full profile from an Auth0 user object; `name` falls back to `nickname`. With
 * `metadata`, the object is a whole user (an Action's, an event's, the Management API's) and its
 * metadata is carried, all of it or the mapped paths (see {@link metadataJsonOf}).
 */
export function profileFromAuth0User(
  user: Auth0UserLike,
  metadata?: "all" | readonly string[],
): Auth0Profile {
  const profile: Auth0Profile = {
    email: nonEmpty(user.email),
    emailVerified: typeof user.email_verified === "boolean" ? user.email_verified : null,
    name: nonEmpty(user.name) ?? nonEmpty(user.nickname),
    nickname: nonEmpty(user.nickname),
    givenName: nonEmpty(user.given_name),
    familyName: nonEmpty(user.family_name),
    avatarUrl: nonEmpty(user.picture),
  };
  const updatedAt = parseAuth0Time(user.updated_at);
  if (updatedAt !== undefined) profile.auth0UpdatedAt = updatedAt;
  if (metadata !== undefined) profile.metadataJson = metadataJsonOf(user, metadata);
  return profile;
}
