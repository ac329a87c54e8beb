/**
 * The reconcile's Convex side from memory, for measuring the commands at a million users
 * (`npm run bench:reconcile -- --convex memory`): convex-test scans a whole table for every page
 * and every indexed lookup, so at that size it would measure itself, not the command.
 *
 * It answers the sync routes (`/auth0/sync/status`, `/users`, `/apply`, `/orgs/page`) as the
 * deployment does, with the field rules `configureAuth0Users` set in this process (status's
 * `fieldRules`; writes leave app-owned fields as they are and store the mapped metadata values
 * through the module's own reading of them): the request checks are the routes' own (server/syncRoutes.ts: signature with
 * AUTH0_SYNC_SECRET, body validation, batch limits, the page-size check), a page is bounded like
 * `usersPage` (at most `numItems` rows, stopping once MAX_PAGE_BYTES of documents, sized by Convex's own
 * `getDocumentSize`, are read), and an unknown path is a 404. tests/node/memoryConvex.test.ts
 * sends the same requests to it and to the real routes in convex-test and compares the answers.
 *
 * What it does not model: organizations and memberships (an organization page, which sync reads
 * before deleting users, is empty; the organization writes are not routed), the host's hooks
 * (`onUserCreated`, `onUserUpdated`, `onUserDeleted`), `AUTH0_USER_DELETION=anonymize`, the event
 * stream's history (its health reports no events) and rows under the 0.1 table names (none). A batch applies in whole (the real one may stop early for a hook's writes). Writes
 * follow upsertUser's and deleteUser's outcome rules for rows without memberships: created,
 * updated or unchanged (a stale or dateless profile changes nothing it should not), refused (a date
 * from the future, a value over its cap), user_deleted (a tombstone newer than the profile);
 * removed with a tombstone, or superseded by a newer row.
 */
import { serveSite } from "../../scripts/lib/localConvex";
import { RETENTION_DAYS } from "../../server/events/events";
import { checkLength, MAX_ID_LENGTH, VALUE_TOO_LONG } from "../../server/limits";
import { MemoryRows, type NewRow, type UserRow } from "./memoryRows";
import { logSyncConfig } from "../../server/logSync/logSync";
import { readOrgsPageRequest, SYNC_ORGS_PAGE_PATH } from "../../server/reconcile/orgSyncRoutes";
import {
  LEGACY_TABLE_NAMES,
  legacyTablesDeclared,
  RENAMED_TABLES,
} from "../../server/legacy/tables";
import { configuredFieldRules, type ApplyResult } from "../../server/reconcile/sync";
import {
  pageResponse,
  readApplyRequest,
  readStatusRequest,
  readUsersPageRequest,
  statusIssuers,
  SYNC_APPLY_PATH,
  SYNC_STATUS_PATH,
  SYNC_USERS_PATH,
} from "../../server/reconcile/syncRoutes";
import { parseTokenIdentifier, tokenIdentifier } from "../../server/tokenIdentifier";
import { appOwnedFields, metadataMappings } from "../../server/users/hooks";
import { readMappedMetadata, sameValue } from "../../server/users/metadata";
import { checkProfileLengths, PROFILE_KEYS } from "../../server/users/profile";
import {
  convexErrorCode,
  deploymentIssuers,
  isFromTheFuture,
  MAX_CLOCK_SKEW_MS,
  trustedProfileTime,
} from "../../server/users/rules";

export interface MemoryConvex {
  /** Origin of the HTTP host: CONVEX_SITE_URL for the commands. */
  url: string;
  /** Adds rows as a deployment would hold them (creation order kept). */
  insert(rows: Iterable<NewRow>): void;
  /** Every row, in creation order. */
  rows(): UserRow[];
  /** How many rows it holds. */
  count(): number;
  /** Auth0 user ids with a tombstone, and when each was deleted. */
  tombstones(): Map<string, number>;
  /** What it was asked so far: calls per route, and what the pages read. */
  stats(): MemoryConvexStats;
  close(): Promise<void>;
}

export interface MemoryConvexStats {
  statusCalls: number;
  pageCalls: number;
  rowsRead: number;
  bytesRead: number;
  maxPageBytes: number;
  maxPageRows: number;
  applyCalls: number;
  applyItems: number;
}

