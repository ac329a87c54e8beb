/**
 * Makes convex-test count Convex's transaction limits as a deployment does. convex-test 0.0.60
 * with `transactionLimits: true` counts an index range for `db.get` and every query, but not for
 * `db.patch`, `db.replace` and `db.delete`, which a deployment also charges (they read the
 * document by id first: get-convex/convex-backend crates/database/src/transaction.rs). Without
 * this, a loop of 5,000 deletes passes here and fails on a deployment.
 *
 * {@link countWritesAsIndexRanges} wraps the `Convex` global through which Convex function code
 * reaches convex-test's syscalls: before each patch/replace/delete it opens (and closes, without
 * reading) one query stream, which convex-test charges as one index range, exactly the cost a
 * deployment adds. It also records the highest usage any single transaction reached, so a test
 * can assert the margin under a limit ({@link peakUsage}).
 */

type Syscalls = {
  syscall(op: string, args: string): string;
  asyncSyscall(op: string, args: string): Promise<string>;
  jsSyscall(op: string, args: Record<string, unknown>): unknown;
};

/** The most of each limit one transaction used since the last {@link resetPeakUsage}. */
export interface PeakUsage {
  databaseQueries: number;
  documentsRead: number;
  bytesRead: number;
  documentsWritten: number;
  bytesWritten: number;
  functionsScheduled: number;
}

const zero = (): PeakUsage => ({
  databaseQueries: 0,
  documentsRead: 0,
  bytesRead: 0,
  documentsWritten: 0,
  bytesWritten: 0,
  functionsScheduled: 0,
});
let peak = zero();

const WRITE_OPS = new Set(["1.0/shallowMerge", "1.0/replace", "1.0/remove"]);

/**
 * Installs the wrapper on the `Convex` global, now or when convex-test first sets it (it does
 * so on its first `convexTest()` call). Idempotent: call it before or after `convexTest()`.
 */
export function countWritesAsIndexRanges(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  if (g.__convexProductionRanges) return;
  g.__convexProductionRanges = true;
  let inner = g.Convex as Syscalls | undefined;
  const wrapped: Syscalls = {
    syscall: (op, args) => inner!.syscall(op, args),
    jsSyscall: (op, args) => inner!.jsSyscall(op, args),
    asyncSyscall: async (op, args) => {
      const syscalls = inner!;
      if (WRITE_OPS.has(op)) {
        // convex-test charges the range before it evaluates the query; a query it cannot
        // evaluate then stops at once, so nothing is read or scanned. A limit error passes.
        try {
          syscalls.syscall("1.0/queryStream", JSON.stringify({ query: null }));
        } catch (err) {
          if (err instanceof Error && err.message.includes("Convex limit")) throw err;
        }
      }
      const result = await syscalls.asyncSyscall(op, args);
      if (op !== "1.0/getTransactionMetrics") await track(syscalls);
      return result;
    },
  };
  Object.defineProperty(globalThis, "Convex", {
    configurable: true,
    get: () => (inner ? wrapped : undefined),
    set: (value: Syscalls) => {
      inner = value;
    },
  });
}

async function track(syscalls: Syscalls): Promise<void> {
  let text: string;
  try {
    text = await syscalls.asyncSyscall("1.0/getTransactionMetrics", "{}");
  } catch {
    return; // Outside a query or mutation (an action): nothing to record.
  }
  const m = JSON.parse(text) as Record<keyof PeakUsage, { used: number } | undefined>;
  for (const key of Object.keys(peak) as (keyof PeakUsage)[]) {
    const used = m[key]?.used ?? 0;
    if (used > peak[key]) peak[key] = used;
  }
}

/** Forgets the peak usage recorded so far. */
export function resetPeakUsage(): void {
  peak = zero();
}

/** The most of each limit any one transaction used since the last {@link resetPeakUsage}. */
export function peakUsage(): PeakUsage {
  return { ...peak };
}
