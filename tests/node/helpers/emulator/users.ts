/**
 * Users in the Management API emulator, as the reconcile and copy commands see them:
 * - `GET /api/v2/users` pages with `page` / `per_page` (at most 100) and, like Auth0, refuses to
 *   page past the first 1,000 records (400 `invalid_paging`): it can never list a large tenant;
 * - `GET /api/v2/users/{id}` answers 404 `inexistent_user` for a user that does not exist.
 * Every call needs `read:users`.
 */
import { HttpError, pageParams, requireScope, type EmulatorResource } from "./common";

/** An Auth0 user as the emulator stores it (the attributes the API returns). */
export interface StoredUser {
  user_id: string;
  email?: string;
  email_verified: boolean;
  name?: string;
  nickname?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  identities: { connection: string; provider: string; user_id: string; isSocial: boolean }[];
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** Anything else a test wants the user to carry. */
  [key: string]: unknown;
}

/** Auth0 answers 400 for any page that reaches past this many records. */
export const LIST_CAP = 1000;

const GET_QUERY: [RegExp, string[]][] = [
  [
    /^\/api\/v2\/users$/,
    [
      "page",
      "per_page",
      "include_totals",
      "sort",
      "fields",
      "include_fields",
      "q",
      "search_engine",
    ],
  ],
  [/^\/api\/v2\/users\/[^/]+$/, ["fields", "include_fields"]],
];

export interface UsersState {
  resource: EmulatorResource;
  users: Map<string, StoredUser>;
  /** Adds (or replaces) a user; missing attributes get Auth0-like defaults. */
  seedUser(user: Partial<StoredUser> & { user_id: string }): StoredUser;
  /** Changes a user as an admin would: the attributes given, and `updated_at` moves to now. */
  updateUser(userId: string, patch: Partial<StoredUser>): StoredUser;
  /** Deletes a user. */
  removeUser(userId: string): void;
}

/** An Auth0-shaped user for `user_id`, with `overrides` applied. */
export function makeUser(overrides: Partial<StoredUser> & { user_id: string }): StoredUser {
  const now = new Date().toISOString();
  const [provider, ...rest] = overrides.user_id.split("|");
  const local = overrides.user_id.replace(/\W/g, "");
  return {
    email: `${local}@example.com`,
    email_verified: true,
    name: `User ${local}`,
    nickname: local,
    picture: `https://cdn.example.com/${local}.png`,
    identities: [
      {
        connection: provider === "auth0" ? "Username-Password-Authentication" : provider,
        provider,
        user_id: rest.join("|"),
        isSocial: provider !== "auth0",
      },
    ],
    app_metadata: {},
    user_metadata: {},
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

/** The users area of a tenant. */
export function createUsers(): UsersState {
  const users = new Map<string, StoredUser>();

  const resource: EmulatorResource = {
    getQuery: GET_QUERY,
    route(req) {
      const { method, path, query } = req;
      if (path !== "/api/v2/users" && !path.startsWith("/api/v2/users/")) return undefined;
      if (method === "GET" && path === "/api/v2/users") {
        requireScope(req, "read:users");
        const { page, perPage } = pageParams(query);
        if ((page + 1) * perPage > LIST_CAP) {
          throw new HttpError(
            400,
            "Bad Request",
            "You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation",
            "invalid_paging",
          );
        }
        const all = [...users.values()];
        const slice = all.slice(page * perPage, (page + 1) * perPage);
        if (query.include_totals === "true") {
          return [
            200,
            {
              start: page * perPage,
              limit: perPage,
              length: slice.length,
              total: all.length,
              users: slice,
            },
          ];
        }
        return [200, slice];
      }
      const match = /^\/api\/v2\/users\/([^/]+)$/.exec(path);
      if (match && method === "GET") {
        requireScope(req, "read:users");
        const user = users.get(decodeURIComponent(match[1]));
        if (!user) {
          throw new HttpError(404, "Not Found", "The user does not exist.", "inexistent_user");
        }
        return [200, user];
      }
      return undefined;
    },
  };

  return {
    resource,
    users,
    seedUser(overrides) {
      const user = makeUser(overrides);
      users.set(user.user_id, user);
      return user;
    },
    updateUser(userId, patch) {
      const user = users.get(userId);
      if (!user) throw new Error(`updateUser: no user ${userId}`);
      const next = { ...user, ...patch, updated_at: patch.updated_at ?? new Date().toISOString() };
      users.set(userId, next);
      return next;
    },
    removeUser(userId) {
      users.delete(userId);
    },
  };
}
