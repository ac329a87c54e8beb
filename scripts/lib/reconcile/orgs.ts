/**
 * The organizations half of a reconcile (`check-sync --orgs`, `sync --orgs`): every organization,
 * member and member role in Auth0 (checkpoint paging with `from` / `take`, complete past 1,000)
 * compared with the `auth0Organizations` and `auth0Memberships` cache in Convex, and the repair applied
 * through the signed org sync routes. Changes are dated with the time the listing started, so a
 * login or an event that happened since always wins.
 */
import type { ManagementClient } from "auth0";
import type { ConvexSyncClient, OrgBatch } from "./convexClient";
import { managementFailure } from "./errors";
import type { Progress } from "./progress";
import {
  auth0MetadataEntries,
  sameMetadata,
  type MetadataEntries,
  type StoredMetadata,
} from "../../../server/orgMetadata";

interface Auth0Org {
  name: string;
  displayName: string | null;
  /** Entries, never an object: any key Auth0 accepts (`__proto__` too) is data. */
  metadata: MetadataEntries | null;
}

export interface OrgReconciliation {
  /** When the Auth0 listing started (ms): the time the repair is dated with. */
  at: number;
  counts: {
    auth0Organizations: number;
    auth0Memberships: number;
    convexOrganizations: number;
    convexMemberships: number;
  };
  missingOrganizations: string[];
  organizationDrift: { auth0OrgId: string; fields: string[] }[];
  /** Convex organizations Auth0 confirmed gone (404). */
  organizationOrphans: string[];
  missingMemberships: { auth0OrgId: string; auth0UserId: string }[];
  roleDrift: {
    auth0OrgId: string;
    auth0UserId: string;
    auth0Roles: string[];
    convexRoles: string[];
  }[];
  /** Memberships Convex holds that Auth0 confirmed gone (the member list and the user's own
   * organizations both lack them). */
  extraMemberships: { auth0OrgId: string; auth0UserId: string }[];
  /** Missing from a member list but still among the user's organizations (the list lags):
   * left alone. */
  membershipsNotListedYet: { auth0OrgId: string; auth0UserId: string }[];
  /** The Convex rows of the organizations and memberships Auth0 confirmed gone (see
   * {@link rowsRemovedBy}); `purged`: the memberships a gone organization's deletion removes. */
  removable: {
    organizations: Record<string, unknown>[];
    memberships: Record<string, unknown>[];
    purged: Record<string, unknown>[];
  };
  auth0: Map<string, Auth0Org>;
  auth0Members: Map<string, Map<string, string[]>>;
}

const sorted = (xs: string[]) => [...xs].sort();
const key = (org: string, user: string) => `${org}\u0000${user}`;

/** Reads every organization, member and member role of the tenant. */
async function listAuth0(client: ManagementClient, progress: Progress) {
  const orgs = new Map<string, Auth0Org>();
  const members = new Map<string, Map<string, string[]>>();
  progress.phase("Auth0 organizations");
  try {
    for await (const org of await client.organizations.list({ take: 100 })) {
      orgs.set(org.id!, {
        name: org.name!,
        displayName: org.display_name || null,
        metadata: auth0MetadataEntries(org.metadata),
      });
      progress.tick();
    }
  } catch (err) {
    throw managementFailure(err, "listing the organizations (read:organizations)");
  }
  progress.phase("Auth0 members", orgs.size);
  for (const id of orgs.keys()) {
    const list = new Map<string, string[]>();
    try {
      const page = await client.organizations.members.list(id, {
        take: 100,
        fields: "user_id,roles",
        include_fields: true,
      });
      for await (const m of page) {
        list.set(m.user_id!, sorted((m.roles ?? []).map((r) => r.name!)));
      }
    } catch (err) {
      throw managementFailure(
        err,
        `listing the members of ${id} (read:organization_members, read:organization_member_roles)`,
      );
    }
    members.set(id, list);
    progress.tick();
  }
  return { orgs, members };
}

