/**
 * What a user profile is on its way into `users`: the arguments every path sends (the Action's
 * route body, the mutations, events and the reconcile share them), their length limits, and the
 * profile read from a signed-in Convex identity.
 */
import { v, type Infer } from "convex/values";
import type { UserIdentity } from "convex/server";
import { tokenIdentifier as buildTokenIdentifier } from "../tokenIdentifier";
import { MAX_METADATA_JSON_LENGTH, parseAuth0Time } from "./auth0Profile";
import { isFromTheFuture } from "./rules";
import {
  checkLength,
  MAX_TEXT_LENGTH,
  MAX_TOKEN_IDENTIFIER_LENGTH,
  MAX_URL_LENGTH,
} from "../limits";

const nullable = <T extends ReturnType<typeof v.string> | ReturnType<typeof v.boolean>>(x: T) =>
  v.optional(v.union(x, v.null()));

/**
 * Profile facts Auth0 owns. Absent leaves the stored value alone; `null` clears it. Shared by the
 * mutation's args and the HTTP route's body check, so both accept exactly the same thing.
 */
export const auth0ProfileFields = {
  email: nullable(v.string()),
  emailVerified: nullable(v.boolean()),
  name: nullable(v.string()),
  nickname: nullable(v.string()),
  givenName: nullable(v.string()),
  familyName: nullable(v.string()),
  avatarUrl: nullable(v.string()),
  /** Auth0's `updated_at` in ms: the ordering key that keeps updates monotonic. */
  auth0UpdatedAt: v.optional(v.number()),
  /** The user's `app_metadata` / `user_metadata` as JSON text (server/users/auth0Profile.ts
   * `metadataJsonOf`), for the app's mapped fields; absent: not carried, mapped fields stay. */
  metadataJson: v.optional(v.string()),
};

/** The organization a login went through, as the Action reports it (`event.organization` and
 * `event.authorization.roles`, which hold only that organization's member roles). */
export const loginOrganization = v.object({
  id: v.string(),
  name: v.string(),
  displayName: v.optional(v.string()),
  roles: v.array(v.string()),
});

/** Body of `POST /auth0/upsert-user`: an identifier, the profile facts and, for a login through
 * an organization, the organization and the member's roles in it. */
export const upsertBodyFields = {
  tokenIdentifier: v.string(),
  ...auth0ProfileFields,
  organization: v.optional(loginOrganization),
};

export const upsertArgs = {
  ...upsertBodyFields,
  /** True when the call comes from a sign-in: `lastActiveAt` is touched. */
  login: v.optional(v.boolean()),
};
export type UpsertArgs = Infer<ReturnType<typeof v.object<typeof upsertArgs>>>;

/** The profile facts the module writes on a row: Auth0's, unless the app owns some
 * (`configureAuth0Users({ appOwnedFields })`, server/users/hooks.ts). */
export const PROFILE_KEYS = [
  "email",
  "emailVerified",
  "name",
  "nickname",
  "givenName",
  "familyName",
  "avatarUrl",
] as const;
export type ProfileKey = (typeof PROFILE_KEYS)[number];

/** Logins closer together than this do not rewrite `lastActiveAt` (the Action and the hook both
 * report each sign-in; one write is enough). */
export const LAST_ACTIVE_RESOLUTION_MS = 60_000;

/**
 * Refuses (ConvexError `value_too_long`, see server/limits.ts) an identifier or a profile fact
 * longer than this module stores, whatever path it came from.
 */
export function checkProfileLengths(args: UpsertArgs): void {
  checkLength("tokenIdentifier", args.tokenIdentifier, MAX_TOKEN_IDENTIFIER_LENGTH);
  for (const key of ["email", "name", "nickname", "givenName", "familyName"] as const) {
    checkLength(key, args[key], MAX_TEXT_LENGTH);
  }
  checkLength("avatarUrl", args.avatarUrl, MAX_URL_LENGTH);
  checkLength("metadataJson", args.metadataJson, MAX_METADATA_JSON_LENGTH);
}

/**
 * The key of a Convex identity, built by the shared builder so `store` and `current` agree even
 * for a token whose `iss` lacks Auth0's trailing slash; the raw identifier if it is not Auth0-shaped.
 */
export function identityKey(identity: UserIdentity): string {
  try {
    return buildTokenIdentifier(identity.issuer, identity.subject);
  } catch {
    return identity.tokenIdentifier;
  }
}

/**
 * Profile facts carried by a Convex identity (the claims of the Auth0 ID token). A token's
 * `updated_at` in the future is dropped: the profile is then dateless (see {@link upsertUser}).
 */
export function profileFromIdentity(identity: UserIdentity): UpsertArgs {
  const present = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);
  const updatedAt = parseAuth0Time(identity.updatedAt);
  return {
    tokenIdentifier: buildTokenIdentifier(identity.issuer, identity.subject),
    email: present(identity.email),
    emailVerified: identity.emailVerified,
    name: present(identity.name) ?? present(identity.nickname),
    nickname: present(identity.nickname),
    givenName: present(identity.givenName),
    familyName: present(identity.familyName),
    avatarUrl: present(identity.pictureUrl),
    auth0UpdatedAt: updatedAt !== undefined && !isFromTheFuture(updatedAt) ? updatedAt : undefined,
  };
}
