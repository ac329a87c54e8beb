/**
 * Organizations in the Management API emulator, as the reconcile reads them:
 * - `GET /api/v2/organizations` with checkpoint paging (`from`, `take` up to 100; the answer is
 *   `{ organizations, next? }`), `read:organizations`;
 * - `GET /api/v2/organizations/{id}`: 404 when it does not exist;
 * - `GET /api/v2/users/{id}/organizations` (offset paging), `read:organizations`;
 * - `GET /api/v2/organizations/{id}/members`, checkpoint paged (`{ members, next? }`), scope
 *   `read:organization_members`; `fields=roles` adds each member's roles (`[{ id, name }]`) and
 *   needs `read:organization_member_roles` as well, as on Auth0;
 * - `POST` / `DELETE /api/v2/organizations/{id}/members` `{ members: [...] }` add and remove
 *   members (`create:` / `delete:organization_members`), logged like every API write;
 * - `GET /api/v2/organizations/{id}/members/{user_id}/roles`: one member's roles (404 for a
 *   non-member), `read:organization_member_roles`.
 */
import { randomBytes } from "node:crypto";
import {
  checkpointPage,
  HttpError,
  pageParams,
  requireScope,
  type EmulatorResource,
} from "./common";

export interface StoredOrganization {
  id: string;
  name: string;
  display_name?: string;
  metadata?: Record<string, string>;
  /** user_id -> role names */
  members: Map<string, Set<string>>;
  /** Members the member list does not show yet (Auth0 documents it as eventually consistent). */
  notListedYet: Set<string>;
}

const GET_QUERY: [RegExp, string[]][] = [
  [/^\/api\/v2\/organizations$/, ["from", "take", "include_totals", "page", "per_page", "sort"]],
  [/^\/api\/v2\/organizations\/[^/]+$/, []],
  [/^\/api\/v2\/users\/[^/]+\/organizations$/, ["page", "per_page", "include_totals"]],
  [
    /^\/api\/v2\/organizations\/[^/]+\/members\/[^/]+\/roles$/,
    ["page", "per_page", "include_totals"],
  ],
  [
    /^\/api\/v2\/organizations\/[^/]+\/members$/,
    ["from", "take", "include_totals", "fields", "include_fields", "page", "per_page"],
  ],
];

export interface OrganizationsState {
  resource: EmulatorResource;
  organizations: Map<string, StoredOrganization>;
  seedOrganization(o: {
    id?: string;
    name: string;
    display_name?: string;
    metadata?: Record<string, string>;
  }): StoredOrganization;
  /** Adds a member (or changes their roles) directly, as the Dashboard would. */
  setMember(orgId: string, userId: string, roles?: string[]): void;
  removeMember(orgId: string, userId: string): void;
  removeOrganization(orgId: string): void;
}

const orgOut = (o: StoredOrganization) => ({
  id: o.id,
  name: o.name,
  ...(o.display_name !== undefined ? { display_name: o.display_name } : {}),
  ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
});

