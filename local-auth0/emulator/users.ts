/**
 * Users in the Management API emulator, as the reconcile and copy commands see them:
 * - `GET /api/v2/users` pages with `page` / `per_page` (at most 100) and, like Auth0, refuses to
 *   page past the first 1,000 records (400 `invalid_paging`): it can never list a large tenant;
 *   it searches with `q` / `sort` / `fields` as userSearch.ts describes (the v3 search), and the
 *   1,000-record cap applies to each query;
 * - `GET /api/v2/users/{id}` answers 404 `inexistent_user` for a user that does not exist;
 * - `POST /api/v2/users` creates a user in a database connection (`create:users`): 409 when the
 *   email already exists in that connection, 400 when the password fails the connection's policy
 *   (Auth0's "good": 8+ characters and 3 of lower case, upper case, digits, symbols);
 * - `PATCH /api/v2/users/{id}` (`update:users`) merges `user_metadata` and `app_metadata` at the
 *   top level, as Auth0 does;
 * - `DELETE /api/v2/users/{id}` (`delete:users`) answers 204, existing or not.
 * Reads need `read:users`.
 */
import { randomBytes } from "node:crypto";
import {
  HttpError,
  invalid,
  onlyFields,
  pageParams,
  requireScope,
  type EmulatorResource,
} from "./common";
import { projectFields, searchUsers } from "./userSearch";

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
  /** The passwords `POST /users` was given, by user id (tests check what a tool chose). */
  passwords: Map<string, string>;
}

/** The database connections of an emulated tenant. */
export const DATABASE_CONNECTIONS = new Set(["Username-Password-Authentication"]);

const CREATE_FIELDS = [
  "connection",
  "email",
  "email_verified",
  "verify_email",
  "password",
  "name",
  "nickname",
  "given_name",
  "family_name",
  "picture",
  "user_metadata",
  "app_metadata",
  "blocked",
  "user_id",
  "username",
  "phone_number",
];
const PATCH_FIELDS = [
  "name",
  "nickname",
  "given_name",
  "family_name",
  "picture",
  "user_metadata",
  "app_metadata",
  "blocked",
  "email",
  "email_verified",
  "password",
  "connection",
];

/** Auth0's "good" password policy: at least 8 characters and 3 of the 4 character kinds. */
function weakPassword(password: string): boolean {
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password));
  return password.length < 8 || kinds.length < 3;
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
export function createUsers(
  options: {
    /** Called after each answered `GET /api/v2/users` (e.g. to change the tenant mid-listing). */
    afterList?: () => ((query: Record<string, string>) => void) | undefined;
  } = {},
): UsersState {
  const users = new Map<string, StoredUser>();
  const passwords = new Map<string, string>();

  function createUser(body: Record<string, unknown>): StoredUser {
    onlyFields(body, CREATE_FIELDS, "body");
    const connection = body.connection;
    if (typeof connection !== "string" || connection === "") {
      throw invalid("Missing required property: connection");
    }
    if (!DATABASE_CONNECTIONS.has(connection)) {
      throw new HttpError(
        400,
        "Bad Request",
        "The connection does not exist.",
        "inexistent_connection",
      );
    }
    const email = body.email;
    if (typeof email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw invalid("Object didn't pass validation for format email");
    }
    const password = body.password;
    if (typeof password !== "string") throw invalid("Missing required property: password");
    if (weakPassword(password)) {
      throw new HttpError(
        400,
        "Bad Request",
        "PasswordStrengthError: Password is too weak",
        "invalid_body",
      );
    }
    const taken = [...users.values()].some(
      (u) =>
        u.email?.toLowerCase() === email.toLowerCase() &&
        u.identities.some((i) => i.connection === connection),
    );
    if (taken) throw new HttpError(409, "Conflict", "The user already exists.", "auth0_idp_error");
    const id = randomBytes(12).toString("hex");
    const now = new Date().toISOString();
    const user: StoredUser = {
      user_id: `auth0|${id}`,
      email,
      email_verified: body.email_verified === true,
      ...Object.fromEntries(
        ["name", "nickname", "given_name", "family_name", "picture"]
          .filter((k) => typeof body[k] === "string")
          .map((k) => [k, body[k]]),
      ),
      nickname: typeof body.nickname === "string" ? body.nickname : email.split("@")[0],
      identities: [{ connection, provider: "auth0", user_id: id, isSocial: false }],
      app_metadata: (body.app_metadata as Record<string, unknown>) ?? {},
      user_metadata: (body.user_metadata as Record<string, unknown>) ?? {},
      created_at: now,
      updated_at: now,
    };
    users.set(user.user_id, user);
    passwords.set(user.user_id, password);
    return user;
  }

  function patchUser(user: StoredUser, body: Record<string, unknown>): StoredUser {
    onlyFields(body, PATCH_FIELDS, "body");
    const next: StoredUser = { ...user, updated_at: new Date().toISOString() };
    for (const [key, value] of Object.entries(body)) {
      if (key === "user_metadata" || key === "app_metadata") {
        const merged = { ...(user[key] as Record<string, unknown>) };
        for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        next[key] = merged;
      } else if (key === "password") {
        if (typeof value !== "string" || weakPassword(value)) {
          throw new HttpError(
            400,
            "Bad Request",
            "PasswordStrengthError: Password is too weak",
            "invalid_body",
          );
        }
        passwords.set(user.user_id, value);
      } else if (key !== "connection") {
        next[key] = value;
      }
    }
    users.set(user.user_id, next);
    return next;
  }

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
        const all = searchUsers(users.values(), query);
        const slice = all
          .slice(page * perPage, (page + 1) * perPage)
          .map((u) => projectFields(u, query));
        options.afterList?.()?.(query);
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
      if (method === "POST" && path === "/api/v2/users") {
        requireScope(req, "create:users");
        return [201, createUser((req.body ?? {}) as Record<string, unknown>)];
      }
      const match = /^\/api\/v2\/users\/([^/]+)$/.exec(path);
      if (match && method === "PATCH") {
        requireScope(req, "update:users");
        const user = users.get(decodeURIComponent(match[1]));
        if (!user) {
          throw new HttpError(404, "Not Found", "The user does not exist.", "inexistent_user");
        }
        return [200, patchUser(user, (req.body ?? {}) as Record<string, unknown>)];
      }
      if (match && method === "DELETE") {
        // Auth0 answers 204 whether or not the user existed.
        requireScope(req, "delete:users");
        users.delete(decodeURIComponent(match[1]));
        return [204, undefined];
      }
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
    passwords,
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
