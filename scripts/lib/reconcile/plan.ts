/**
 * The comparison at the heart of check-sync and sync: every Auth0 user against every Convex row,
 * in memory proportional to the users and time linear in them. Pure: no I/O.
 */
import {
  parseMetadataPath,
  valueAtPath,
  type Auth0Profile,
} from "../../../server/users/auth0Profile";
import type { UserFieldRules } from "../../../server/reconcile/sync";
import { parseTokenIdentifier } from "../../../server/tokenIdentifier";
import { isFromTheFuture } from "../../../server/users/users";
import { canonicalJson } from "../../../server/users/metadata";
import { PROFILE_KEYS, type ProfileKey } from "../../../server/users/profile";
import type { UserRow } from "./convexClient";

export type { ProfileKey };
/** A drift field: a profile fact, `auth0UpdatedAt` when the stored date lies in the future, or an
 * app field the deployment maps from Auth0 metadata. */
export type DriftField = ProfileKey | "auth0UpdatedAt" | (string & {});

/** The deployment's field rules (`/auth0/sync/status`); none: every profile fact is Auth0's. */
export const NO_FIELD_RULES: UserFieldRules = { appOwned: [], metadata: [] };

/** What a row needs for the comparison: small, so 100,000 of them fit easily. */
export interface RowSummary {
  auth0UserId: string;
  tokenIdentifier: string;
  facts: Partial<Record<ProfileKey, string | boolean>>;
  auth0UpdatedAt?: number;
  /** The app's metadata-mapped fields, as canonical JSON (absent: no value). */
  metadata?: Record<string, string | undefined>;
  /** Set on a row kept anonymized after its user's deletion (`AUTH0_USER_DELETION=anonymize`). */
  deletedAt?: number;
}

export interface Plan {
  /** Users in Auth0 with no Convex row under a trusted issuer: to create. */
  missing: { auth0UserId: string }[];
  /** Users of this tenant with rows but not in the listing, once each (a user may have a
   * tenant-domain and a custom-domain row): orphans once Auth0 confirms (404). */
  orphanCandidates: { auth0UserId: string }[];
  /** Rows whose facts differ from Auth0's: to update. */
  drift: { auth0UserId: string; fields: DriftField[] }[];
  /** Rows under an issuer this deployment does not trust: listed apart, never touched. */
  unknownIssuer: { auth0UserId: string; issuer: string }[];
  /** Rows that match Auth0. */
  inSync: number;
  /** Rows that hold a newer profile than the listing (a login or event since): left alone. */
  newerInConvex: number;
  /** Rows of deleted users kept anonymized: already deleted, neither orphans nor drift. */
  anonymized: number;
}

/** The issuer part of a row's key, or a marker that matches no issuer when it is malformed. */
export function issuerOf(tokenIdentifier: string): string {
  try {
    return parseTokenIdentifier(tokenIdentifier).issuer;
  } catch {
    return "(malformed tokenIdentifier)";
  }
}

/** What the comparison keeps of a row, for the deployment's field rules. */
export function rowSummarizer(rules: UserFieldRules = NO_FIELD_RULES) {
  return (row: UserRow): RowSummary => {
    const facts: RowSummary["facts"] = {};
    for (const key of PROFILE_KEYS) {
      const value = row[key];
      if (value !== undefined) facts[key] = value;
    }
    const metadata: Record<string, string | undefined> = {};
    for (const { field } of rules.metadata) {
      metadata[field] = canonicalJson((row as Record<string, unknown>)[field]);
    }
    return {
      auth0UserId: row.auth0UserId,
      tokenIdentifier: row.tokenIdentifier,
      facts,
      ...(rules.metadata.length > 0 ? { metadata } : {}),
      ...(row.auth0UpdatedAt !== undefined ? { auth0UpdatedAt: row.auth0UpdatedAt } : {}),
      ...(row.deletedAt !== undefined ? { deletedAt: row.deletedAt } : {}),
    };
  };
}

