/**
 * Event streams in the Management API emulator (`/event-streams`, paged with `from` / `take` and a
 * `next` cursor). A webhook's credentials (bearer token, basic password, custom header value) are
 * write-only, endpoints must be https, and a destination's type cannot change.
 */
import { randomUUID } from "node:crypto";
import {
  checkpointPage,
  HttpError,
  invalid,
  onlyFields,
  requireScope,
  type EmulatorResource,
} from "./common";

/** An event stream as the emulator stores it; the webhook credentials are kept for tests. */
export interface StoredEventStream {
  id: string;
  name: string;
  status: "enabled" | "disabled";
  subscriptions: { event_type: string }[];
  destination: { type: string; configuration: Record<string, unknown> };
  created_at: string;
  updated_at: string;
}

const GET_QUERY: [RegExp, string[]][] = [
  [/^\/api\/v2\/event-streams$/, ["from", "take"]],
  [/^\/api\/v2\/event-streams\/[^/]+$/, []],
];
const STREAM_FIELDS = new Set(["name", "subscriptions", "destination", "status"]);
const STREAM_EVENT_TYPES = new Set([
  "user.created",
  "user.updated",
  "user.deleted",
  "organization.created",
  "organization.updated",
  "organization.deleted",
  "organization.member.added",
  "organization.member.deleted",
  "organization.member.role.assigned",
  "organization.member.role.deleted",
  "organization.connection.added",
  "organization.connection.updated",
  "organization.connection.removed",
]);
/** What each webhook authorization method needs; the second field of each is write-only. */
const WEBHOOK_AUTH: Record<string, [string, string][]> = {
  bearer: [["token", "secret"]],
  basic: [
    ["username", "public"],
    ["password", "secret"],
  ],
  custom_header: [
    ["header_key", "public"],
    ["header_value", "secret"],
  ],
};

/** Checks a webhook destination as Auth0 documents it; returns the configuration to store. */
function validateWebhookDestination(value: unknown): StoredEventStream["destination"] {
  const destination = (value ?? {}) as Record<string, unknown>;
  if (typeof value !== "object" || value === null) throw invalid("'destination' is required");
  onlyFields(destination, ["type", "configuration"], "destination");
  if (destination.type !== "webhook") {
    // The emulator implements webhook destinations only (all this project deploys).
    throw invalid(`destination.type ${String(destination.type)} is not supported here`);
  }
  const configuration = (destination.configuration ?? {}) as Record<string, unknown>;
  onlyFields(
    configuration,
    ["webhook_endpoint", "webhook_authorization"],
    "destination.configuration",
  );
  const endpoint = configuration.webhook_endpoint;
  if (typeof endpoint !== "string" || !/^https:\/\/.+/.test(endpoint)) {
    throw invalid("'webhook_endpoint' must match pattern ^https://.*");
  }
  const auth = (configuration.webhook_authorization ?? {}) as Record<string, unknown>;
  const fields = WEBHOOK_AUTH[String(auth.method)];
  if (!fields)
    throw invalid("'webhook_authorization.method' must be basic, bearer or custom_header");
  onlyFields(auth, ["method", ...fields.map(([f]) => f)], "webhook_authorization");
  for (const [field] of fields) {
    if (typeof auth[field] !== "string" || auth[field] === "") {
      throw invalid(`'webhook_authorization.${field}' is required`);
    }
  }
  return {
    type: "webhook",
    configuration: { webhook_endpoint: endpoint, webhook_authorization: { ...auth } },
  };
}

function validateSubscriptions(value: unknown): { event_type: string }[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid("'subscriptions' must be an array of at least 1 item");
  }
  return value.map((s) => {
    if (typeof s?.event_type !== "string" || !STREAM_EVENT_TYPES.has(s.event_type)) {
      throw invalid(`unknown event_type ${String(s?.event_type)}`);
    }
    onlyFields(s, ["event_type"], "subscriptions");
    return { event_type: s.event_type };
  });
}

/** A stream as Auth0 returns it: the webhook's credentials are never included. */
function streamOut(stream: StoredEventStream) {
  const auth = stream.destination.configuration.webhook_authorization as Record<string, unknown>;
  const readable = Object.fromEntries(
    (WEBHOOK_AUTH[String(auth.method)] ?? [])
      .filter(([, kind]) => kind === "public")
      .map(([field]) => [field, auth[field]]),
  );
  return {
    id: stream.id,
    name: stream.name,
    subscriptions: stream.subscriptions.map((s) => ({ ...s })),
    destination: {
      type: stream.destination.type,
      configuration: {
        webhook_endpoint: stream.destination.configuration.webhook_endpoint,
        webhook_authorization: { method: auth.method, ...readable },
      },
    },
    status: stream.status,
    created_at: stream.created_at,
    updated_at: stream.updated_at,
  };
}

