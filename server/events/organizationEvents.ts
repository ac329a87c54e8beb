/**
 * Organization events from Auth0 Event Streams, as `POST /auth0/events` receives them (the
 * envelope, deduplication and recording are server/events/events.ts's): `organization.created`,
 * `.updated`, `.deleted`, `organization.member.added`, `.deleted`, and
 * `organization.member.role.assigned`, `.deleted`. None carries an `updated_at`, so each is
 * ordered by the event's `time` and applied through server/organizations/writes.ts.
 */
import { v, type Infer } from "convex/values";
import { validate } from "convex-helpers/validators";
import { describeValidationError } from "../http";
import type { MutationCtx } from "../builders";
import {
  deleteOrganization,
  removeMembership,
  setMembership,
  upsertOrganization,
  type OrgWriteOutcome,
} from "../organizations";
import { convexErrorCode, TIMESTAMP_IN_FUTURE } from "../users";
import { MAX_ID_LENGTH, MAX_TEXT_LENGTH, VALUE_TOO_LONG } from "../limits";
import { metadataEntries, metadataEntry } from "../orgMetadata";

const errorMessage = (err: unknown) => {
  const data = (err as { data?: { message?: unknown } }).data;
  return typeof data?.message === "string" ? data.message : "too long";
};

export const ORGANIZATION_EVENT_TYPES = [
  "organization.created",
  "organization.updated",
  "organization.deleted",
  "organization.member.added",
  "organization.member.deleted",
  "organization.member.role.assigned",
  "organization.member.role.deleted",
] as const;

const MAX_LENGTH = 256;
const short = v.string();

/** What `auth0.ingestEvent` does with an organization event. */
export const organizationAction = v.union(
  v.object({
    kind: v.literal("organization"),
    auth0OrgId: short,
    name: short,
    displayName: v.optional(v.union(v.string(), v.null())),
    /** Entries (see server/orgMetadata.ts): Auth0 keys may not be Convex field names. */
    metadata: v.optional(v.union(v.array(metadataEntry), v.null())),
  }),
  v.object({ kind: v.literal("organizationDeleted"), auth0OrgId: short }),
  v.object({
    kind: v.literal("membership"),
    auth0OrgId: short,
    auth0UserId: short,
    change: v.union(
      v.object({ kind: v.literal("member") }),
      v.object({ kind: v.literal("removed") }),
      v.object({ kind: v.literal("role"), name: short, present: v.boolean() }),
    ),
  }),
);
export type OrganizationAction = Infer<typeof organizationAction>;

const orgObject = v.object({
  id: v.string(),
  name: v.string(),
  display_name: v.optional(v.union(v.string(), v.null())),
  metadata: v.optional(v.union(v.record(v.string(), v.string()), v.null())),
});
const memberObject = v.object({
  organization: v.object({ id: v.string() }),
  user: v.object({ user_id: v.string() }),
  role: v.optional(v.object({ id: v.optional(v.string()), name: v.string() })),
});

/**
 * The action for an organization event's `data.object`, or why it can never apply (recorded as
 * failed and acknowledged). `type` is one of {@link ORGANIZATION_EVENT_TYPES}.
 */
export function parseOrganizationEvent(
  type: string,
  object: unknown,
): { action: OrganizationAction; auth0OrgId: string; auth0UserId?: string } | { fail: string } {
  const isMember = type.startsWith("organization.member.");
  try {
    validate(isMember ? memberObject : orgObject, object, {
      throw: true,
      allowUnknownFields: true,
      _pathPrefix: "data.object",
    });
  } catch (err) {
    return { fail: `invalid organization event (${describeValidationError(err)})` };
  }
  if (!isMember) {
    const org = object as Infer<typeof orgObject>;
    if (
      org.id === "" ||
      org.id.length > MAX_LENGTH ||
      org.name.length > MAX_LENGTH ||
      (org.display_name?.length ?? 0) > MAX_TEXT_LENGTH
    ) {
      return {
        fail: "invalid organization event (data.object.id, name or display_name is empty or too long)",
      };
    }
    if (type === "organization.deleted") {
      return { action: { kind: "organizationDeleted", auth0OrgId: org.id }, auth0OrgId: org.id };
    }
    return {
      action: {
        kind: "organization",
        auth0OrgId: org.id,
        name: org.name,
        ...(org.display_name !== undefined ? { displayName: org.display_name } : {}),
        ...(org.metadata !== undefined
          ? { metadata: org.metadata === null ? null : metadataEntries(org.metadata) }
          : {}),
      },
      auth0OrgId: org.id,
    };
  }
  const m = object as Infer<typeof memberObject>;
  const auth0OrgId = m.organization.id;
  const auth0UserId = m.user.user_id;
  if (
    !auth0OrgId ||
    !auth0UserId ||
    auth0OrgId.length > MAX_LENGTH ||
    auth0UserId.length > MAX_ID_LENGTH
  ) {
    return { fail: "invalid organization event (organization.id or user.user_id is empty)" };
  }
  const ids = { auth0OrgId, auth0UserId };
  if (type === "organization.member.added" || type === "organization.member.deleted") {
    const change =
      type === "organization.member.added"
        ? ({ kind: "member" } as const)
        : ({ kind: "removed" } as const);
    return { action: { kind: "membership", ...ids, change }, ...ids };
  }
  if (!m.role?.name || m.role.name.length > MAX_LENGTH) {
    return { fail: "invalid organization event (data.object.role.name is missing)" };
  }
  return {
    action: {
      kind: "membership",
      ...ids,
      change: {
        kind: "role",
        name: m.role.name,
        present: type === "organization.member.role.assigned",
      },
    },
    ...ids,
  };
}

/** Applies an organization action dated `at` (the event's time). */
export async function applyOrganizationAction(
  ctx: MutationCtx,
  action: OrganizationAction,
  at: number,
): Promise<{ outcome: "applied" | "superseded" | "failed"; detail?: string }> {
  let result: OrgWriteOutcome;
  try {
    if (action.kind === "organization") {
      result = await upsertOrganization(
        ctx,
        {
          auth0OrgId: action.auth0OrgId,
          name: action.name,
          displayName: action.displayName,
          metadata: action.metadata,
        },
        at,
      );
    } else if (action.kind === "organizationDeleted") {
      const deleted = await deleteOrganization(ctx, action.auth0OrgId, at);
      result = deleted.outcome;
      if (result !== "superseded") {
        return {
          outcome: "applied",
          detail: `removed ${deleted.removedMemberships} membership(s)${deleted.purgeScheduled ? "; the rest are removed by scheduled auth0:purgeMemberships" : ""}`,
        };
      }
    } else {
      const ids = { auth0OrgId: action.auth0OrgId, auth0UserId: action.auth0UserId };
      result =
        action.change.kind === "removed"
          ? await removeMembership(ctx, ids, at)
          : await setMembership(ctx, ids, at, action.change);
    }
  } catch (err) {
    const code = convexErrorCode(err);
    if (code === TIMESTAMP_IN_FUTURE) {
      return {
        outcome: "failed",
        detail: "the event's time lies in the future: it cannot be ordered",
      };
    }
    if (code === VALUE_TOO_LONG) {
      return { outcome: "failed", detail: `a value is over its cap (${errorMessage(err)})` };
    }
    throw err;
  }
  return result === "superseded"
    ? { outcome: "superseded", detail: "older than the stored state or a deletion" }
    : { outcome: "applied" };
}
