/**
 * What this deployment trusts in stored users and incoming dates: the clock-skew rule for
 * ordering keys (server/clock.ts), the error codes the writes throw, the issuers configured on the
 * deployment and the rows keyed under them. The organization writes use it through the users'
 * door (server/users/index.ts).
 */
import { ConvexError } from "convex/values";
import type { DatabaseReader } from "../builders";
import type { Doc } from "../builders";
import { configuredIssuers, parseTokenIdentifier } from "../tokenIdentifier";
import { deploymentVariable } from "../deploymentVariables";
import { isFromTheFuture } from "../clock";

// The clock-skew rule is shared below the users too (server/clock.ts); the user writes use it here.
export { isFromTheFuture, MAX_CLOCK_SKEW_MS, trustedDeletionTime } from "../clock";

/** ConvexError code thrown by `upsertUser` (server/users/users.ts) for a profile older than the user's deletion. */
export const USER_DELETED = "user_deleted";
/** ConvexError code thrown by `upsertUser` (server/users/users.ts) for an ordering key beyond the allowed skew. */
export const TIMESTAMP_IN_FUTURE = "timestamp_in_future";

/** The `code` of a ConvexError thrown by this module, if `err` is one. */
export function convexErrorCode(err: unknown): string | undefined {
  if (!(err instanceof ConvexError) || typeof err.data !== "object" || err.data === null) {
    return undefined;
  }
  const code = (err.data as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** True when `err` is the `upsertUser` refusal for a deleted user. */
export function isUserDeletedError(err: unknown): boolean {
  return convexErrorCode(err) === USER_DELETED;
}

/**
 * The ordering key a stored row can be trusted with: its `auth0UpdatedAt`, unless that lies in
 * the future (written before the skew rule existed, or by a bad clock); then the time this module
 * last wrote the row, which is the latest the profile can really date from.
 */
export function trustedProfileTime(row: Doc<"users">, now: number = Date.now()) {
  if (row.auth0UpdatedAt === undefined) return undefined;
  return isFromTheFuture(row.auth0UpdatedAt, now) ? row.updatedAt : row.auth0UpdatedAt;
}

/** The normalized issuers this deployment trusts (`AUTH0_DOMAIN`, `AUTH0_CUSTOM_DOMAIN`). */
export function deploymentIssuers(): string[] {
  return configuredIssuers(
    deploymentVariable("AUTH0_DOMAIN"),
    deploymentVariable("AUTH0_CUSTOM_DOMAIN"),
  );
}

/**
 * The rows of an Auth0 user id keyed under an issuer this deployment trusts (a custom-domain
 * login and a canonical one share the user id). Rows of other tenants are never included.
 */
export async function trustedRowsOf(
  db: DatabaseReader,
  auth0UserId: string,
): Promise<Doc<"users">[]> {
  const issuers = deploymentIssuers();
  const rows = await db
    .query("users")
    .withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", auth0UserId))
    // An anonymized row (see deleteUser) belongs to a deleted user, not to this user id any more;
    // the filter runs inside one user's index range, which holds a handful of rows at most.
    // eslint-disable-next-line @convex-dev/no-filter-in-query
    .filter((q) => q.eq(q.field("deletedAt"), undefined))
    .take(16);
  return rows.filter((row) => {
    try {
      return issuers.includes(parseTokenIdentifier(row.tokenIdentifier).issuer);
    } catch {
      return false;
    }
  });
}
