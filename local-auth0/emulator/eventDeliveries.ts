/**
 * Event Streams delivering: the emulator posts CloudEvents to a stream's webhook as Auth0 does
 * (bearer token, any 2xx acknowledges, a 4xx fails at once, otherwise 4 attempts after 1, 2 and
 * 4 s), keeps the failed deliveries, lists them (`GET /event-streams/{id}/deliveries`, paged with
 * `from` / `take`) and redelivers them (`POST /event-streams/{id}/redeliver[/{event_id}]`).
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import {
  checkpointPage,
  HttpError,
  invalid,
  onlyFields,
  requireScope,
  type EmulatorResource,
} from "./common";
import type { StoredEventStream } from "./eventStreams";

/** A CloudEvent as Event Streams send it. */
export interface CloudEvent {
  id: string;
  source?: string;
  specversion: "1.0";
  type: string;
  time: string;
  data: { object: Record<string, unknown> };
  a0tenant?: string;
  a0stream?: string;
}

/** A failed delivery as Auth0 lists it. */
export interface StoredDelivery {
  id: string;
  event_stream_id: string;
  status: "failed";
  event_type: string;
  attempts: { status: "failed"; timestamp: string; error_message?: string; duration?: number }[];
  event: CloudEvent;
}

const GET_QUERY: [RegExp, string[]][] = [
  [
    /^\/api\/v2\/event-streams\/[^/]+\/deliveries$/,
    ["statuses", "event_types", "date_from", "date_to", "from", "take"],
  ],
  [/^\/api\/v2\/event-streams\/[^/]+\/deliveries\/[^/]+$/, []],
];
const REDELIVER_FIELDS = ["date_from", "date_to", "statuses", "event_types"];

export interface EventDeliveriesState {
  resource: EmulatorResource;
  /**
   * Sends `event` to every enabled stream subscribed to its type, with Auth0's attempts, and
   * records a failed delivery when none succeeded. Resolves with each stream's final status.
   */
  publish(event: CloudEvent): Promise<{ streamId: string; status: number | "network_error" }[]>;
  /** The failed deliveries of a stream, oldest first. */
  failedDeliveries(streamId: string): StoredDelivery[];
  /** Waits between attempts (default 1, 2 and 4 s, as Auth0); tests shorten them. */
  setRetryDelays(ms: number[]): void;
}