/** The organizations Auth0 lists for one user (`GET /api/v2/users/{id}/organizations`). */
async function userOrganizations(client: ManagementClient, userId: string): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for await (const org of await client.users.organizations.list(userId, { per_page: 100 })) {
      ids.add(org.id!);
    }
  } catch (err) {
    // A user deleted from Auth0 belongs to no organization.
    if ((err as { statusCode?: number }).statusCode === 404) return ids;
    throw managementFailure(err, `listing the organizations of ${userId} (read:organizations)`);
  }
  return ids;
}

/** Compares Auth0's organizations with Convex's cache. Writes nothing. */
export async function reconcileOrgs(
  auth0: ManagementClient,
  convex: ConvexSyncClient,
  progress: Progress,
): Promise<OrgReconciliation> {
  const at = Date.now();
  const { orgs, members } = await listAuth0(auth0, progress);
  progress.phase("Convex organizations");
  const convexOrgs: Record<string, unknown>[] = [];
  for await (const page of convex.orgRows("auth0Organizations")) convexOrgs.push(...page);
  const convexMembers: Record<string, unknown>[] = [];
  for await (const page of convex.orgRows("auth0Memberships")) convexMembers.push(...page);

  const r: OrgReconciliation = {
    at,
    counts: {
      auth0Organizations: orgs.size,
      auth0Memberships: [...members.values()].reduce((n, m) => n + m.size, 0),
      convexOrganizations: convexOrgs.length,
      convexMemberships: convexMembers.length,
    },
    missingOrganizations: [],
    organizationDrift: [],
    organizationOrphans: [],
    missingMemberships: [],
    roleDrift: [],
    extraMemberships: [],
    membershipsNotListedYet: [],
    removable: { organizations: [], memberships: [], purged: [] },
    auth0: orgs,
    auth0Members: members,
  };
  const inConvex = new Map(convexOrgs.map((o) => [String(o.auth0OrgId), o]));
  for (const [id, org] of orgs) {
    const row = inConvex.get(id);
    if (!row) {
      r.missingOrganizations.push(id);
      continue;
    }
    const fields: string[] = [];
    if (row.name !== org.name) fields.push("name");
    if ((row.displayName ?? null) !== org.displayName) fields.push("displayName");
    // Convex stores metadata as { key, value } entries (older rows: an object).
    if (!sameMetadata(row.metadata as StoredMetadata | undefined, org.metadata))
      fields.push("metadata");
    if (fields.length > 0) r.organizationDrift.push({ auth0OrgId: id, fields });
  }
  const candidates = [...inConvex.keys()].filter((id) => !orgs.has(id));
  if (candidates.length > 0) {
    progress.phase("Auth0 organization check", candidates.length);
    for (const id of candidates) {
      try {
        await auth0.organizations.get(id);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) {
          r.organizationOrphans.push(id);
          r.removable.organizations.push(inConvex.get(id)!);
        } else throw managementFailure(err, `checking whether organization ${id} still exists`);
      }
      progress.tick();
    }
  }

  // Deleting an organization purges its memberships: they belong in the backup too.
  const goneOrgs = new Set(r.organizationOrphans);
  r.removable.purged = convexMembers.filter((m) => goneOrgs.has(String(m.auth0OrgId)));

  const convexByKey = new Map(
    convexMembers.map((m) => [key(String(m.auth0OrgId), String(m.auth0UserId)), m]),
  );
  for (const [org, list] of members) {
    for (const [user, roles] of list) {
      const row = convexByKey.get(key(org, user));
      if (!row) r.missingMemberships.push({ auth0OrgId: org, auth0UserId: user });
      else {
        const convexRoles = sorted((row.roles as string[]) ?? []);
        if (JSON.stringify(convexRoles) !== JSON.stringify(roles)) {
          r.roleDrift.push({ auth0OrgId: org, auth0UserId: user, auth0Roles: roles, convexRoles });
        }
      }
    }
  }
  // Memberships of a confirmed-gone organization go with it; of an organization Auth0 lists, they
  // must be in its member list. The member list is eventually consistent, so a membership missing
  // from it is removed only when the user's own organizations (asked per user) lack it too.
  const notListed = convexMembers.filter((m) => {
    const list = members.get(String(m.auth0OrgId));
    return list !== undefined && !list.has(String(m.auth0UserId));
  });
  const byUser = new Map<string, Record<string, unknown>[]>();
  for (const m of notListed) {
    const user = String(m.auth0UserId);
    byUser.set(user, [...(byUser.get(user) ?? []), m]);
  }
  if (byUser.size > 0) progress.phase("Auth0 membership check", byUser.size);
  for (const [user, rows] of byUser) {
    const stillIn = await userOrganizations(auth0, user);
    for (const m of rows) {
      const org = String(m.auth0OrgId);
      if (stillIn.has(org)) r.membershipsNotListedYet.push({ auth0OrgId: org, auth0UserId: user });
      else {
        r.extraMemberships.push({ auth0OrgId: org, auth0UserId: user });
        r.removable.memberships.push(m);
      }
    }
    progress.tick();
  }
  progress.done();
  return r;
}

