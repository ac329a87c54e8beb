/**
 * The mass-deletion cap: a second proof, independent of the tenant check, before a run deletes
 * many rows. A deletion is "mass" when, in any table, it removes more than `maxRows` rows or more
 * than `maxPercent` % of that table's rows. `sync` then asks again (the count must be typed);
 * `cron-sync` applies no deletion. Raised with `--max-deletions` / `--max-deletion-percent` or
 * SYNC_MAX_DELETIONS / SYNC_MAX_DELETION_PERCENT.
 */

export interface DeletionCap {
  maxRows: number;
  maxPercent: number;
}

export const DEFAULT_DELETION_CAP: DeletionCap = { maxRows: 100, maxPercent: 10 };

/** Deletions planned in one table, against how many rows it holds. */
export interface TableDeletions {
  table: string;
  deleting: number;
  total: number;
  /** Candidates not checked with Auth0: the deletion is over the cap already (run.ts). */
  unchecked?: number;
}

/** Reads the cap from flags (first) and the environment; `problem` names a malformed value. */
export function readDeletionCap(
  values: ReadonlyMap<string, string>,
  env: NodeJS.ProcessEnv,
): { cap: DeletionCap } | { problem: string } {
  const read = (flag: string, variable: string, fallback: number, max: number) => {
    const raw = values.get(flag) ?? env[variable]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 0 && n <= max ? n : `--${flag} / ${variable}`;
  };
  const maxRows = read("max-deletions", "SYNC_MAX_DELETIONS", DEFAULT_DELETION_CAP.maxRows, 1e9);
  const maxPercent = read(
    "max-deletion-percent",
    "SYNC_MAX_DELETION_PERCENT",
    DEFAULT_DELETION_CAP.maxPercent,
    100,
  );
  const bad = [maxRows, maxPercent].filter((x): x is string => typeof x === "string");
  if (bad.length > 0) {
    return {
      problem: `${bad.join(" and ")} must be a whole number (rows; a percentage from 0 to 100)`,
    };
  }
  return { cap: { maxRows: maxRows as number, maxPercent: maxPercent as number } };
}

/** The most rows a deletion may remove from a table of `total` rows without passing the cap. */
export function deletionAllowance(cap: DeletionCap, total: number): number {
  return Math.max(
    0,
    Math.min(cap.maxRows, Math.floor((cap.maxPercent * Math.max(total, 0)) / 100)),
  );
}

/** The tables whose planned deletions pass the cap (empty: not a mass deletion). */
export function overCap(planned: TableDeletions[], cap: DeletionCap): TableDeletions[] {
  return planned.filter(
    (t) => t.deleting > cap.maxRows || t.deleting * 100 > cap.maxPercent * Math.max(t.total, 0),
  );
}

/** "users: 120 of 150 rows (80%)" for each table over the cap, joined. */
export function describeDeletions(tables: TableDeletions[]): string {
  return tables
    .map(
      (t) =>
        `${t.table}: ${t.deleting} of ${t.total} rows (${t.total > 0 ? Math.round((t.deleting * 100) / t.total) : 100}%)` +
        (t.unchecked ? `, and ${t.unchecked} more candidate user(s) not checked` : ""),
    )
    .join("; ");
}

/** The cap in words, for messages. */
export const describeCap = (cap: DeletionCap) =>
  `more than ${cap.maxRows} rows or more than ${cap.maxPercent}% of a table`;
