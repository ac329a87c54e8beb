/**
 * Auth0 Event Streams: `user.created`, `user.updated` and `user.deleted` as they reach
 * `POST /auth0/events` (the route is in server/events/route.ts; this file parses and applies).
 * Organization events are parsed and applied by server/events/organizationEvents.ts, recorded here the same way.
 *
 * Auth0 delivers at least once and in no guaranteed order, so:
 * - every event id is recorded in `auth0Events`, and `ingest` checks, applies and records in ONE
 *   mutation: a redelivery, even a concurrent one, is acknowledged and changes nothing;
 * - created/updated go through `upsertUser` (server/users/users.ts) ordered by `data.object.updated_at`:
 *   an event older than the stored profile changes nothing. A `user.updated` for a user without a
 *   row creates it: the event carries the whole profile, and its `user.created` may come later;
 * - deleted goes through `deleteUser`, which removes the row and keeps a tombstone, and
 *   `upsertUser` refuses any profile not newer than the tombstone, whatever path it came from.
 *   The deletion time is `data.object.deleted_at` (else the event's `time`), or the deleted
 *   profile's `updated_at` if that is later;
 * - records and tombstones live {@link RETENTION_DAYS} days (pruned by convex/crons.ts). A
 *   created/updated event whose `updated_at` is older than that is refused (recorded as failed),
 *   since a tombstone that could have stopped it may be gone; the next reconcile covers it;
 * - no ordering key from the future: a created/updated event whose `updated_at` is more than
 *   `MAX_CLOCK_SKEW_MS` ahead is recorded as failed; a deletion time in the future is clamped to
 *   now by `deleteUser`.
 */
import { ConvexError, v, type Infer } from "convex/values";
import { validate } from "convex-helpers/validators";
import { describeValidationError } from "../http";
import { internalMutation } from "../builders";
import { deploymentVariable } from "../deploymentVariables";
import { internal } from "../api";
import { eventOutcome } from "../tables";
import {
  parseAuth0Time,
  profileFromAuth0User,
  deleteUser,
  findUserByTokenIdentifier,
  upsertUser,
  auth0ProfileFields,
  convexErrorCode,
  isFromTheFuture,
  isUserDeletedError,
  MAX_CLOCK_SKEW_MS,
  trustedProfileTime,
} from "../users";
import { tokenIdentifier } from "../tokenIdentifier";
import {
  applyOrganizationAction,
  ORGANIZATION_EVENT_TYPES,
  organizationAction,
  parseOrganizationEvent,
} from "./organizationEvents";
import {
  MAX_DETAIL_LENGTH,
  MAX_ID_LENGTH as MAX_USER_ID_LENGTH,
  MAX_PRUNE_BATCH,
  VALUE_TOO_LONG,
} from "../limits";

/** Route path of the Event Stream webhook. */
export const EVENTS_PATH = "/auth0/events";
/** Largest event body accepted. Auth0 limits a serialized profile to 10 KB plus an "extended
 * allowance" of about ten times that; an event may carry the profile and `previous_object`, so
 * 256 KiB holds two profiles at the allowance with room for the envelope. */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;
/** How long event records and tombstones are kept. Auth0 retries a delivery within seconds; a
 * failed delivery can be redelivered by API later, and any created/updated event older than this
 * is refused anyway, so a pruned tombstone can never let a stale profile through. */
export const RETENTION_DAYS = 30;
export const RETENTION_MS = RETENTION_DAYS * 24 * 60 * 60 * 1000;
/** Rows deleted per prune run; a run that fills a batch schedules the next one. */
export const PRUNE_BATCH_SIZE = 500;
/** Event types this module applies; others are acknowledged and recorded as ignored. */
export const USER_EVENT_TYPES = ["user.created", "user.updated", "user.deleted"] as const;

const MAX_ID_LENGTH = 256;
const MAX_TYPE_LENGTH = 128;

/** A CloudEvents 1.0 envelope as Auth0 sends it; fields Auth0 adds later are allowed. */
const envelopeValidator = v.object({
  id: v.string(),
  source: v.string(),
  specversion: v.string(),
  type: v.string(),
  time: v.string(),
  data: v.optional(v.any()),
  a0purpose: v.optional(v.string()),
});

