/**
 * Reads Auth0 tenant log events as hints of what may have changed (see server/logSync/logSync.ts). A log
 * event is never the profile: it only names users (and organizations) to refetch from the
 * Management API, so an unknown or changed shape costs a refetch or is ignored, never a wrong row.
 * Plain code, no Convex imports.
 */

/** What a batch of log events asks the sync to do. */
export interface LogHints {
  /** Users to refetch with `GET /api/v2/users/{id}` (a 404 there is a deletion). */
  users: Set<string>;
  /** Users whose organizations to refetch (an organization membership changed). */
  userOrganizations: Set<string>;
  /** Why only a full reconcile can cover some events (they name no user); empty when none. */
  reconcileReasons: string[];
  /** Events read that named nothing this module keeps (logins, failures, other APIs). */
  ignored: number;
}

/** Codes whose `user_id` is the user whose profile may have changed (docs, log event codes):
 * signup, email / username / phone changed, email verified, user deleted. */
export const USER_CODES = new Set(["ss", "sce", "scu", "scpn", "sv", "sdu"]);
/** Organization codes naming a member in `user_id`. */
export const ORGANIZATION_MEMBER_CODES = new Set([
  "organization_member_added",
  "organization_member_deleted",
]);
/** Codes that change users without naming them: only a full reconcile covers them. */
export const UNNAMED_CODES = new Map([["sui", "a bulk user import (sui) names no users"]]);

/** Auth0 user ids are short printable text; anything else is not one. */
function userId(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" && value.length <= 512 && !/[\s]/.test(value)
    ? value
    : undefined;
}

function object(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function decode(part: string): string | undefined {
  try {
    return userId(decodeURIComponent(part));
  } catch {
    return undefined;
  }
}

/** An empty {@link LogHints}. */
export function emptyHints(): LogHints {
  return { users: new Set(), userOrganizations: new Set(), reconcileReasons: [], ignored: 0 };
}

/**
 * What a `sapi` event (a Management API or Dashboard write) names: the target is in
 * `details.request.path`; for a user creation, in `details.response.body.user_id`.
 */
function readSapi(event: Record<string, unknown>, hints: LogHints): boolean {
  const request = object(object(event.details)?.request);
  const method = typeof request?.method === "string" ? request.method.toUpperCase() : undefined;
  const path = typeof request?.path === "string" ? request.path.split("?")[0] : undefined;
  if (!request || !method || !path || method === "GET") return false;
  const body = object(request.body);

  if (/^\/api\/v2\/users\/?$/.test(path) && method === "POST") {
    const response = object(object(event.details)?.response);
    const created = userId(object(response?.body)?.user_id);
    if (created) hints.users.add(created);
    else hints.reconcileReasons.push("a user creation whose log shows no user_id");
    return true;
  }
  const user = /^\/api\/v2\/users\/([^/]+)(\/.*)?$/.exec(path);
  if (user) {
    const id = decode(user[1]);
    if (!id) return false;
    hints.users.add(id);
    // Linking deletes the secondary user; unlinking makes it a user again.
    const sub = user[2] ?? "";
    if (sub === "/identities" && method === "POST") {
      const secondary =
        typeof body?.provider === "string" && typeof body?.user_id === "string"
          ? userId(`${body.provider}|${body.user_id}`)
          : undefined;
      if (secondary) hints.users.add(secondary);
    }
    const unlinked = /^\/identities\/([^/]+)\/([^/]+)$/.exec(sub);
    if (unlinked && method === "DELETE") {
      const secondary = decode(`${unlinked[1]}|${unlinked[2]}`);
      if (secondary) hints.users.add(secondary);
    }
    return true;
  }
  if (/^\/api\/v2\/jobs\/users-imports\/?$/.test(path)) {
    hints.reconcileReasons.push("a bulk user import job was started");
    return true;
  }
  const members = /^\/api\/v2\/organizations\/([^/]+)\/members(\/([^/]+)\/roles)?$/.exec(path);
  if (members) {
    const named = members[3] !== undefined ? [members[3]] : body?.members;
    const ids = Array.isArray(named)
      ? named.map((m) => (typeof m === "string" ? decode(m) : undefined))
      : [];
    if (ids.length === 0 || ids.some((id) => id === undefined)) {
      hints.reconcileReasons.push("an organization membership change whose log names no members");
    } else {
      for (const id of ids) hints.userOrganizations.add(id!);
    }
    return true;
  }
  if (/^\/api\/v2\/organizations\/[^/]+$/.test(path)) {
    hints.reconcileReasons.push("an organization was changed or deleted (reconcile with --orgs)");
    return true;
  }
  return false;
}

/**
 * Adds what one log event names to `hints`. Events of an unknown or unexpected shape name
 * nothing (they are counted as ignored); they can never make the sync write a wrong row, since
 * every profile is refetched.
 */
export function readLogEvent(raw: unknown, hints: LogHints): void {
  const event = object(raw);
  const type = typeof event?.type === "string" ? event.type : undefined;
  if (!event || !type) {
    hints.ignored += 1;
    return;
  }
  if (type === "sapi") {
    if (!readSapi(event, hints)) hints.ignored += 1;
    return;
  }
  const named = userId(event.user_id);
  if (USER_CODES.has(type)) {
    // `sdu` may omit the user: its `sapi` DELETE names it (the Dashboard deletes through the API).
    if (named) hints.users.add(named);
    else hints.ignored += 1;
    return;
  }
  if (ORGANIZATION_MEMBER_CODES.has(type)) {
    if (named) hints.userOrganizations.add(named);
    else hints.reconcileReasons.push(`an organization event (${type}) that names no user`);
    return;
  }
  const unnamed = UNNAMED_CODES.get(type);
  if (unnamed) {
    hints.reconcileReasons.push(unnamed);
    return;
  }
  hints.ignored += 1;
}