/** The delivery side of the event streams in `streams`. */
export function createEventDeliveries(
  streams: Map<string, StoredEventStream>,
  options: { ca?: string } = {},
): EventDeliveriesState {
  const failed = new Map<string, StoredDelivery[]>();
  let retryDelays = [1000, 2000, 4000];

  /** One POST to the stream's endpoint (trusting `ca`, the test CA, for https). */
  function attempt(stream: StoredEventStream, event: CloudEvent) {
    const configuration = stream.destination.configuration;
    const auth = configuration.webhook_authorization as { method: string; token?: string };
    const started = Date.now();
    const url = new URL(String(configuration.webhook_endpoint));
    const body = JSON.stringify({ ...event, a0stream: stream.id });
    return new Promise<{ status: number | "network_error"; error?: string; started: number }>(
      (done) => {
        const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(
          url,
          {
            method: "POST",
            ca: options.ca,
            timeout: 10_000,
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
              ...(auth.method === "bearer" ? { authorization: `Bearer ${auth.token}` } : {}),
            },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (text += d));
            res.on("end", () => {
              const status = res.statusCode ?? 0;
              const ok = status >= 200 && status < 300;
              done({ status, error: ok ? undefined : text.slice(0, 200), started });
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error("timed out after 10 s")));
        req.on("error", (err) =>
          done({ status: "network_error", error: err.message.slice(0, 200), started }),
        );
        req.end(body);
      },
    );
  }

  /** Auth0's attempts for one event; returns the last status. */
  async function deliver(stream: StoredEventStream, event: CloudEvent) {
    const attempts: StoredDelivery["attempts"] = [];
    for (let i = 0; ; i++) {
      const result = await attempt(stream, event);
      if (typeof result.status === "number" && result.status >= 200 && result.status < 300) {
        return { status: result.status, attempts };
      }
      attempts.push({
        status: "failed",
        timestamp: new Date().toISOString(),
        error_message:
          typeof result.status === "number"
            ? `HTTP ${result.status}: ${result.error ?? ""}`.trim()
            : result.error,
        duration: Date.now() - result.started,
      });
      const clientError =
        typeof result.status === "number" && result.status >= 400 && result.status < 500;
      if (clientError || i >= retryDelays.length) return { status: result.status, attempts };
      await new Promise((r) => setTimeout(r, retryDelays[i]));
    }
  }

  function record(
    stream: StoredEventStream,
    event: CloudEvent,
    attempts: StoredDelivery["attempts"],
  ) {
    const list = failed.get(stream.id) ?? [];
    const existing = list.find((d) => d.event.id === event.id);
    if (existing) existing.attempts.push(...attempts);
    else {
      list.push({
        id: event.id,
        event_stream_id: stream.id,
        status: "failed",
        event_type: event.type,
        attempts,
        event,
      });
    }
    failed.set(stream.id, list);
  }

  async function publish(event: CloudEvent) {
    const out: { streamId: string; status: number | "network_error" }[] = [];
    for (const stream of streams.values()) {
      if (stream.status !== "enabled") continue;
      if (!stream.subscriptions.some((s) => s.event_type === event.type)) continue;
      const result = await deliver(stream, event);
      if (
        result.attempts.length > 0 &&
        !(typeof result.status === "number" && result.status < 300)
      ) {
        record(stream, event, result.attempts);
      }
      out.push({ streamId: stream.id, status: result.status });
    }
    return out;
  }

  /** Redelivers the matching failed deliveries; a success removes one from the failed list. */
  async function redeliver(stream: StoredEventStream, matches: (d: StoredDelivery) => boolean) {
    const list = failed.get(stream.id) ?? [];
    for (const delivery of list.filter(matches)) {
      const result = await deliver(stream, delivery.event);
      if (typeof result.status === "number" && result.status < 300) {
        failed.set(
          stream.id,
          (failed.get(stream.id) ?? []).filter((d) => d.id !== delivery.id),
        );
      } else {
        delivery.attempts.push(...result.attempts);
      }
    }
  }

  function parseDate(value: unknown, field: string): number | undefined {
    if (value === undefined) return undefined;
    const ms = typeof value === "string" ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) throw invalid(`'${field}' must be an RFC-3339 date-time`);
    return ms;
  }

  function filter(params: Record<string, unknown>): (d: StoredDelivery) => boolean {
    const list = (v: unknown) =>
      v === undefined ? undefined : Array.isArray(v) ? v.map(String) : String(v).split(",");
    const statuses = list(params.statuses);
    const types = list(params.event_types);
    const from = parseDate(params.date_from, "date_from");
    const to = parseDate(params.date_to, "date_to");
    return (d) => {
      const at = Date.parse(d.attempts[d.attempts.length - 1]?.timestamp ?? d.event.time);
      return (
        (!statuses || statuses.includes(d.status)) &&
        (!types || types.includes(d.event_type)) &&
        (from === undefined || at >= from) &&
        (to === undefined || at < to)
      );
    };
  }

  const resource: EmulatorResource = {
    getQuery: GET_QUERY,
    route(req) {
      const m = /^\/api\/v2\/event-streams\/([^/]+)\/(deliveries|redeliver)(?:\/([^/]+))?$/.exec(
        req.path,
      );
      if (!m) return undefined;
      const stream = streams.get(decodeURIComponent(m[1]));
      const eventId = m[3] === undefined ? undefined : decodeURIComponent(m[3]);
      if (m[2] === "deliveries" && req.method === "GET") {
        requireScope(req, "read:event_deliveries");
        if (!stream) throw new HttpError(404, "Not Found", "The event stream does not exist.");
        const all = (failed.get(stream.id) ?? []).filter(filter(req.query));
        if (eventId !== undefined) {
          const one = all.find((d) => d.id === eventId);
          if (!one) throw new HttpError(404, "Not Found", "The delivery does not exist.");
          return [200, one];
        }
        const { page, next } = checkpointPage(all, req.query);
        return [200, { deliveries: page, ...(next ? { next } : {}) }];
      }
      if (m[2] === "redeliver" && req.method === "POST") {
        requireScope(req, "update:event_deliveries");
        if (!stream) throw new HttpError(404, "Not Found", "The event stream does not exist.");
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (eventId !== undefined) {
          if (!(failed.get(stream.id) ?? []).some((d) => d.id === eventId)) {
            throw new HttpError(404, "Not Found", "The delivery does not exist.");
          }
          return redeliver(stream, (d) => d.id === eventId).then(() => [202, undefined]);
        }
        onlyFields(body, REDELIVER_FIELDS, "body");
        const matches = filter(body);
        return redeliver(stream, matches).then(() => [202, body]);
      }
      return undefined;
    },
  };

  return {
    resource,
    publish,
    failedDeliveries: (streamId) => [...(failed.get(streamId) ?? [])],
    setRetryDelays(ms) {
      retryDelays = ms;
    },
  };
}
