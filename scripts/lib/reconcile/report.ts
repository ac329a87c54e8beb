/**
 * What check-sync and sync print: one JSON document for machines (`--json`) and a readable summary
 * for people. Neither holds profile values: user ids and field names only.
 */
import type { ApplyTotals, Reconciliation } from "./run";
import { logSyncLines } from "../logSyncHealth";

/** Exit codes shared by the reconcile commands (documented in the README). */
export const EXIT = {
  /** In sync, or everything asked for was done. */
  ok: 0,
  /** Differences found (check-sync, dry run, declined), or some changes could not be applied. */
  differences: 1,
  /** Bad configuration, an unreachable service, a failed job: nothing was written. */
  error: 2,
  /** cron-sync: another run holds the lock. */
  locked: 3,
  /** cron-sync: a deletion over the mass-deletion cap was held back (nothing removed). */
  massDeletion: 4,
} as const;

/** The JSON document: at least `missing`, `orphans`, `drift` and `unknownIssuer`. */
export function reportJson(r: Reconciliation, extra: Record<string, unknown> = {}) {
  const ids = (list: string[]) => list.map((auth0UserId) => ({ auth0UserId }));
  return {
    inSync: r.plan.missing.length === 0 && r.plan.drift.length === 0 && r.orphans.length === 0,
    counts: {
      auth0Users: r.counts.auth0Users,
      convexRows: r.counts.convexRows,
      inSync: r.plan.inSync,
      missing: r.plan.missing.length,
      drift: r.plan.drift.length,
      orphans: r.orphans.length,
      unknownIssuer: r.plan.unknownIssuer.length,
      createdAfterListing: r.createdAfterListing.length,
      uncheckedCandidates: r.uncheckedCandidates,
      newerInConvex: r.plan.newerInConvex,
      anonymized: r.plan.anonymized,
    },
    missing: r.plan.missing,
    orphans: ids(r.orphans),
    drift: r.plan.drift,
    unknownIssuer: r.plan.unknownIssuer,
    createdAfterListing: ids(r.createdAfterListing),
    trustedIssuers: r.status.issuers,
    events: { health: r.status.health },
    logSync: r.status.logSync ?? null,
    calls: r.calls,
    cost: r.timings,
    ...extra,
  };
}

const LIST_LIMIT = 20;

function listLines(title: string, items: string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, LIST_LIMIT).map((line) => `    ${line}`);
  if (items.length > LIST_LIMIT)
    shown.push(`    ... and ${items.length - LIST_LIMIT} more (--json lists all)`);
  return [`  ${title} (${items.length}):`, ...shown];
}

/** Warnings about the event stream and dates from the future, from `auth0.eventsHealth`. */
function healthLines(health: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const last = health.lastEventReceivedAt;
  lines.push(
    typeof last === "number"
      ? `  Event stream: last event received ${new Date(last).toISOString()}, ${String(health.failuresLast24h ?? 0)} failed in 24 h`
      : "  Event stream: no event received yet (is the stream set up? see README, Real-time user events)",
  );
  for (const key of ["futureDatedUsers", "futureDatedTombstones"] as const) {
    const v = health[key] as
      { count?: number; more?: boolean; auth0UserIds?: string[] } | undefined;
    if (v?.count) {
      const what = key === "futureDatedUsers" ? "rows" : "tombstones";
      lines.push(
        `  Warning: ${v.more ? "more than " : ""}${v.count} ${what} dated in the future (e.g. ${(v.auth0UserIds ?? []).join(", ")}); sync repairs rows`,
      );
    }
  }
  return lines;
}

/** The readable summary of a comparison. */
export function reportText(r: Reconciliation): string[] {
  const p = r.plan;
  const lines = [
    `Auth0 users: ${r.counts.auth0Users}   Convex rows: ${r.counts.convexRows}   in sync: ${p.inSync}`,
    ...listLines(
      "Missing in Convex (will be created)",
      p.missing.map((m) => m.auth0UserId),
    ),
    ...listLines(
      "Drift (will be updated)",
      p.drift.map((d) => `${d.auth0UserId}: ${d.fields.join(", ")}`),
    ),
    ...listLines("Orphans: gone from Auth0, confirmed by a 404 (sync --delete-orphans)", r.orphans),
    ...listLines(
      "Rows under an issuer this deployment does not trust (never touched)",
      p.unknownIssuer.map((u) => `${u.auth0UserId} (${u.issuer})`),
    ),
  ];
  if (r.uncheckedCandidates > 0) {
    lines.push(
      `  ${r.uncheckedCandidates} more orphan candidate(s) not checked with Auth0: the deletion is over the cap already (check-sync checks every candidate)`,
    );
  }
  if (r.createdAfterListing.length > 0) {
    lines.push(
      `  ${r.createdAfterListing.length} row(s) not in the listing still exist in Auth0 (created since): not orphans`,
    );
  }
  if (p.newerInConvex > 0) {
    lines.push(`  ${p.newerInConvex} row(s) hold a newer profile than the listing: left alone`);
  }
  if (p.anonymized > 0) {
    lines.push(`  ${p.anonymized} row(s) of deleted users kept anonymized: left alone`);
  }
  lines.push(...healthLines(r.status.health), ...logSyncLines(r.status.logSync));
  return lines;
}

/** The readable summary of what a sync did. */
export function appliedText(t: ApplyTotals): string {
  const parts = [
    `created ${t.created}`,
    `updated ${t.updated}`,
    `deleted ${t.removed}`,
    ...(t.unchanged ? [`unchanged ${t.unchanged} (Convex already current)`] : []),
    ...(t.userDeleted ? [`skipped ${t.userDeleted} (deleted in Auth0 since the listing)`] : []),
    ...(t.superseded ? [`not deleted ${t.superseded} (re-created since)`] : []),
    ...(t.refused ? [`refused ${t.refused} (profile dated in the future)`] : []),
  ];
  return `Applied: ${parts.join(", ")}`;
}
