/**
 * `POST /api/v2/tickets/password-change` (`create:user_tickets`): a one-time link a user opens to
 * choose a password. Auth0 does not email it; the caller gets `{ ticket }`. A ticket for a user
 * that does not exist is a 404.
 */
import { randomBytes } from "node:crypto";
import { HttpError, invalid, onlyFields, requireScope, type EmulatorResource } from "./common";
import type { StoredUser } from "./users";

export interface StoredTicket {
  user_id: string;
  ticket: string;
  mark_email_as_verified: boolean;
  ttl_sec: number;
}

const FIELDS = [
  "user_id",
  "result_url",
  "ttl_sec",
  "mark_email_as_verified",
  "includeEmailInRedirect",
  "client_id",
  "organization_id",
  "connection_id",
  "email",
];

export interface TicketsState {
  resource: EmulatorResource;
  /** Every ticket issued, oldest first. */
  tickets: StoredTicket[];
}

export function createTickets(opts: {
  users: Map<string, StoredUser>;
  domain: () => string;
}): TicketsState {
  const tickets: StoredTicket[] = [];
  const resource: EmulatorResource = {
    getQuery: [],
    route(req) {
      if (req.path !== "/api/v2/tickets/password-change") return undefined;
      if (req.method !== "POST") return undefined;
      requireScope(req, "create:user_tickets");
      const body = (req.body ?? {}) as Record<string, unknown>;
      onlyFields(body, FIELDS, "body");
      if (typeof body.user_id !== "string") throw invalid("Missing required property: user_id");
      if (!opts.users.has(body.user_id)) {
        throw new HttpError(404, "Not Found", "The user does not exist.", "inexistent_user");
      }
      const ttl = body.ttl_sec === undefined ? 432_000 : Number(body.ttl_sec);
      if (!Number.isInteger(ttl) || ttl < 0) throw invalid("'ttl_sec' must be an integer");
      const ticket = {
        user_id: body.user_id,
        ticket: `https://${opts.domain()}/lo/reset?ticket=${randomBytes(24).toString("base64url")}#`,
        mark_email_as_verified: body.mark_email_as_verified === true,
        ttl_sec: ttl,
      };
      tickets.push(ticket);
      return [201, { ticket: ticket.ticket }];
    },
  };
  return { resource, tickets };
}
