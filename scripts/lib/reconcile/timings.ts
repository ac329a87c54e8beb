/**
 * Where a reconcile run spends its time, phase by phase, for `--json` (`cost`) and for
 * `npm run bench:reconcile`, which prints the split. The phases do not overlap: the comparison
 * runs inside the download and the paging, and is counted apart from both.
 */

/** The phases a run measures (milliseconds each). */
export type Phase =
  /** From the export job's creation to its completion: Auth0's work, not the command's. */
  | "auth0ExportWait"
  /** Listing Auth0's users: the export's download and parse, or the user search (the wait
   * for the export job and the indexing of each user apart). */
  | "auth0Listing"
  /** Reading every Convex row, page by page (waiting for pages; their comparison apart). */
  | "convexPaging"
  /** Comparing: indexing each Auth0 user and checking each row against it. */
  | "comparison"
  /** `GET /api/v2/users/{id}` for the orphan candidates. */
  | "orphanChecks"
  /** Reading the listing again for the profiles of the users to create or update (the writes
   * it feeds apart). */
  | "auth0ReRead"
  /** Batches sent to Convex (creates, updates, deletions). */
  | "writes";

export class Timings {
  private readonly ms = new Map<Phase, number>();

  /** Milliseconds counted to `phase` so far. */
  get(phase: Phase): number {
    return this.ms.get(phase) ?? 0;
  }

  add(phase: Phase, ms: number): void {
    this.ms.set(phase, (this.ms.get(phase) ?? 0) + ms);
  }

  /** Runs `fn`, counting its time to `phase`. */
  async time<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.add(phase, performance.now() - started);
    }
  }

  /**
   * Each phase measured, in whole milliseconds; the process's CPU time so far (user and system:
   * its own work, whatever else the machine runs) and its peak RSS.
   */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [phase, ms] of this.ms) out[`${phase}Ms`] = Math.round(ms);
    const usage = process.resourceUsage();
    out.cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
    out.peakRssMb = Math.round(usage.maxRSS / 1024);
    return out;
  }
}