const nullableString = v.optional(v.union(v.string(), v.null()));
/** The attributes of `data.object` this module reads. */
const userObjectValidator = v.object({
  user_id: v.string(),
  email: nullableString,
  email_verified: v.optional(v.union(v.boolean(), v.null())),
  name: nullableString,
  nickname: nullableString,
  given_name: nullableString,
  family_name: nullableString,
  picture: nullableString,
  updated_at: nullableString,
  deleted_at: nullableString,
  /** Carried whole for the app's metadata fields (see server/users/metadata.ts). */
  app_metadata: v.optional(v.any()),
  user_metadata: v.optional(v.any()),
});

/** What `ingest` is asked to do with one event, decided from its envelope and payload. */
export const ingestArgs = {
  eventId: v.string(),
  type: v.string(),
  /** The event's `time` (ms). */
  eventTime: v.number(),
  auth0UserId: v.optional(v.string()),
  auth0OrgId: v.optional(v.string()),
  action: v.union(
    v.object({ kind: v.literal("upsert"), profile: v.object(auth0ProfileFields) }),
    ...organizationAction.members,
    v.object({ kind: v.literal("delete"), deletedAt: v.number() }),
    /** Acknowledge without applying (test events, types this module does not handle). */
    v.object({ kind: v.literal("ignore"), detail: v.string() }),
    /** Acknowledge and record as failed: the event can never apply. */
    v.object({ kind: v.literal("fail"), detail: v.string() }),
  ),
};
export type IngestArgs = Infer<ReturnType<typeof v.object<typeof ingestArgs>>>;

/** Result of {@link parseAuth0Event}: the ingest arguments, or why the envelope is malformed. */
export type ParsedEvent =
  { ok: true; event: IngestArgs } | { ok: false; error: "invalid_event"; message: string };

/**
 * Turns a parsed JSON body into the arguments of `auth0.ingestEvent`. A malformed envelope (what
 * identifies and dates the event) is refused; a well-formed event whose user payload cannot apply
 * becomes a `fail` action, so it is recorded and acknowledged instead of retried forever.
 */
export function parseAuth0Event(body: unknown): ParsedEvent {
  const bad = (message: string): ParsedEvent => ({ ok: false, error: "invalid_event", message });
  try {
    validate(envelopeValidator, body, { throw: true, allowUnknownFields: true });
  } catch (err) {
    return bad(`Not a CloudEvents 1.0 event (${describeValidationError(err)}).`);
  }
  const envelope = body as typeof envelopeValidator.type;
  if (envelope.specversion !== "1.0") {
    return bad(
      `specversion must be "1.0", got ${JSON.stringify(envelope.specversion.slice(0, 16))}.`,
    );
  }
  if (envelope.id === "" || envelope.id.length > MAX_ID_LENGTH) {
    return bad(`id must be 1 to ${MAX_ID_LENGTH} characters.`);
  }
  if (envelope.type === "" || envelope.type.length > MAX_TYPE_LENGTH) {
    return bad(`type must be 1 to ${MAX_TYPE_LENGTH} characters.`);
  }
  const eventTime = parseAuth0Time(envelope.time);
  if (eventTime === undefined) return bad("time is not an RFC 3339 timestamp.");

  const base = { eventId: envelope.id, type: envelope.type, eventTime };
  if (envelope.a0purpose === "test") {
    return { ok: true, event: { ...base, action: { kind: "ignore", detail: "test event" } } };
  }
  if ((ORGANIZATION_EVENT_TYPES as readonly string[]).includes(envelope.type)) {
    const object: unknown =
      typeof envelope.data === "object" && envelope.data !== null
        ? (envelope.data as { object?: unknown }).object
        : undefined;
    const parsed = parseOrganizationEvent(envelope.type, object);
    if ("fail" in parsed) {
      return { ok: true, event: { ...base, action: { kind: "fail", detail: parsed.fail } } };
    }
    const { action, ...ids } = parsed;
    return { ok: true, event: { ...base, ...ids, action } };
  }
  if (!(USER_EVENT_TYPES as readonly string[]).includes(envelope.type)) {
    return {
      ok: true,
      event: { ...base, action: { kind: "ignore", detail: "event type not handled" } },
    };
  }

  const fail = (detail: string, auth0UserId?: string): ParsedEvent => ({
    ok: true,
    event: { ...base, ...(auth0UserId ? { auth0UserId } : {}), action: { kind: "fail", detail } },
  });
  const object: unknown =
    typeof envelope.data === "object" && envelope.data !== null
      ? (envelope.data as { object?: unknown }).object
      : undefined;
  try {
    validate(userObjectValidator, object, {
      throw: true,
      allowUnknownFields: true,
      _pathPrefix: "data.object",
    });
  } catch (err) {
    return fail(`invalid user object (${describeValidationError(err)})`);
  }
  const user = object as typeof userObjectValidator.type;
  if (user.user_id === "") return fail("invalid user object (data.object.user_id is empty)");
  if (user.user_id.length > MAX_USER_ID_LENGTH) {
    return fail(
      `invalid user object (data.object.user_id is over ${MAX_USER_ID_LENGTH} characters)`,
    );
  }
  const auth0UserId = user.user_id;

  if (envelope.type === "user.deleted") {
    const updatedAt = parseAuth0Time(user.updated_at) ?? -Infinity;
    const deletedAt = Math.max(parseAuth0Time(user.deleted_at) ?? eventTime, updatedAt);
    return { ok: true, event: { ...base, auth0UserId, action: { kind: "delete", deletedAt } } };
  }
  const profile = profileFromAuth0User(user, "all");
  if (profile.auth0UpdatedAt === undefined) {
    return fail(
      "data.object.updated_at is missing or not a timestamp: the event cannot be ordered",
      auth0UserId,
    );
  }
  return { ok: true, event: { ...base, auth0UserId, action: { kind: "upsert", profile } } };
}

