/**
 * The reconcile's comparison as it was before it streamed, with the field rules of issue 25
 * (main at 20c1f35, scripts/lib/reconcile/plan.ts and auth0Users.ts `listAuth0Profiles`), kept
 * unchanged as the oracle the streaming comparison must agree with: every profile and every row
 * summary in memory, then one pass. Only tests import it.
 */
import {
  parseMetadataPath,
  profileFromAuth0User,
  valueAtPath,
  type Auth0Profile,
} from "../../../server/users/auth0Profile";
import type { UserFieldRules } from "../../../server/reconcile/sync";
import { isFromTheFuture } from "../../../server/clock";
import { canonicalJson } from "../../../server/users/metadata";
import { PROFILE_KEYS } from "../../../server/users/profile";
import type { UserRow } from "../../../scripts/lib/reconcile/convexClient";
import {
  issuerOf,
  NO_FIELD_RULES,
  type DriftField,
  type Plan,
  type ProfileKey,
} from "../../../scripts/lib/reconcile/plan";

interface RowSummary {
  auth0UserId: string;
  tokenIdentifier: string;
  facts: Partial<Record<ProfileKey, string | boolean>>;
  auth0UpdatedAt?: number;
  metadata?: Record<string, string | undefined>;
  deletedAt?: number;
}

/** Every user of a listing, mapped (with the mapped metadata), by id; a user listed twice
 * throws, as the listing did. */
export function todaysProfiles(
  users: Iterable<Record<string, unknown>>,
  metadataPaths: readonly string[] = [],
): Map<string, Auth0Profile> {
  const profiles = new Map<string, Auth0Profile>();
  for (const user of users) {
    const id = user.user_id as string;
    if (profiles.has(id)) throw new Error(`the users listing lists ${id} twice`);
    profiles.set(
      id,
      profileFromAuth0User(
        user as unknown as Parameters<typeof profileFromAuth0User>[0],
        metadataPaths.length > 0 ? metadataPaths : undefined,
      ),
    );
  }
  return profiles;
}

function rowSummarizer(rules: UserFieldRules) {
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

function driftFields(
  profile: Auth0Profile,
  row: RowSummary,
  now: number,
  rules: UserFieldRules,
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
      if (want === undefined && !optional) continue;
      if (row.metadata?.[field] !== want) fields.push(field);
    }
  }
  if (row.auth0UpdatedAt !== undefined && isFromTheFuture(row.auth0UpdatedAt, now)) {
    fields.push("auth0UpdatedAt");
  }
  return fields;
}

function buildPlan(
  auth0: ReadonlyMap<string, Auth0Profile>,
  rows: Iterable<RowSummary>,
  issuers: readonly string[],
  now: number,
  rules: UserFieldRules,
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

/** Today's plan, and the rows it kept for the orphans' backup, for a listing, a table and the
 * deployment's field rules. */
export function todaysComparison(
  users: Iterable<Record<string, unknown>>,
  rows: readonly UserRow[],
  issuers: readonly string[],
  now: number,
  rules: UserFieldRules = NO_FIELD_RULES,
) {
  const profiles = todaysProfiles(
    users,
    rules.metadata.map((m) => m.from),
  );
  const trusted = new Set(issuers);
  const candidateRows = new Map<string, UserRow[]>();
  let trustedRows = 0;
  for (const row of rows) {
    if (row.deletedAt !== undefined || !trusted.has(issuerOf(row.tokenIdentifier))) continue;
    trustedRows++;
    if (!profiles.has(row.auth0UserId)) {
      candidateRows.set(row.auth0UserId, [...(candidateRows.get(row.auth0UserId) ?? []), row]);
    }
  }
  return {
    plan: buildPlan(profiles, rows.map(rowSummarizer(rules)), issuers, now, rules),
    candidateRows,
    trustedRows,
    profiles,
  };
}
