/**
 * Shared pieces of the Event Stream tests: Auth0-shaped CloudEvents, delivery through the real
 * `convex/http.ts` router (`t.fetch`), and a snapshot of every table the receiver may write.
 */
import type { convexTest } from "convex-test";
import { EVENTS_PATH } from "../../../server/events/events";

export type T = ReturnType<typeof convexTest>;

export const DOMAIN = "tenant.us.auth0.com";
export const CUSTOM_DOMAIN = "login.example.com";
export const TOKEN = "WXcOXNFPvKtE_Ue5ChNu6hogUk2IDfoI8bXAoCSEJQI";
export const PREVIOUS_TOKEN = "q9W6e0ndqRVigl7ObAinPJ2Cxx4iIlMZrHf-tJ59-hs";

/** The environment a deployment receiving events has. */
export function setEventsEnv(): void {
  process.env.AUTH0_DOMAIN = DOMAIN;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  process.env.AUTH0_EVENTS_TOKEN = TOKEN;
  delete process.env.AUTH0_EVENTS_TOKEN_PREVIOUS;
  process.env.CONVEX_SITE_URL = "https://happy-otter-123.convex.site";
}

const iso = (ms: number) => new Date(ms).toISOString();

/** An Auth0 user object as Event Streams send it in `data.object`. */
export function userObject(
  userId: string,
  updatedAt: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const local = userId.replace(/\W/g, "");
  return {
    user_id: userId,
    email: `${local}@example.com`,
    email_verified: true,
    name: `User ${local}`,
    nickname: local,
    given_name: "Ada",
    family_name: "Lovelace",
    picture: `https://cdn.example.com/${local}.png`,
    identities: [{ connection: "Username-Password-Authentication", provider: "auth0" }],
    app_metadata: { plan: "pro" },
    user_metadata: {},
    created_at: iso(updatedAt - 60_000),
    updated_at: iso(updatedAt),
    ...overrides,
  };
}

let counter = 0;
/** A fresh Auth0-style event id. */
export const nextEventId = () => `evt_${(++counter).toString(16).padStart(16, "0")}`;

/** A CloudEvents 1.0 envelope as Auth0 delivers it. */
export function cloudEvent(opts: {
  type: string;
  time: number;
  object?: Record<string, unknown>;
  id?: string;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    id: opts.id ?? nextEventId(),
    source: "urn:auth0:tenant.us.auth0.com",
    specversion: "1.0",
    type: opts.type,
    time: iso(opts.time),
    data: { object: opts.object ?? {} },
    a0tenant: "tenant",
    a0stream: "est_38ANnv8pQhqsZrX2",
    ...opts.extra,
  };
}

export function userEvent(
  type: "user.created" | "user.updated" | "user.deleted",
  userId: string,
  time: number,
  overrides: Record<string, unknown> = {},
  id?: string,
): Record<string, unknown> {
  const object = userObject(userId, time, overrides);
  if (type === "user.deleted") {
    // A deleted profile keeps its last updated_at; deleted_at is the deletion.
    if (!("deleted_at" in overrides)) object.deleted_at = iso(time);
    if (!("updated_at" in overrides)) object.updated_at = iso(time - 1000);
  }
  return cloudEvent({ type, time, object, id });
}

/** POSTs a body to /auth0/events the way Auth0's webhook destination does. */
export async function deliver(
  t: T,
  event: Record<string, unknown> | string | Uint8Array,
  opts: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  Object.assign(headers, opts.headers);
  const body =
    typeof event === "string" || event instanceof Uint8Array ? event : JSON.stringify(event);
  const res = await t.fetch(EVENTS_PATH, { method: "POST", headers, body: body as BodyInit });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // left empty: the caller asserts on status and text
  }
  return { status: res.status, text, json };
}

/** Every table the receiver may write. */
export async function tables(t: T) {
  return await t.run(async (ctx) => ({
    users: await ctx.db.query("users").collect(),
    events: await ctx.db.query("auth0Events").collect(),
    tombstones: await ctx.db.query("auth0UserTombstones").collect(),
  }));
}

export async function expectNothingWritten(t: T, expect: typeof import("vitest").expect) {
  const all = await tables(t);
  expect(all.users).toEqual([]);
  expect(all.events).toEqual([]);
  expect(all.tombstones).toEqual([]);
}

/** A small seeded generator (mulberry32): the property tests replay the same histories. */
export function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}
