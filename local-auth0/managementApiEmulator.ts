/**
 * The local Auth0 (see ./README.md): an HTTPS emulator of the Auth0 Management API that the tests,
 * the sandbox, the demo and the benchmarks share. This file is the tenant's front door: the client-credentials token (with the scopes each client was
 * granted), rate limiting, request recording and routing. Each area of the API lives in its own
 * file under ./emulator/ and follows Auth0's documented behaviour where the tools depend on it:
 * - every `/api/v2` call needs a bearer token from `POST /oauth/token` (client credentials, audience
 *   `https://{domain}/api/v2/`), and a call outside the token's scopes is a 403
 *   `insufficient_scope`; another audience (a custom domain used as the tenant's) is a 403
 *   "Service not found: <audience>";
 * - offset lists page with `page` / `per_page` (at most 100) and answer `{ total, page, per_page,
 *   <items> }`; query parameters an endpoint does not take are a 400;
 * - responses carry `x-ratelimit-limit`, `-remaining` and `-reset` (UNIX seconds), and past the
 *   per-second limit the answer is 429 with those headers only (no Retry-After), as Auth0 documents;
 * - a tenant on the Free plan (`plan: "free"`) has no export jobs (403) and 2 requests per second;
 * - event streams deliver CloudEvents to their webhooks (`deliveries.publish`), with Auth0's
 *   attempts, and keep the failures for `GET .../deliveries` and `POST .../redeliver`;
 * - the tenant is an OIDC issuer (discovery, JWKS, RS256 ID tokens: `oidc.issueIdToken`);
 * - access tokens are RS256 JWTs whose `iss` is `https://<tenant domain>/`, as Auth0's are, so a
 *   tool can tell which tenant it reached (`setTenantDomain` makes it another tenant's);
 * - every successful write appends the log events Auth0 writes (`sapi`, `sdu`), which
 *   `GET /api/v2/logs` serves with the plan's retention (./emulator/logs.ts).
 *
 * Every request is recorded. A route it does not know gets 404 and is listed in `unknownRoutes`,
 * so a test can fail when a tool calls something the emulator would silently skip.
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  HttpError,
  sameSecret,
  type EmulatorRequest,
  type EmulatorResource,
  type RouteResult,
} from "./emulator/common";
import {
  createActions,
  type StoredAction,
  type StoredBinding,
  type StoredVersion,
} from "./emulator/actions";
import { createEventStreams, type StoredEventStream } from "./emulator/eventStreams";
import { createEventDeliveries, type EventDeliveriesState } from "./emulator/eventDeliveries";
import { createOidc, type OidcState } from "./emulator/oidc";
import { createTickets, type TicketsState } from "./emulator/tickets";
import { createOrganizations, type OrganizationsState } from "./emulator/organizations";
import { createJobs, type JobsState, type TenantPlan } from "./emulator/jobs";
import { createUsers, type UsersState } from "./emulator/users";
import { createLogs, type LogsState } from "./emulator/logs";

export type { StoredAction, StoredBinding, StoredVersion } from "./emulator/actions";
export type { StoredEventStream } from "./emulator/eventStreams";
export type { CloudEvent, StoredDelivery } from "./emulator/eventDeliveries";
export type { StoredUser } from "./emulator/users";
export type { LogEvent } from "./emulator/logs";
export type { TenantPlan } from "./emulator/jobs";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

/** A machine-to-machine application and the Management API scopes its client grant allows. */
export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

/** Scopes of the default client: everything the emulated endpoints check. */
export const DEFAULT_SCOPES = [
  "read:actions",
  "create:actions",
  "update:actions",
  "delete:actions",
  "read:event_streams",
  "create:event_streams",
  "update:event_streams",
  "delete:event_streams",
  "read:event_deliveries",
  "update:event_deliveries",
  "read:users",
  "create:users",
  "update:users",
  "create:user_tickets",
  "read:organizations",
  "read:organization_members",
  "read:organization_member_roles",
  "delete:users",
  "create:organization_members",
  "delete:organization_members",
  "read:logs",
];

export interface EmulatorOptions {
  /** The default client, granted {@link DEFAULT_SCOPES}. */
  clientId: string;
  clientSecret: string;
  /** More clients with their own scopes (least-privilege credentials). */
  clients?: EmulatorClient[];
  /** PEM key and certificate the HTTPS server presents. */
  tls: { key: string; cert: string };
  /** How long a created or updated Action stays `pending` (default 2,500 ms). */
  buildDelayMs?: number;
  /** Requests per second before 429 (default 50; 2 on the Free plan). */
  rateLimitPerSecond?: number;
  /** The tenant's plan (default "paid"): "free" refuses export jobs. */
  plan?: TenantPlan;
  /** PEM of a CA to trust when delivering events to https webhooks (a local test host). */
  webhookCa?: string;
}