/** Keeps what the comparison reads from a row (no field rules). */
export const summarizeRow = rowSummarizer();

/**
 * The facts of `row` that differ from `profile` (absent and null are the same: no value). Fields
 * the app owns are never drift; a metadata field is when the profile carries its source and the
 * values differ (a value the deployment refuses stays drift until Auth0's is fixed).
 */
export function driftFields(
  profile: Auth0Profile,
  row: RowSummary,
  now: number,
  rules: UserFieldRules = NO_FIELD_RULES,
): DriftField[] {
  const fields: DriftField[] = [];
  for (const key of PROFILE_KEYS) {
    if (rules.appOwned.includes(key)) continue;
    const want = profile[key] ?? undefined;
    if (row.facts[key] !== want) fields.push(key);
  }
  if (rules.metadata.length > 0 && profile.metadataJson !== undefined) {
    const carried = JSON.parse(profile.metadataJson) as Record<string, unknown>;
    for (const { field, from, optional } of rules.metadata) {
      const path = parseMetadataPath(from);
      if (!path || carried[path.source] === undefined) continue;
      const want = canonicalJson(valueAtPath(carried[path.source], path.keys));
      // A required field whose key Auth0 lacks keeps its value on every path: not drift.
      if (want === undefined && !optional) continue;
      if (row.metadata?.[field] !== want) fields.push(field);
    }
  }
  if (row.auth0UpdatedAt !== undefined && isFromTheFuture(row.auth0UpdatedAt, now)) {
    fields.push("auth0UpdatedAt");
  }
  return fields;
}

/**
 * Compares the listing with the rows. `issuers` are the deployment's trusted issuers; a row under
 * any other issuer is `unknownIssuer`, never an orphan. `rules` are the deployment's field rules. A row holding a newer profile than the
 * listing is not drift: the listing is a snapshot older than that row.
 */
export function buildPlan(
  auth0: ReadonlyMap<string, Auth0Profile>,
  rows: Iterable<RowSummary>,
  issuers: readonly string[],
  now: number = Date.now(),
  rules: UserFieldRules = NO_FIELD_RULES,
): Plan {
  const plan: Plan = {
    missing: [],
    orphanCandidates: [],
    drift: [],
    unknownIssuer: [],
    inSync: 0,
    newerInConvex: 0,
    anonymized: 0,
  };
  const trusted = new Set(issuers);
  const seen = new Set<string>();
  const candidates = new Set<string>();
  for (const row of rows) {
    // The user is gone from Auth0 and this row says so already; a user re-created under the same
    // id is missing until it gets a row of its own (upsertUser never revives this one).
    if (row.deletedAt !== undefined) {
      plan.anonymized++;
      continue;
    }
    const issuer = issuerOf(row.tokenIdentifier);
    if (!trusted.has(issuer)) {
      plan.unknownIssuer.push({ auth0UserId: row.auth0UserId, issuer });
      continue;
    }
    seen.add(row.auth0UserId);
    const profile = auth0.get(row.auth0UserId);
    if (!profile) {
      if (!candidates.has(row.auth0UserId)) {
        candidates.add(row.auth0UserId);
        plan.orphanCandidates.push({ auth0UserId: row.auth0UserId });
      }
      continue;
    }
    const stored = row.auth0UpdatedAt;
    const storedTrusted = stored !== undefined && !isFromTheFuture(stored, now);
    if (storedTrusted && profile.auth0UpdatedAt !== undefined && stored > profile.auth0UpdatedAt) {
      plan.newerInConvex++;
      continue;
    }
    const fields = driftFields(profile, row, now, rules);
    if (fields.length > 0) plan.drift.push({ auth0UserId: row.auth0UserId, fields });
    else plan.inSync++;
  }
  for (const id of auth0.keys()) if (!seen.has(id)) plan.missing.push({ auth0UserId: id });
  return plan;
}