/** Whether anything needs repair. */
export function hasOrgDifferences(r: OrgReconciliation): boolean {
  return (
    r.missingOrganizations.length +
      r.organizationDrift.length +
      r.organizationOrphans.length +
      r.missingMemberships.length +
      r.roleDrift.length +
      r.extraMemberships.length >
    0
  );
}

/** The `organizations` part of the JSON report (ids and field names, no metadata values). */
export function orgsReportJson(r: OrgReconciliation) {
  return {
    counts: r.counts,
    missing: r.missingOrganizations.map((auth0OrgId) => ({ auth0OrgId })),
    drift: r.organizationDrift,
    orphans: r.organizationOrphans.map((auth0OrgId) => ({ auth0OrgId })),
    memberships: {
      missing: r.missingMemberships,
      roleDrift: r.roleDrift,
      extra: r.extraMemberships,
      notListedYet: r.membershipsNotListedYet,
    },
  };
}

/** The readable lines. */
export function orgsReportText(r: OrgReconciliation): string[] {
  const c = r.counts;
  const lines = [
    `Auth0 organizations: ${c.auth0Organizations} (${c.auth0Memberships} memberships)   Convex: ${c.convexOrganizations} (${c.convexMemberships})`,
  ];
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`  ${title} (${items.length}):`);
    for (const item of items.slice(0, 20)) lines.push(`    ${item}`);
    if (items.length > 20) lines.push(`    ... and ${items.length - 20} more (--json lists all)`);
  };
  list("Organizations missing in Convex", r.missingOrganizations);
  list(
    "Organization drift",
    r.organizationDrift.map((d) => `${d.auth0OrgId}: ${d.fields.join(", ")}`),
  );
  list("Organizations gone from Auth0 (sync --orgs --delete-orphans)", r.organizationOrphans);
  list(
    "Memberships missing in Convex",
    r.missingMemberships.map((m) => `${m.auth0OrgId} ${m.auth0UserId}`),
  );
  list(
    "Member roles that differ",
    r.roleDrift.map(
      (d) =>
        `${d.auth0OrgId} ${d.auth0UserId}: Auth0 [${d.auth0Roles.join(", ")}], Convex [${d.convexRoles.join(", ")}]`,
    ),
  );
  list(
    "Memberships Auth0 no longer has",
    r.extraMemberships.map((m) => `${m.auth0OrgId} ${m.auth0UserId}`),
  );
  return lines;
}