/** Starts the in-memory host on 127.0.0.1; sets CONVEX_SITE_URL as Convex does. */
export async function startMemoryConvex(): Promise<MemoryConvex> {
  const table = new MemoryRows();
  const tombstones = new Map<string, { deletedAt: number; at: number }>();
  const calls = { status: 0, apply: 0, applyItems: 0 };

  /** The user's rows under a trusted issuer, not anonymized (userRules `trustedRowsOf`). */
  const trustedRowsOf = (auth0UserId: string) => {
    const issuers = deploymentIssuers();
    return table.rowsOf(auth0UserId).filter((row) => {
      if (row.deletedAt !== undefined) return false;
      try {
        return issuers.includes(parseTokenIdentifier(row.tokenIdentifier).issuer);
      } catch {
        return false;
      }
    });
  };

  function health() {
    const now = Date.now();
    const horizon = now + MAX_CLOCK_SKEW_MS;
    const future = table.datedAfter(horizon);
    const futureTombstones = [...tombstones].filter(([, t]) => t.deletedAt > horizon);
    const capped = (n: number, cap: number) => ({ count: Math.min(n, cap), more: n > cap });
    return {
      lastEventReceivedAt: null,
      lastEventType: null,
      failuresLast24h: 0,
      lastFailure: null,
      retentionDays: RETENTION_DAYS,
      futureDatedUsers: {
        ...capped(future.length, 100),
        auth0UserIds: future.slice(0, 10).map((r) => r.auth0UserId),
      },
      futureDatedTombstones: {
        ...capped(futureTombstones.length, 100),
        auth0UserIds: futureTombstones.slice(0, 10).map(([id]) => id),
      },
      eventRecords: { count: 0, more: false },
      tombstones: capped(tombstones.size, 1000),
    };
  }

  const logSync = () => ({
    configured: logSyncConfig() !== null,
    running: false,
    checkpoint: null,
    checkpointDate: null,
    lagMs: null,
    lastRunAt: null,
    lastSuccessAt: null,
    lastRunUsersRefetched: 0,
    lastRunLogEvents: 0,
    usersRefetchedTotal: 0,
    consecutiveErrors: 0,
    lastError: null,
    stopped: null,
    fullReconcileNeeded: null,
  });

  /** `auth0:legacyTablesStatus` for a deployment without rows under the 0.1 names. */
  function legacyTables() {
    let variable: "unset" | "migrate" | "invalid";
    try {
      variable = legacyTablesDeclared() ? "migrate" : "unset";
    } catch {
      variable = "invalid";
    }
    return {
      variable,
      migration: null,
      schemaDeclared: variable === "migrate" ? true : null,
      tables: RENAMED_TABLES.map((table) => ({
        table,
        legacyTable: LEGACY_TABLE_NAMES[table],
        rows: 0,
        more: false,
        moduleRows: false,
      })),
    };
  }

  /** upsertUser's outcome, and the mapped fields whose value was refused. */
  function upsert(
    auth0UserId: string,
    profile: Record<string, unknown>,
  ): Pick<ApplyResult, "outcome" | "refusedMetadata"> {
    const outcome = write(auth0UserId, profile);
    return typeof outcome === "string" ? { outcome } : outcome;
  }

  function write(
    auth0UserId: string,
    profile: Record<string, unknown>,
  ): ApplyResult["outcome"] | Pick<ApplyResult, "outcome" | "refusedMetadata"> {
    const now = Date.now();
    const args = {
      tokenIdentifier: tokenIdentifier(process.env.AUTH0_DOMAIN ?? "", auth0UserId),
      ...profile,
    };
    try {
      checkProfileLengths(args);
      checkLength("the Auth0 user id", auth0UserId, MAX_ID_LENGTH);
    } catch (err) {
      if (convexErrorCode(err) === VALUE_TOO_LONG) return "refused";
      throw err;
    }
    const incoming = profile.auth0UpdatedAt as number | undefined;
    if (incoming !== undefined && isFromTheFuture(incoming, now)) return "refused";
    const existing =
      table
        .rowsOf(auth0UserId)
        .find((r) => r.tokenIdentifier === args.tokenIdentifier && r.deletedAt === undefined) ??
      trustedRowsOf(auth0UserId)[0];
    const storedTime = existing ? trustedProfileTime(existing, now) : undefined;
    const tombstone = tombstones.get(auth0UserId);
    if (tombstone) {
      const deletedAt = isFromTheFuture(tombstone.deletedAt, now)
        ? tombstone.at
        : tombstone.deletedAt;
      const rowIsNewer = storedTime !== undefined && storedTime > deletedAt;
      if (!rowIsNewer && !(incoming !== undefined && incoming > deletedAt)) return "user_deleted";
      tombstones.delete(auth0UserId);
    }
    const metadata = readMappedMetadata(
      profile.metadataJson as string | undefined,
      metadataMappings(),
      auth0UserId,
    );
    const refused =
      metadata.refused.length > 0 ? { refusedMetadata: metadata.refused.map((r) => r.field) } : {};
    if (!existing) {
      const row: Record<string, unknown> = { tokenIdentifier: args.tokenIdentifier, auth0UserId };
      for (const [field, value] of metadata.values) if (value !== undefined) row[field] = value;
      for (const key of PROFILE_KEYS) {
        if (profile[key] !== undefined && profile[key] !== null) row[key] = profile[key];
      }
      if (incoming !== undefined) row.auth0UpdatedAt = incoming;
      table.insert({ ...row, createdAt: now, updatedAt: now } as NewRow);
      return { outcome: "created", ...refused };
    }
    const patch: Record<string, unknown> = {};
    const dateless = incoming === undefined;
    const fillOnly = dateless && storedTime !== undefined;
    if (dateless || storedTime === undefined || incoming >= storedTime) {
      const appOwned = appOwnedFields();
      for (const key of PROFILE_KEYS) {
        const value = profile[key];
        if (value === undefined || appOwned.has(key)) continue;
        if (fillOnly && (value === null || existing[key] !== undefined)) continue;
        const next = value === null ? undefined : value;
        if (existing[key] !== next) patch[key] = next;
      }
      for (const [field, value] of metadata.values) {
        const stored = (existing as Record<string, unknown>)[field];
        if (fillOnly && (value === undefined || stored !== undefined)) continue;
        if (!sameValue(stored, value)) patch[field] = value;
      }
      if (!dateless && incoming !== existing.auth0UpdatedAt) patch.auth0UpdatedAt = incoming;
    }
    if (Object.keys(patch).length === 0) return { outcome: "unchanged", ...refused };
    Object.assign(existing, patch, { updatedAt: now });
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete (existing as Record<string, unknown>)[key];
    }
    table.save(existing);
    return { outcome: "updated", ...refused };
  }

  function deleteUser(auth0UserId: string, at: number): ApplyResult {
    const now = Date.now();
    const deletedAt = Math.min(at, now);
    const rows = trustedRowsOf(auth0UserId);
    if (rows.some((row) => (trustedProfileTime(row, now) ?? -Infinity) > deletedAt)) {
      return { auth0UserId, kind: "delete", outcome: "superseded", removed: 0 };
    }
    for (const row of rows) table.remove(row);
    const kept = tombstones.get(auth0UserId);
    if (!kept || deletedAt > kept.deletedAt) tombstones.set(auth0UserId, { deletedAt, at: now });
    return { auth0UserId, kind: "delete", outcome: "removed", removed: rows.length };
  }

  async function handle(path: string, init: RequestInit): Promise<Response> {
    const request = new Request(new URL(path, process.env.CONVEX_SITE_URL), init);
    const route = new URL(request.url).pathname;
    if (
      request.method !== "POST" ||
      ![SYNC_STATUS_PATH, SYNC_USERS_PATH, SYNC_APPLY_PATH, SYNC_ORGS_PAGE_PATH].includes(route)
    ) {
      return new Response(`No HttpAction routed for ${route}`, { status: 404 });
    }
    if (route === SYNC_STATUS_PATH) {
      const checked = await readStatusRequest(request);
      if (checked instanceof Response) return checked;
      calls.status++;
      return Response.json({
        ...statusIssuers(),
        health: health(),
        logSync: logSync(),
        fieldRules: configuredFieldRules(),
        legacyTables: legacyTables(),
      });
    }
    if (route === SYNC_ORGS_PAGE_PATH) {
      // No organizations here: both tables are empty (sync reads memberships before deleting).
      const page = await readOrgsPageRequest(request);
      if (page instanceof Response) return page;
      return pageResponse(page, async () => ({
        rows: [],
        isDone: true,
        continueCursor: "memory:0",
      }));
    }
    if (route === SYNC_USERS_PATH) {
      const request_ = await readUsersPageRequest(request);
      if (request_ instanceof Response) return request_;
      return pageResponse(
        request_,
        async () =>
          new Response(table.page(request_.cursor, request_.numItems), {
            headers: { "content-type": "application/json" },
          }),
      );
    }
    const batch = await readApplyRequest(request);
    if (batch instanceof Response) return batch;
    calls.apply++;
    calls.applyItems += batch.upserts.length + batch.deletions.length;
    const results: ApplyResult[] = [];
    for (const { auth0UserId, profile } of batch.upserts) {
      results.push({ auth0UserId, kind: "upsert", ...upsert(auth0UserId, profile) });
    }
    for (const { auth0UserId, deletedAt } of batch.deletions) {
      if (auth0UserId.length > MAX_ID_LENGTH) {
        results.push({ auth0UserId, kind: "delete", outcome: "refused" });
      } else results.push(deleteUser(auth0UserId, deletedAt));
    }
    return Response.json({ results });
  }

  const site = await serveSite(handle);
  process.env.CONVEX_SITE_URL = site.url;
  return {
    url: site.url,
    insert(rows) {
      for (const row of rows) table.insert(row);
    },
    rows: () => table.all(),
    count: () => table.count,
    stats: () => ({
      statusCalls: calls.status,
      pageCalls: table.reads.pages,
      rowsRead: table.reads.rows,
      bytesRead: table.reads.bytes,
      maxPageBytes: table.reads.maxPageBytes,
      maxPageRows: table.reads.maxPageRows,
      applyCalls: calls.apply,
      applyItems: calls.applyItems,
    }),
    tombstones: () => new Map([...tombstones].map(([id, t]) => [id, t.deletedAt])),
    close: site.close,
  };
}