/** The organizations area of a tenant. */
export function createOrganizations(): OrganizationsState {
  const organizations = new Map<string, StoredOrganization>();
  const get = (id: string) => {
    const org = organizations.get(id);
    if (!org) throw new HttpError(404, "Not Found", "No organization found by that id.");
    return org;
  };

  const resource: EmulatorResource = {
    getQuery: GET_QUERY,
    route(req) {
      const ofUser = /^\/api\/v2\/users\/([^/]+)\/organizations$/.exec(req.path);
      if (ofUser && req.method === "GET") {
        // A user's organizations: offset paging, as on Auth0.
        requireScope(req, "read:organizations");
        const userId = decodeURIComponent(ofUser[1]);
        const all = [...organizations.values()].filter((o) => o.members.has(userId)).map(orgOut);
        const { page, perPage } = pageParams(req.query);
        const slice = all.slice(page * perPage, (page + 1) * perPage);
        return [
          200,
          req.query.include_totals === "true"
            ? { organizations: slice, start: page * perPage, limit: perPage, total: all.length }
            : slice,
        ];
      }
      const memberWrite = /^\/api\/v2\/organizations\/([^/]+)\/members$/.exec(req.path);
      if (memberWrite && (req.method === "POST" || req.method === "DELETE")) {
        // Adds or removes members, `{ members: [user_id, ...] }`, as the Dashboard does: 204.
        const adding = req.method === "POST";
        requireScope(req, adding ? "create:organization_members" : "delete:organization_members");
        const org = get(decodeURIComponent(memberWrite[1]));
        const ids = (req.body as { members?: unknown } | undefined)?.members;
        if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== "string")) {
          throw new HttpError(
            400,
            "Bad Request",
            "Payload validation error: 'members' must be a non-empty array of user ids",
            "invalid_body",
          );
        }
        for (const id of ids as string[]) {
          if (adding && !org.members.has(id)) org.members.set(id, new Set());
          if (!adding) org.members.delete(id);
        }
        return [204, undefined];
      }
      const memberRoles = /^\/api\/v2\/organizations\/([^/]+)\/members\/([^/]+)\/roles$/.exec(
        req.path,
      );
      if (memberRoles && req.method === "GET") {
        requireScope(req, "read:organization_member_roles");
        const roles = get(decodeURIComponent(memberRoles[1])).members.get(
          decodeURIComponent(memberRoles[2]),
        );
        if (!roles)
          throw new HttpError(404, "Not Found", "The user is not a member of the organization.");
        const all = [...roles].map((name) => ({ id: `rol_${name}`, name }));
        const { page, perPage } = pageParams(req.query);
        return [200, all.slice(page * perPage, (page + 1) * perPage)];
      }
      if (!req.path.startsWith("/api/v2/organizations") || req.method !== "GET") return undefined;
      if (req.path === "/api/v2/organizations") {
        requireScope(req, "read:organizations");
        const { page, next } = checkpointPage([...organizations.values()], req.query);
        return [200, { organizations: page.map(orgOut), ...(next ? { next } : {}) }];
      }
      const members = /^\/api\/v2\/organizations\/([^/]+)\/members$/.exec(req.path);
      if (members) {
        requireScope(req, "read:organization_members");
        const org = get(decodeURIComponent(members[1]));
        const fields = req.query.fields?.split(",").map((f) => f.trim());
        const withRoles = fields?.includes("roles") && req.query.include_fields !== "false";
        if (withRoles) requireScope(req, "read:organization_member_roles");
        const listed = [...org.members].filter(([user_id]) => !org.notListedYet.has(user_id));
        const all = listed.map(([user_id, roles]) => {
          const member: Record<string, unknown> = {
            user_id,
            email: `${user_id.replace(/\W/g, "")}@example.com`,
          };
          if (withRoles) member.roles = [...roles].map((name) => ({ id: `rol_${name}`, name }));
          if (fields && req.query.include_fields !== "false") {
            for (const key of Object.keys(member)) if (!fields.includes(key)) delete member[key];
          }
          return member;
        });
        const { page, next } = checkpointPage(all, req.query);
        return [200, { members: page, ...(next ? { next } : {}) }];
      }
      const one = /^\/api\/v2\/organizations\/([^/]+)$/.exec(req.path);
      if (one) {
        requireScope(req, "read:organizations");
        return [200, orgOut(get(decodeURIComponent(one[1])))];
      }
      return undefined;
    },
  };

  return {
    resource,
    organizations,
    seedOrganization(o) {
      const org: StoredOrganization = {
        id: o.id ?? `org_${randomBytes(8).toString("hex")}`,
        name: o.name,
        ...(o.display_name !== undefined ? { display_name: o.display_name } : {}),
        ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
        members: new Map(),
        notListedYet: new Set(),
      };
      organizations.set(org.id, org);
      return org;
    },
    setMember(orgId, userId, roles = []) {
      get(orgId).members.set(userId, new Set(roles));
    },
    removeMember(orgId, userId) {
      get(orgId).members.delete(userId);
    },
    removeOrganization(orgId) {
      organizations.delete(orgId);
    },
  };
}