/** What a repair would do, in counts. */
export function orgChangeCounts(r: OrgReconciliation, deleteOrphans: boolean) {
  const counts = {
    organizations: r.missingOrganizations.length + r.organizationDrift.length,
    memberships: r.missingMemberships.length + r.roleDrift.length,
    membershipRemovals: r.extraMemberships.length,
    organizationDeletions: deleteOrphans ? r.organizationOrphans.length : 0,
  };
  const total =
    counts.organizations +
    counts.memberships +
    counts.membershipRemovals +
    counts.organizationDeletions;
  return { ...counts, total };
}

/**
 * The Convex rows a repair removes, by table, for the backup written before it: the memberships
 * Auth0 confirmed gone and, with `deleteOrphans`, the organizations Auth0 confirmed gone with
 * every membership their deletion purges.
 */
export function rowsRemovedBy(r: OrgReconciliation, deleteOrphans: boolean) {
  return {
    organizations: deleteOrphans ? r.removable.organizations : [],
    memberships: [...r.removable.memberships, ...(deleteOrphans ? r.removable.purged : [])],
  };
}

/**
 * Applies the repair in batches: organizations, memberships (exact roles), removals of
 * memberships Auth0 no longer lists and, with `deleteOrphans`, deletions of organizations Auth0
 * confirmed gone. Returns how many changes Convex applied and how many it kept (newer state).
 */
export async function applyOrgChanges(
  convex: ConvexSyncClient,
  r: OrgReconciliation,
  opts: {
    deleteOrphans: boolean;
    progress: Progress;
    batchSize?: number;
    /** Remove nothing at all (no membership removals either): the mass-deletion cap held. */
    noRemovals?: boolean;
  },
): Promise<{ applied: number; unchanged: number; superseded: number; refused: number }> {
  const totals = { applied: 0, unchanged: 0, superseded: 0, refused: 0 };
  const size = opts.batchSize ?? 100;
  const empty = (): OrgBatch => ({
    at: r.at,
    organizations: [],
    organizationDeletions: [],
    memberships: [],
    membershipRemovals: [],
  });
  const orgIds = [...r.missingOrganizations, ...r.organizationDrift.map((d) => d.auth0OrgId)];
  const batches: OrgBatch[] = [];
  for (let i = 0; i < orgIds.length; i += size) {
    batches.push({
      ...empty(),
      organizations: orgIds.slice(i, i + size).map((id) => {
        const org = r.auth0.get(id)!;
        return {
          auth0OrgId: id,
          name: org.name,
          displayName: org.displayName,
          metadata: org.metadata,
        };
      }),
    });
  }
  const memberships = [...r.missingMemberships, ...r.roleDrift].map((m) => ({
    auth0OrgId: m.auth0OrgId,
    auth0UserId: m.auth0UserId,
    roles: r.auth0Members.get(m.auth0OrgId)!.get(m.auth0UserId)!,
  }));
  for (let i = 0; i < memberships.length; i += size) {
    batches.push({ ...empty(), memberships: memberships.slice(i, i + size) });
  }
  const removals = opts.noRemovals ? [] : r.extraMemberships;
  for (let i = 0; i < removals.length; i += size) {
    batches.push({ ...empty(), membershipRemovals: removals.slice(i, i + size) });
  }
  if (opts.deleteOrphans && !opts.noRemovals) {
    for (let i = 0; i < r.organizationOrphans.length; i += size) {
      batches.push({
        ...empty(),
        organizationDeletions: r.organizationOrphans
          .slice(i, i + size)
          .map((auth0OrgId) => ({ auth0OrgId })),
      });
    }
  }
  const total = batches.reduce(
    (n, b) =>
      n +
      b.organizations.length +
      b.memberships.length +
      b.membershipRemovals.length +
      b.organizationDeletions.length,
    0,
  );
  if (total === 0) return totals;
  opts.progress.phase("Convex organization writes", total);
  for (const batch of batches) {
    const results = await convex.applyOrgs(batch);
    for (const result of results) totals[result.outcome]++;
    opts.progress.tick(results.length);
  }
  opts.progress.done();
  return totals;
}
