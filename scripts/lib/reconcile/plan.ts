/**
 * The comparison at the heart of check-sync and sync: every Convex row, as its page arrives,
 * against the listing's index (auth0Index.ts). Memory: the index's fixed cost per Auth0 user, and
 * per difference an id (a drifted row with its field names, an orphan candidate with its rows
 * for the backup); never a profile, never an in-sync row. What is compared follows the
 * deployment's field rules: fields the app owns are never drift, fields it maps from Auth0
 * metadata are. Pure: no I/O.
 */
import type { UserFieldRules } from "../../../server/reconcile/sync";
import { parseTokenIdentifier } from "../../../server/tokenIdentifier";
import { isFromTheFuture } from "../../../server/users/users";
import type { ProfileKey } from "../../../server/users/profile";
import { Auth0Index, NO_FIELD_RULES } from "./auth0Index";
import type { UserRow } from "./convexClient";

export type { ProfileKey };
export { NO_FIELD_RULES };
/** A drift field: a profile fact, `auth0UpdatedAt` when the stored date lies in the future, or an
 * app field the deployment maps from Auth0 metadata. */
export type DriftField = ProfileKey | "auth0UpdatedAt" | (string & {});

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

/**
 * Compares rows, one at a time, with the listing. `issuers` are the deployment's trusted
 * issuers; a row under any other issuer is `unknownIssuer`, never an orphan. A row holding a
 * newer profile than the listing is not drift: the listing is a snapshot older than that row.
 * Facts are equal when both are absent (absent and null are the same on Auth0's side) or hold
 * the same value.
 */
export class RowComparer {
  /** Rows read, whatever their issuer. */
  rows = 0;
  /** Rows under a trusted issuer, not anonymized: what a deletion's share is measured against. */
  trustedRows = 0;
  private readonly plan: Plan = {
    missing: [],
    orphanCandidates: [],
    drift: [],
    unknownIssuer: [],
    inSync: 0,
    newerInConvex: 0,
    anonymized: 0,
  };
  private readonly trusted: ReadonlySet<string>;
  /** Every trusted row of each orphan candidate, for the backup written before a deletion: as
   * JSON in buffers, outside the JavaScript heap (a heap that holds more grows more). */
  private readonly candidateRows = new Map<string, Buffer[]>();
  /** Each issuer part seen, parsed once: parsing builds a URL, a million times otherwise. */
  private readonly issuers = new Map<string, string>();
  /** One array per combination of drifted fields, shared by the rows that have it. */
  private readonly fieldLists = new Map<string, DriftField[]>();
  /** The positions of a row's differing facts (Auth0Index.differingFacts). */
  private readonly differing: Uint16Array;
  private readonly compared: readonly DriftField[];

  constructor(
    private index: Auth0Index | undefined,
    issuers: readonly string[],
    private readonly now: number = Date.now(),
  ) {
    this.trusted = new Set(issuers);
    this.compared = index?.fields ?? [];
    this.differing = new Uint16Array(this.compared.length);
  }

  /** Compares one row. */
  add(row: UserRow): void {
    this.rows++;
    // The user is gone from Auth0 and this row says so already; a user re-created under the same
    // id is missing until it gets a row of its own (upsertUser never revives this one).
    if (row.deletedAt !== undefined) {
      this.plan.anonymized++;
      return;
    }
    const issuer = this.issuerOf(row.tokenIdentifier);
    if (!this.trusted.has(issuer)) {
      this.plan.unknownIssuer.push({ auth0UserId: row.auth0UserId, issuer });
      return;
    }
    this.trustedRows++;
    const index = this.index!;
    const slot = index.slotOf(row.auth0UserId);
    if (slot === undefined) {
      const kept = Buffer.from(JSON.stringify(row));
      const rows = this.candidateRows.get(row.auth0UserId);
      if (rows) rows.push(kept);
      else {
        this.candidateRows.set(row.auth0UserId, [kept]);
        this.plan.orphanCandidates.push({ auth0UserId: row.auth0UserId });
      }
      return;
    }
    index.markSeen(slot);
    const stored = row.auth0UpdatedAt;
    const future = stored !== undefined && isFromTheFuture(stored, this.now);
    const listed = index.updatedAtOf(slot);
    if (stored !== undefined && !future && listed !== undefined && stored > listed) {
      this.plan.newerInConvex++;
      return;
    }
    const differing = index.differingFacts(slot, row, this.differing);
    if (differing === 0 && !future) this.plan.inSync++;
    else {
      const fields = this.fieldsOf(differing, future);
      this.plan.drift.push({ auth0UserId: row.auth0UserId, fields });
    }
  }

  /** Every trusted row of an orphan candidate. */
  rowsOf(auth0UserId: string): UserRow[] {
    return (this.candidateRows.get(auth0UserId) ?? []).map((kept) => JSON.parse(kept.toString()));
  }

  /** How many trusted rows an orphan candidate has. */
  rowCountOf(auth0UserId: string): number {
    return this.candidateRows.get(auth0UserId)?.length ?? 0;
  }

  /**
   * The plan, once every row has been added: users never seen are the missing ones. The index is
   * let go (no row can be added after).
   */
  finish(): Plan {
    for (const auth0UserId of this.index!.unseen()) this.plan.missing.push({ auth0UserId });
    this.index = undefined;
    return this.plan;
  }

  /** {@link issuerOf}, remembering up to 64 issuer parts (a deployment sees a handful). */
  private issuerOf(tokenIdentifier: string): string {
    const sep = tokenIdentifier.indexOf("|");
    // An empty subject is malformed whatever the issuer: not remembered.
    if (sep <= 0 || sep === tokenIdentifier.length - 1) return issuerOf(tokenIdentifier);
    const part = tokenIdentifier.slice(0, sep);
    let issuer = this.issuers.get(part);
    if (issuer === undefined) {
      issuer = issuerOf(tokenIdentifier);
      if (this.issuers.size < 64) this.issuers.set(part, issuer);
    }
    return issuer;
  }

  /** The drifted fields' names: the `count` first of {@link differing}, then the date. */
  private fieldsOf(count: number, future: boolean): DriftField[] {
    const positions = this.differing.subarray(0, count);
    const key = `${positions.join(",")}${future ? "+" : ""}`;
    let fields = this.fieldLists.get(key);
    if (!fields) {
      fields = Array.from(positions, (k) => this.compared[k]);
      if (future) fields.push("auth0UpdatedAt");
      this.fieldLists.set(key, fields);
    }
    return fields;
  }
}

/** The plan for a whole listing and table at once (tests, small tools). */
export function comparePlan(
  users: Iterable<Record<string, unknown>>,
  rows: Iterable<UserRow>,
  issuers: readonly string[],
  now: number = Date.now(),
  rules: UserFieldRules = NO_FIELD_RULES,
): Plan {
  const index = new Auth0Index(rules);
  for (const user of users) index.add(user);
  const comparer = new RowComparer(index, issuers, now);
  for (const row of rows) comparer.add(row);
  return comparer.finish();
}
