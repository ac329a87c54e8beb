/**
 * Maps an Auth0 user object (the shape of `event.user` in an Action and of `data.object` in an
 * Event Stream event) to the profile fields `auth0.upsertFromAuth0` takes.
 *
 * Such an object is the user's whole profile, so a fact it lacks is sent as `null` (clear it),
 * not left out (keep it). No Convex or Node imports: the Action bundle imports this file.
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
}

const nonEmpty = (s: string | null | undefined): string | null =>
  typeof s === "string" && s !== "" ? s : null;

/** Parses Auth0's `updated_at` (ISO string or Date) to ms; undefined when missing or invalid. */
export function parseAuth0Time(value: string | Date | null | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Builds the full profile from an Auth0 user object; `name` falls back to `nickname`. */
export function profileFromAuth0User(user: Auth0UserLike): Auth0Profile {
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
  return profile;
}
