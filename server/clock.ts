/**
 * The clock-skew rule every write applies to the dates it orders by: how far ahead of this
 * deployment's clock a date may be, and the time a stored tombstone can be trusted with. Plain
 * code on the shared tables, so the user writes, the organization writes and the move of rows
 * under the 0.1 table names (server/legacy/) share one rule.
 */
import type { Doc } from "./builders";

/**
 * How far ahead of this deployment's clock an ordering key (`updated_at`, a deletion time) may be.
 * Auth0's and Convex's clocks are synchronized; five minutes covers any honest difference, and
 * bounds what one forged or corrupt date can do: a key further ahead would be "newest" for years
 * and make every real update (and the deletion) look stale.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Whether `ms` lies beyond `now` plus {@link MAX_CLOCK_SKEW_MS} (or is not a finite time). */
export function isFromTheFuture(ms: number, now: number = Date.now()): boolean {
  return !Number.isFinite(ms) || ms > now + MAX_CLOCK_SKEW_MS;
}

/** A tombstone's deletion time, or when it was written if its `deletedAt` lies in the future. */
export function trustedDeletionTime(tombstone: Doc<"auth0UserTombstones">, now: number): number {
  return isFromTheFuture(tombstone.deletedAt, now) ? tombstone._creationTime : tombstone.deletedAt;
}
