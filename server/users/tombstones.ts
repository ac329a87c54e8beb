/**
 * The one lookup of a deleted user's tombstone, for the writes that honour it (server/users/users.ts,
 * server/organizations/writes.ts, server/users/adoption.ts). Mutations only: a tombstone still under its 0.1 table
 * name is moved first (server/legacy/tables.ts), so the caller may patch or delete what it gets.
 */
import type { Doc, MutationCtx } from "../builders";
import { moveLegacyRows } from "../legacy";

/** The tombstone of `auth0UserId`, if the user was deleted (and not re-created since). */
export async function userTombstoneOf(
  ctx: MutationCtx,
  auth0UserId: string,
): Promise<Doc<"auth0UserTombstones"> | null> {
  const byUser = (table: "auth0UserTombstones") =>
    ctx.db.query(table).withIndex("by_auth0_user_id", (q) => q.eq("auth0UserId", auth0UserId));
  await moveLegacyRows(ctx, "auth0UserTombstones", byUser);
  return byUser("auth0UserTombstones").first();
}
