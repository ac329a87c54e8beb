/**
 * The Auth0 Actions runtime's objects, emulated: an `event` factory shaped like Auth0's post-login
 * v3 event, and an `api` that records what the Action asked for (claims, denials, metadata) as
 * plain state. The emulated trigger (emulator/postLoginWorker.ts) runs the built Action with them;
 * tests and the Action's benchmark call the Action with them directly and assert on that state.
 */
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";

/** The tenant's canonical domain of these events (Convex's AUTH0_DOMAIN). */
export const TENANT_DOMAIN = "tenant.us.auth0.com";
/** A custom domain in front of the tenant (Convex's AUTH0_CUSTOM_DOMAIN). */
export const CUSTOM_DOMAIN = "login.example.com";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface EventOptions {
  /** Merged over the default user (top-level keys replace). */
  user?: Partial<Event["user"]>;
  /** Merged over the default request. */
  request?: Partial<Event["request"]>;
  /** The Action's secrets, as bound in the tenant. */
  secrets?: Record<string, string>;
  organization?: Event["organization"];
  /** `event.authorization.roles`; omitted when undefined. */
  roles?: string[];
  extra?: DeepPartial<Event>;
}

/** A realistic post-login event for a database-connection user. */
export function makeEvent(options: EventOptions = {}): Event {
  const userId = options.user?.user_id ?? "auth0|65f0c0ffee00000000000001";
  const user: Event["user"] = {
    user_id: userId,
    email: "ada@example.com",
    email_verified: true,
    name: "Ada Lovelace",
    nickname: "ada",
    given_name: "Ada",
    family_name: "Lovelace",
    picture: "https://s.gravatar.com/avatar/ada.png",
    created_at: "2026-01-02T03:04:05.000Z",
    updated_at: "2026-11-01T10:00:00.000Z",
    identities: [
      {
        connection: "Username-Password-Authentication",
        provider: "auth0",
        user_id: userId.split("|").slice(1).join("|"),
        isSocial: false,
      },
    ],
    app_metadata: {},
    user_metadata: { theme: "dark" },
    ...options.user,
  };
  const event = {
    user,
    request: {
      hostname: TENANT_DOMAIN,
      ip: "203.0.113.7",
      method: "GET",
      language: "en-GB",
      user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
      query: { response_type: "code", scope: "openid profile email" },
      body: {},
      geoip: { countryCode: "GB", cityName: "London", timeZone: "Europe/London" },
      ...options.request,
    },
    client: { client_id: "c1ientIdAbc123", name: "My App", metadata: {} },
    connection: {
      id: "con_abc123",
      name: "Username-Password-Authentication",
      strategy: "auth0",
    },
    tenant: { id: "tenant" },
    stats: { logins_count: 3 },
    transaction: { id: "tx_123", locale: "en", protocol: "oidc-basic-profile", metadata: {} },
    secrets: { ...options.secrets },
    configuration: {},
    ...(options.organization ? { organization: options.organization } : {}),
    ...(options.roles ? { authorization: { roles: options.roles } } : {}),
    ...options.extra,
  };
  return event as Event;
}

/** What the Action did to the login, as Auth0 would apply it. */
export interface ApiState {
  idTokenClaims: Record<string, unknown>;
  accessTokenClaims: Record<string, unknown>;
  /** Reasons passed to `api.access.deny`; empty means the login goes on. */
  denied: string[];
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
  cache: Map<string, string>;
}

/** An `api` double recording state. `throwOnClaims` makes `setCustomClaim` throw (fault test). */
export function makeApi(options: { throwOnClaims?: boolean } = {}): {
  api: PostLoginAPI;
  state: ApiState;
} {
  const state: ApiState = {
    idTokenClaims: {},
    accessTokenClaims: {},
    denied: [],
    appMetadata: {},
    userMetadata: {},
    cache: new Map(),
  };
  const api: PostLoginAPI = {
    access: {
      deny(reason) {
        state.denied.push(reason);
        return api;
      },
    },
    idToken: {
      setCustomClaim(key, value) {
        if (options.throwOnClaims) throw new Error("claims unavailable");
        state.idTokenClaims[key] = value;
        return api;
      },
    },
    accessToken: {
      setCustomClaim(key, value) {
        if (options.throwOnClaims) throw new Error("claims unavailable");
        state.accessTokenClaims[key] = value;
        return api;
      },
      addScope() {},
      removeScope() {},
    },
    user: {
      setAppMetadata(key, value) {
        state.appMetadata[key] = value;
        return api;
      },
      setUserMetadata(key, value) {
        state.userMetadata[key] = value;
        return api;
      },
    },
    cache: {
      get(key) {
        const value = state.cache.get(key);
        return value === undefined ? undefined : { value, expires_at: Date.now() + 900_000 };
      },
      set(key, value) {
        state.cache.set(key, value);
        return { type: "success", record: { value, expires_at: Date.now() + 900_000 } };
      },
      delete(key) {
        state.cache.delete(key);
        return { type: "success" };
      },
    },
  };
  return { api, state };
}