export interface EventStreamsState {
  resource: EmulatorResource;
  eventStreams: Map<string, StoredEventStream>;
  /** Creates an event stream directly in the tenant (as one made in the dashboard would be). */
  seedEventStream(body: Record<string, unknown>): StoredEventStream;
  findEventStream(name: string): StoredEventStream | undefined;
}

/** The event-streams area of a tenant. */
export function createEventStreams(): EventStreamsState {
  const eventStreams = new Map<string, StoredEventStream>();

  function createEventStream(body: Record<string, unknown>): StoredEventStream {
    onlyFields(body, [...STREAM_FIELDS], "body");
    const name = body.name;
    if (typeof name !== "string" || name.length < 1 || name.length > 128) {
      throw invalid("'name' must be a string of 1 to 128 characters");
    }
    const status = body.status ?? "enabled";
    if (status !== "enabled" && status !== "disabled") throw invalid("'status'");
    const now = new Date().toISOString();
    const stream: StoredEventStream = {
      id: `est_${randomUUID().replace(/-/g, "").slice(0, 22)}`,
      name,
      status,
      subscriptions: validateSubscriptions(body.subscriptions),
      destination: validateWebhookDestination(body.destination),
      created_at: now,
      updated_at: now,
    };
    eventStreams.set(stream.id, stream);
    return stream;
  }

  function updateEventStream(stream: StoredEventStream, body: Record<string, unknown>) {
    onlyFields(body, [...STREAM_FIELDS], "body");
    // Validate everything before changing anything.
    const next = { ...stream };
    if (body.name !== undefined) {
      if (typeof body.name !== "string" || body.name.length < 1 || body.name.length > 128) {
        throw invalid("'name' must be a string of 1 to 128 characters");
      }
      next.name = body.name;
    }
    if (body.status !== undefined) {
      if (body.status !== "enabled" && body.status !== "disabled") throw invalid("'status'");
      next.status = body.status;
    }
    if (body.subscriptions !== undefined) {
      next.subscriptions = validateSubscriptions(body.subscriptions);
    }
    if (body.destination !== undefined) {
      const type = (body.destination as { type?: unknown } | null)?.type;
      if (type !== undefined && type !== stream.destination.type) {
        throw invalid("a destination's type cannot be changed");
      }
      next.destination = validateWebhookDestination({ type: "webhook", ...body.destination });
    }
    next.updated_at = new Date().toISOString();
    eventStreams.set(stream.id, next);
    return next;
  }

  function listEventStreams(query: Record<string, string>) {
    const { page, next } = checkpointPage([...eventStreams.values()], query);
    return { eventStreams: page.map(streamOut), ...(next ? { next } : {}) };
  }

  const resource: EmulatorResource = {
    getQuery: GET_QUERY,
    route(req) {
      const { method, path, query, body } = req;
      if (path !== "/api/v2/event-streams" && !path.startsWith("/api/v2/event-streams/")) {
        return undefined;
      }
      const scope =
        method === "GET"
          ? "read:event_streams"
          : method === "POST"
            ? "create:event_streams"
            : method === "DELETE"
              ? "delete:event_streams"
              : "update:event_streams";
      requireScope(req, scope);
      const input = (body ?? {}) as Record<string, unknown>;
      const m = (re: RegExp) => re.exec(path);
      let match: RegExpExecArray | null;
      if (path === "/api/v2/event-streams") {
        if (method === "GET") return [200, listEventStreams(query)];
        if (method === "POST") return [201, streamOut(createEventStream(input))];
      }
      if ((match = m(/^\/api\/v2\/event-streams\/([^/]+)$/))) {
        const id = decodeURIComponent(match[1]);
        const stream = eventStreams.get(id);
        if (stream && method === "GET") return [200, streamOut(stream)];
        if (stream && method === "PATCH") return [200, streamOut(updateEventStream(stream, input))];
        if (stream && method === "DELETE") {
          eventStreams.delete(id);
          return [204, undefined];
        }
        if (!stream && ["GET", "PATCH", "DELETE"].includes(method)) {
          throw new HttpError(404, "Not Found", "The event stream does not exist.");
        }
      }
      return undefined;
    },
  };

  return {
    resource,
    eventStreams,
    seedEventStream: (body) => createEventStream(body),
    findEventStream: (name) => [...eventStreams.values()].find((s) => s.name === name),
  };
}