type Outcome = Infer<typeof eventOutcome>;

/**
 * Applies one event and records its id, in one transaction. Internal: called by the
 * `/auth0/events` route. A redelivered id returns the first outcome with `duplicate: true`.
 */
export const ingest = internalMutation({
  args: ingestArgs,
  returns: v.object({ outcome: eventOutcome, duplicate: v.boolean() }),
  handler: async (ctx, args): Promise<{ outcome: Outcome; duplicate: boolean }> => {
    const seen = await ctx.db
      .query("auth0Events")
      .withIndex("by_event_id", (q) => q.eq("eventId", args.eventId))
      .first();
    if (seen) return { outcome: seen.outcome, duplicate: true };

    const now = Date.now();
    let outcome: Outcome;
    let detail: string | undefined;
    const { action } = args;
    if (action.kind === "ignore") {
      outcome = "ignored";
      detail = action.detail;
    } else if (action.kind === "fail") {
      outcome = "failed";
      detail = action.detail;
    } else if (
      action.kind === "organization" ||
      action.kind === "organizationDeleted" ||
      action.kind === "membership"
    ) {
      if (args.eventTime < now - RETENTION_MS) {
        outcome = "failed";
        detail = `older than the ${RETENTION_DAYS}-day retention; the next reconcile (--orgs) covers it`;
      } else {
        ({ outcome, detail } = await applyOrganizationAction(ctx, action, args.eventTime));
      }
    } else if (args.auth0UserId === undefined) {
      outcome = "failed";
      detail = "no user id";
    } else if (action.kind === "delete") {
      const result = await deleteUser(ctx, {
        auth0UserId: args.auth0UserId,
        deletedAt: action.deletedAt,
        eventId: args.eventId,
      });
      outcome = result.superseded ? "superseded" : "applied";
      detail = result.superseded
        ? "the user was re-created after this deletion"
        : `removed ${result.removed} row(s)`;
    } else {
      ({ outcome, detail } = await applyUpsert(ctx, args.auth0UserId, action.profile, now));
    }

    await ctx.db.insert("auth0Events", {
      eventId: args.eventId,
      type: args.type,
      eventTime: args.eventTime,
      receivedAt: now,
      ...(args.auth0UserId !== undefined ? { auth0UserId: args.auth0UserId } : {}),
      ...(args.auth0OrgId !== undefined ? { auth0OrgId: args.auth0OrgId } : {}),
      outcome,
      ...(detail !== undefined ? { detail: detail.slice(0, MAX_DETAIL_LENGTH) } : {}),
    });
    return { outcome, duplicate: false };
  },
});