export interface ManagementApiEmulator {
  /** `127.0.0.1:<port>`: what goes in AUTH0_DOMAIN. */
  domain: string;
  actions: Map<string, StoredAction>;
  bindings: Map<string, StoredBinding[]>;
  eventStreams: Map<string, StoredEventStream>;
  requests: RecordedRequest[];
  /** Routes called that the emulator does not implement, as `METHOD /path`. */
  unknownRoutes: string[];
  /** Requests that change the tenant (everything but GET and the token call). */
  writes(): RecordedRequest[];
  /** Creates an Action directly in the tenant (as a hand-made one would be) and deploys it. */
  seedDeployedAction(name: string, code: string): StoredAction;
  /** Replaces a trigger's bindings directly, by action name. */
  seedBindings(triggerId: string, list: { actionName: string; displayName: string }[]): void;
  /** The trigger's bound Actions, in order, as `{ name, displayName }`. */
  boundActions(triggerId: string): { name: string; displayName: string }[];
  findAction(name: string): StoredAction | undefined;
  /** The deployed version of an Action, if any. */
  deployedVersion(action: StoredAction): StoredVersion | undefined;
  /** Creates an event stream directly in the tenant (as one made in the dashboard would be). */
  seedEventStream(body: Record<string, unknown>): StoredEventStream;
  /** The stream of that name, if any. */
  findEventStream(name: string): StoredEventStream | undefined;
  /** Publishing events to the streams' webhooks, and the failed deliveries. */
  deliveries: Omit<EventDeliveriesState, "resource">;
  /** The tenant as an OIDC issuer: its JWKS and ID tokens signed with its key. */
  oidc: Omit<OidcState, "resource">;
  /** Marks every Action as built now (to seed a tenant without waiting). */
  finishBuilds(): void;
  /** Changes the per-second request limit (past it: 429 with the rate-limit headers). */
  setRateLimit(perSecond: number): void;
  /**
   * Makes this address answer as another tenant: its access tokens name `tenantDomain` as their
   * issuer (`https://<tenantDomain>/`). `undefined` restores the emulator's own domain.
   */
  setTenantDomain(tenantDomain: string | undefined): void;
  /**
   * Changes the plan; "free" also sets the Free plan's 2 requests per second and its 1-day log
   * retention (`logs.setPlan` picks a paid plan's retention).
   */
  setPlan(plan: TenantPlan): void;
  /** Called after each successful deploy, e.g. to simulate a tenant that changed behind our back. */
  afterDeploy: ((action: StoredAction, version: StoredVersion) => void) | undefined;
  /** Called after each answered `GET /api/v2/users` (a page of a listing), with its query. */
  afterUsersList: ((query: Record<string, string>) => void) | undefined;
  /** The tenant's users, with seeding helpers. */
  users: UsersState["users"];
  seedUser: UsersState["seedUser"];
  updateUser: UsersState["updateUser"];
  removeUser: UsersState["removeUser"];
  /** Passwords given to `POST /users`, by user id. */
  passwords: UsersState["passwords"];
  /** Password-change tickets issued. */
  tickets: TicketsState["tickets"];
  /** Organizations, their members and member roles. */
  orgs: Omit<OrganizationsState, "resource">;
  /** Export jobs: delays, failures, link expiry. */
  jobs: Omit<JobsState, "resource">;
  /** The tenant log: every successful API write appends its events; plan and retention. */
  logs: Omit<LogsState, "resource">;
  /** Adds a machine-to-machine application (e.g. a least-privilege one) to the running tenant. */
  addClient(client: EmulatorClient): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts the emulator on 127.0.0.1 (random port). */
export async function startManagementApiEmulator(
  options: EmulatorOptions,
): Promise<ManagementApiEmulator> {
  let plan: TenantPlan = options.plan ?? "paid";
  let rateLimit = options.rateLimitPerSecond ?? (plan === "free" ? 2 : 50);
  const clients: EmulatorClient[] = [
    { clientId: options.clientId, clientSecret: options.clientSecret, scopes: DEFAULT_SCOPES },
    ...(options.clients ?? []),
  ];
  const requests: RecordedRequest[] = [];
  const unknownRoutes: string[] = [];
  /** Access token -> the scopes it was granted. */
  const tokens = new Map<string, ReadonlySet<string>>();
  /** Access token -> the client it was issued to (the `client_id` of its `sapi` log events). */
  const tokenClients = new Map<string, string>();
  let domain = "";
  /** The tenant whose tokens this address issues (default: its own domain). */
  let tenantDomain: string | undefined;
  let windowStart = 0;
  let windowCount = 0;

  const actions = createActions({
    buildDelayMs: options.buildDelayMs ?? 2_500,
    afterDeploy: () => emulator.afterDeploy,
  });
  const streams = createEventStreams();
  const deliveries = createEventDeliveries(streams.eventStreams, { ca: options.webhookCa });
  const oidc = await createOidc();
  const users = createUsers({ afterList: () => emulator.afterUsersList });
  const tickets = createTickets({ users: users.users, domain: () => domain });
  const orgs = createOrganizations();
  const jobs = createJobs({
    users: () => users.users.values(),
    domain: () => domain,
    plan: () => plan,
  });
  const logs = createLogs();
  if (plan === "free") logs.setPlan("free");
  const resources: EmulatorResource[] = [
    actions.resource,
    // Before the streams: its paths are under /event-streams/{id}/ with scopes of their own.
    deliveries.resource,
    streams.resource,
    users.resource,
    oidc.resource,
    tickets.resource,
    orgs.resource,
    jobs.resource,
    logs.resource,
  ];

  async function route(request: EmulatorRequest): Promise<RouteResult> {
    const { method, path, query } = request;
    // Like Auth0, refuse query parameters an endpoint does not take (e.g. include_totals on the
    // Actions lists), instead of ignoring them.
    const allowed = resources.flatMap((r) => r.getQuery).find(([re]) => re.test(path))?.[1] ?? [
      "page",
      "per_page",
    ];
    const extra = method === "GET" ? Object.keys(query).filter((k) => !allowed.includes(k)) : [];
    if (extra.length > 0) {
      throw new HttpError(
        400,
        "Bad Request",
        `Query validation error: 'Additional properties not allowed: ${extra.join(",")}'.`,
        "invalid_query_string",
      );
    }
    for (const resource of resources) {
      const result = await resource.route(request);
      if (result !== undefined) return result;
    }
    unknownRoutes.push(`${method} ${path}`);
    throw new HttpError(404, "Not Found", `No route ${method} ${path} in the emulator.`);
  }

  async function token(body: Record<string, unknown>): Promise<[number, unknown]> {
    const client =
      body.grant_type === "client_credentials" &&
      typeof body.client_id === "string" &&
      typeof body.client_secret === "string"
        ? clients.find(
            (c) =>
              sameSecret(body.client_id as string, c.clientId) &&
              sameSecret(body.client_secret as string, c.clientSecret),
          )
        : undefined;
    if (!client) {
      return [401, { error: "access_denied", error_description: "Unauthorized" }];
    }
    if (body.audience !== `https://${domain}/api/v2/`) {
      // What Auth0 answers when a custom domain is used where the tenant domain belongs.
      return [
        403,
        {
          error: "access_denied",
          error_description: `Service not found: ${String(body.audience)}`,
        },
      ];
    }
    const expiresIn = 86400;
    const accessToken = await oidc.issueAccessToken({
      tenantDomain: tenantDomain ?? domain,
      audience: `https://${domain}/api/v2/`,
      clientId: client.clientId,
      scopes: client.scopes,
      lifetimeS: expiresIn,
    });
    tokens.set(accessToken, new Set(client.scopes));
    tokenClients.set(accessToken, client.clientId);
    return [
      200,
      {
        access_token: accessToken,
        token_type: "Bearer",
        expires_in: expiresIn,
        scope: client.scopes.join(" "),
      },
    ];
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", `https://${domain}`);
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? "GET";
    const text = await readBody(req);
    let body: unknown = undefined;
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      body: undefined,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    const send = (statusCode: number, payload: unknown) => {
      record.status = statusCode;
      const nowS = Math.floor(Date.now() / 1000);
      if (nowS !== windowStart) {
        windowStart = nowS;
        windowCount = 0;
      }
      res.setHeader("x-ratelimit-limit", String(rateLimit));
      res.setHeader("x-ratelimit-remaining", String(Math.max(0, rateLimit - windowCount)));
      res.setHeader("x-ratelimit-reset", String(windowStart + 1));
      if (payload === undefined) {
        res.writeHead(statusCode).end();
      } else {
        res.writeHead(statusCode, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(payload));
      }
    };
    const reply = (result: RouteResult) => {
      if (Array.isArray(result)) return send(result[0], result[1]);
      record.status = result.status;
      res.writeHead(result.status, result.headers);
      if (Buffer.isBuffer(result.body)) res.end(result.body);
      // A streamed file (an export of a million users) is written as the client reads it.
      else result.body.pipe(res);
    };
    const sendError = (err: unknown) => {
      if (err instanceof HttpError) {
        send(err.status, {
          statusCode: err.status,
          error: err.error,
          message: err.message,
          ...(err.errorCode ? { errorCode: err.errorCode } : {}),
        });
      } else {
        send(500, { statusCode: 500, error: "Internal Server Error", message: String(err) });
      }
    };
    const nowS = Math.floor(Date.now() / 1000);
    if (nowS !== windowStart) {
      windowStart = nowS;
      windowCount = 0;
    }
    // Signed download links are served by storage, not the Management API: no rate limit.
    const limited = url.pathname.startsWith("/api/v2/") || url.pathname === "/oauth/token";
    if (limited) windowCount += 1;
    if (limited && windowCount > rateLimit) {
      send(429, {
        statusCode: 429,
        error: "Too Many Requests",
        message: "Global limit has been reached",
        errorCode: "too_many_requests",
      });
      return;
    }
    try {
      if (text) {
        const type = req.headers["content-type"] ?? "";
        body = type.includes("application/x-www-form-urlencoded")
          ? Object.fromEntries(new URLSearchParams(text))
          : JSON.parse(text);
      }
    } catch {
      send(400, { statusCode: 400, error: "Bad Request", message: "Invalid JSON" });
      return;
    }
    record.body = body;
    if (method === "POST" && url.pathname === "/oauth/token") {
      const [code, payload] = await token((body ?? {}) as Record<string, unknown>);
      send(code, payload);
      return;
    }
    const request: EmulatorRequest = {
      method,
      path: url.pathname,
      query,
      body,
      scopes: new Set<string>(),
      host: req.headers.host ?? domain,
    };
    if (!url.pathname.startsWith("/api/v2/")) {
      try {
        for (const resource of resources) {
          const result = await resource.publicRoute?.(request);
          if (result !== undefined) return reply(result);
        }
      } catch (err) {
        return sendError(err);
      }
      unknownRoutes.push(`${method} ${url.pathname}`);
      send(404, { statusCode: 404, error: "Not Found", message: "Not found" });
      return;
    }
    const auth = req.headers.authorization ?? "";
    const bearer = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    const granted = tokens.get(bearer);
    if (!granted) {
      send(401, {
        statusCode: 401,
        error: "Unauthorized",
        message: "Missing or invalid token",
        errorCode: "invalid_token",
      });
      return;
    }
    try {
      const result = await route({ ...request, scopes: granted });
      if (method !== "GET" && Array.isArray(result) && result[0] >= 200 && result[0] < 300) {
        logs.recordApiWrite({
          ...request,
          status: result[0],
          response: result[1],
          clientId: tokenClients.get(bearer),
        });
      }
      reply(result);
    } catch (err) {
      sendError(err);
    }
  }

  const server: Server = createServer(
    { key: options.tls.key, cert: options.tls.cert },
    (req, res) => {
      handle(req, res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  domain = `127.0.0.1:${address.port}`;

  const emulator: ManagementApiEmulator = {
    afterDeploy: undefined,
    afterUsersList: undefined,
    domain,
    actions: actions.actions,
    bindings: actions.bindings,
    eventStreams: streams.eventStreams,
    requests,
    unknownRoutes,
    writes: () => requests.filter((r) => r.method !== "GET" && r.path !== "/oauth/token"),
    seedDeployedAction: actions.seedDeployedAction,
    seedBindings: actions.seedBindings,
    boundActions: actions.boundActions,
    findAction: actions.findAction,
    deployedVersion: actions.deployedVersion,
    finishBuilds: actions.finishBuilds,
    seedEventStream: streams.seedEventStream,
    findEventStream: streams.findEventStream,
    deliveries,
    oidc,
    setRateLimit(perSecond) {
      rateLimit = perSecond;
    },
    setTenantDomain(value) {
      tenantDomain = value;
    },
    setPlan(next) {
      plan = next;
      if (next === "free") {
        rateLimit = 2;
        logs.setPlan("free");
      }
    },
    users: users.users,
    seedUser: users.seedUser,
    updateUser: users.updateUser,
    removeUser: users.removeUser,
    passwords: users.passwords,
    tickets: tickets.tickets,
    orgs,
    jobs,
    logs,
    addClient(client) {
      clients.push(client);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return emulator;
}