async function applyUpsert(
  ctx: Parameters<typeof upsertUser>[0],
  auth0UserId: string,
  profile: Infer<ReturnType<typeof v.object<typeof auth0ProfileFields>>>,
  now: number,
): Promise<{ outcome: Outcome; detail?: string }> {
  const updatedAt = profile.auth0UpdatedAt;
  if (updatedAt === undefined) {
    return { outcome: "failed", detail: "no updated_at: the event cannot be ordered" };
  }
  if (isFromTheFuture(updatedAt, now)) {
    return {
      outcome: "failed",
      detail: `updated_at lies more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes in the future: it cannot order updates`,
    };
  }
  if (updatedAt < now - RETENTION_MS) {
    return {
      outcome: "failed",
      detail: `updated_at is older than the ${RETENTION_DAYS}-day retention; the next reconcile covers this user`,
    };
  }
  // Events name no domain: rows they create use the canonical issuer, and
  // findUserByTokenIdentifier also finds a row created under the custom domain.
  const identifier = tokenIdentifier(deploymentVariable("AUTH0_DOMAIN") ?? "", auth0UserId);
  const existing = await findUserByTokenIdentifier(ctx.db, identifier);
  const storedTime = existing ? trustedProfileTime(existing, now) : undefined;
  if (storedTime !== undefined && updatedAt < storedTime) {
    return { outcome: "superseded", detail: "older than the stored profile" };
  }
  let refused;
  try {
    ({ refusedMetadata: refused } = await upsertUser(ctx, {
      tokenIdentifier: identifier,
      ...profile,
    }));
  } catch (err) {
    if (isUserDeletedError(err)) {
      return { outcome: "superseded", detail: "the user was deleted after this profile" };
    }
    if (convexErrorCode(err) === VALUE_TOO_LONG) {
      const message = (err as { data?: { message?: string } }).data?.message ?? "too long";
      return { outcome: "failed", detail: `a profile value is over its cap (${message})` };
    }
    throw err;
  }
  if (refused.length === 0) return { outcome: "applied" };
  const list = refused.map((r) => `${r.field} (${r.from}: ${r.reason})`).join("; ");
  return { outcome: "applied", detail: `metadata refused, those fields kept: ${list}` };
}

/**
 * Deletes event records received, and tombstones for deletions, more than {@link RETENTION_DAYS}
 * days ago: at most `batchSize` rows per run across the three tables together (each delete is
 * one index range and one write, so a run stays far inside the limits); schedules itself again
 * while more remain. Run hourly by convex/crons.ts.
 */
export const prune = internalMutation({
  args: { batchSize: v.optional(v.number()) },
  returns: v.object({ events: v.number(), tombstones: v.number(), more: v.boolean() }),
  handler: async (
    ctx,
    { batchSize = PRUNE_BATCH_SIZE },
  ): Promise<{ events: number; tombstones: number; more: boolean }> => {
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_PRUNE_BATCH) {
      throw new ConvexError({
        code: "invalid_batch_size",
        message: `batchSize must be an integer 1..${MAX_PRUNE_BATCH}`,
      });
    }
    const cutoff = Date.now() - RETENTION_MS;
    let left = batchSize;
    const events = await ctx.db
      .query("auth0Events")
      .withIndex("by_received_at", (q) => q.lt("receivedAt", cutoff))
      .take(left);
    for (const row of events) await ctx.db.delete("auth0Events", row._id);
    left -= events.length;
    const tombstones =
      left > 0
        ? await ctx.db
            .query("auth0UserTombstones")
            .withIndex("by_deleted_at", (q) => q.lt("deletedAt", cutoff))
            .take(left)
        : [];
    for (const row of tombstones) await ctx.db.delete("auth0UserTombstones", row._id);
    left -= tombstones.length;
    const orgTombstones =
      left > 0
        ? await ctx.db
            .query("auth0OrganizationTombstones")
            .withIndex("by_deleted_at", (q) => q.lt("deletedAt", cutoff))
            .take(left)
        : [];
    for (const row of orgTombstones) await ctx.db.delete("auth0OrganizationTombstones", row._id);
    left -= orgTombstones.length;
    // A full run may have left rows behind; an empty next run costs three small queries.
    const more = left === 0;
    if (more) await ctx.scheduler.runAfter(0, internal.auth0.pruneEvents, { batchSize });
    return { events: events.length, tombstones: tombstones.length + orgTombstones.length, more };
  },
});
