/**
 * `npm run bench:reconcile -- --convex memory [--users N] [--json]`: the reconcile commands'
 * own cost, measured apart from the test backend. Convex is the in-memory side
 * (bench/lib/memoryConvex.ts), Auth0 the emulator with its rate limit lifted; at 100,000 users
 * and at N (default 1,000,000), each with 1% missing, 1% orphaned, 1% drifted, it runs as child
 * processes, with no Node flag:
 * - `check-sync --json`: the complete comparison;
 * - `sync --dry-run --delete-orphans` on a tenant held to the Free plan's 2 requests/s at the
 *   default deletion cap: how many orphan checks it takes to refuse the mass deletion;
 * - `backup-users`: both sides streamed to files;
 * - `sync --yes --delete-orphans` with the cap raised: the repairs (creates, updates, deletions).
 * It prints wall time, the client's time (wall less the wait for Auth0 to prepare the export),
 * peak RSS and the split by phase, for both sizes side by side, then PASS/FAIL per target.
 * With `--json` the last line is one JSON object of the figures.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { CommandName } from "../../scripts/lib/cli/commands";
import { BATCH_SIZE } from "../../scripts/lib/reconcile/convexClient";
import { CONVEX_LIMITS, MAX_PAGE_BYTES, MAX_PAGE_SIZE } from "../../server/limits";
import { startMemoryConvex, type MemoryConvexStats } from "./memoryConvex";
import { startTenant } from "./reconcileHarness";
import { seedReconcileTenant } from "./reconcileSeed";

const RSS_TARGET_MB = 300;
const CLIENT_TARGET_MS = 60_000;
const SMALL = 100_000;

/** What one command run cost, from its `--json` report (`cost`) and the wall clock around it. */
interface CommandCost {
  wallMs: number;
  /** Wall time less the wait for the export job: the command's own work. */
  clientMs: number;
  peakRssMb: number;
  /** The command's CPU time, user and system: its own work whatever else the machine runs. */
  cpuMs: number;
  phasesMs: Record<string, number>;
  counts: Record<string, number>;
  applied?: Record<string, number>;
  calls: { managementApi: number; convex: number };
  /** What the Convex side was asked during the run. */
  convexSide: MemoryConvexStats;
}

interface SizeResult {
  users: number;
  checkSync: CommandCost;
  /** The dry run at 2 requests/s and the default cap: checks needed to refuse. */
  cappedDryRun: CommandCost;
  sync: CommandCost;
  /** backup-users: both sides streamed to files. */
  backup: { wallMs: number; peakRssMb: number; users: number; rows: number };
  /** Rows left in Convex after the sync, and tombstones written. */
  after: { rows: number; tombstones: number };
}

const PHASES: [string, string][] = [
  ["auth0ExportWaitMs", "export job wait (Auth0's)"],
  ["auth0ListingMs", "export download + parse"],
  ["convexPagingMs", "Convex paging"],
  ["comparisonMs", "comparison"],
  ["orphanChecksMs", "orphan checks"],
  ["auth0ReReadMs", "listing re-read"],
  ["writesMs", "writes"],
];

async function measureSize(n: number): Promise<SizeResult> {
  const t = await startTenant();
  const memory = await startMemoryConvex();
  try {
    process.stderr.write(`seeding ${n.toLocaleString("en-US")} users on both sides...\n`);
    memory.insert(seedReconcileTenant(t.emulator, n));
    t.emulator.setRateLimit(100_000);
    t.emulator.jobs.setExportDelay(500);
    const env = { CONVEX_SITE_URL: memory.url };
    const run = async (
      command: CommandName,
      args: string[],
      expected: number,
      extraEnv: Record<string, string | undefined> = {},
    ): Promise<CommandCost> => {
      process.stderr.write(`${command} ${args.join(" ")} on ${n.toLocaleString("en-US")}...\n`);
      const before = memory.stats();
      const started = performance.now();
      const result = await t.run(command, [...args, "--json", "--listing", "export"], {
        env: { ...env, ...extraEnv },
      });
      const wallMs = performance.now() - started;
      if (result.code !== expected) {
        throw new Error(`${command} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
      }
      const report = JSON.parse(result.stdout) as {
        counts: Record<string, number>;
        calls: CommandCost["calls"];
        cost: Record<string, number>;
        applied?: Record<string, number>;
      };
      const { peakRssMb, cpuMs, ...phasesMs } = report.cost;
      const after = memory.stats();
      const convexSide = Object.fromEntries(
        Object.entries(after).map(([key, value]) => [
          key,
          key.startsWith("max") ? value : value - before[key as keyof MemoryConvexStats],
        ]),
      ) as unknown as MemoryConvexStats;
      return {
        convexSide,
        wallMs,
        clientMs: wallMs - (phasesMs.auth0ExportWaitMs ?? 0),
        peakRssMb,
        cpuMs,
        phasesMs,
        counts: report.counts,
        calls: report.calls,
        ...(report.applied ? { applied: report.applied } : {}),
      };
    };
    const checkSync = await run("check-sync", [], 1);
    t.emulator.setRateLimit(2);
    const cappedDryRun = await run("sync", ["--dry-run", "--delete-orphans"], 1, {
      SYNC_MAX_DELETIONS: undefined,
      SYNC_MAX_DELETION_PERCENT: undefined,
    });
    t.emulator.setRateLimit(100_000);
    process.stderr.write(`backup-users on ${n.toLocaleString("en-US")}...\n`);
    const backupStarted = performance.now();
    const backupRun = await t.run("backup-users", ["--json", "--listing", "export"], { env });
    if (backupRun.code !== 0) throw new Error(`backup-users exited ${backupRun.code}`);
    const written = JSON.parse(backupRun.stdout) as {
      auth0: { users: number };
      convex: { rows: number };
      stats: { peakRssMb: number };
    };
    const backup = {
      wallMs: performance.now() - backupStarted,
      peakRssMb: written.stats.peakRssMb,
      users: written.auth0.users,
      rows: written.convex.rows,
    };
    await rm(join(t.dir, "backups"), { recursive: true, force: true });
    const sync = await run("sync", ["--yes", "--delete-orphans"], 0, {
      SYNC_MAX_DELETIONS: String(n),
      SYNC_MAX_DELETION_PERCENT: "100",
    });
    return {
      users: n,
      checkSync,
      cappedDryRun,
      sync,
      backup,
      after: { rows: memory.count(), tombstones: memory.tombstones().size },
    };
  } finally {
    await memory.close();
    await t.close();
  }
}

const s = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`);
const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * One command's figures, a column per size; with two sizes, a last column says how each grew
 * against the smaller run (the baseline measured in the same run): 10x means linear in the users.
 */
function printCommand(title: string, results: SizeResult[], pick: (r: SizeResult) => CommandCost) {
  const col = (x: string) => x.padStart(16);
  const grows = results.length > 1;
  console.log(`\n${title}`);
  console.log(
    `  ${"".padEnd(28)}${results.map((r) => col(`${fmt(r.users)} users`)).join("")}${grows ? col("ratio") : ""}`,
  );
  const line = (
    label: string,
    value: (c: CommandCost) => string,
    n?: (c: CommandCost) => number,
  ) => {
    const first = n?.(pick(results[0]));
    const last = n?.(pick(results[results.length - 1]));
    const ratio =
      first !== undefined && last !== undefined && first > 0 ? `${(last / first).toFixed(1)}x` : "";
    console.log(
      `  ${label.padEnd(28)}${results.map((r) => col(value(pick(r)))).join("")}${grows ? col(ratio) : ""}`,
    );
  };
  const timed = (label: string, ms: (c: CommandCost) => number | undefined) =>
    line(
      label,
      (c) => s(ms(c)),
      (c) => ms(c) ?? 0,
    );
  timed("wall", (c) => c.wallMs);
  timed("client (wall - export wait)", (c) => c.clientMs);
  timed("CPU time (user + system)", (c) => c.cpuMs);
  line(
    "peak RSS",
    (c) => `${c.peakRssMb} MB`,
    (c) => c.peakRssMb,
  );
  for (const [key, label] of PHASES) {
    if (results.some((r) => pick(r).phasesMs[key] !== undefined)) {
      timed(`  ${label}`, (c) => c.phasesMs[key]);
    }
  }
  line(
    "Management API calls",
    (c) => fmt(c.calls.managementApi),
    (c) => c.calls.managementApi,
  );
  line(
    "Convex calls",
    (c) => fmt(c.calls.convex),
    (c) => c.calls.convex,
  );
  line(
    "  of which pages / batches",
    (c) => `${c.convexSide.pageCalls} / ${c.convexSide.applyCalls}`,
  );
  line(
    "  rows read",
    (c) => fmt(c.convexSide.rowsRead),
    (c) => c.convexSide.rowsRead,
  );
  line(
    "  MB read, all pages",
    (c) => mb(c.convexSide.bytesRead),
    (c) => c.convexSide.bytesRead,
  );
  line("  MB read, largest page", (c) => mb(c.convexSide.maxPageBytes));
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Runs the memory mode for `n` users (and 100,000 beside it); returns the exit code. */
export async function mainMemory(n: number, json: boolean): Promise<number> {
  const sizes = n > SMALL ? [SMALL, n] : [n];
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(await measureSize(size));
  const big = results[results.length - 1];

  console.log(
    `\nthe reconcile against the in-memory Convex side (bench/lib/memoryConvex.ts), 1% missing, 1% orphaned, 1% drifted; child processes, no Node flag`,
  );
  printCommand("check-sync", results, (r) => r.checkSync);
  printCommand("sync --yes --delete-orphans (cap raised)", results, (r) => r.sync);
  console.log(
    `\n  The deployment's side: a page reads at most ${fmt(MAX_PAGE_SIZE)} rows and stops once ${mb(MAX_PAGE_BYTES)} are read (a query may read ${fmt(CONVEX_LIMITS.documentsRead)} documents and ${mb(CONVEX_LIMITS.bytesRead)}); a batch holds ${BATCH_SIZE} items.`,
  );
  printCommand(
    "sync --dry-run --delete-orphans at 2 requests/s (Free plan), default cap (100 rows / 10%)",
    results,
    (r) => r.cappedDryRun,
  );
  console.log(`\nbackup-users --json (both sides streamed to files)`);
  for (const r of results) {
    console.log(
      `  ${fmt(r.users).padStart(9)} users: ${s(r.backup.wallMs)} wall, peak RSS ${r.backup.peakRssMb} MB, ${fmt(r.backup.users)} Auth0 users and ${fmt(r.backup.rows)} rows written`,
    );
  }
  console.log("");
  for (const r of results) {
    const c = r.cappedDryRun.counts;
    console.log(
      `  ${fmt(r.users)} users: ${fmt(c.orphans)} orphans proved over the cap with ${fmt(c.orphans + c.createdAfterListing)} checks, ${fmt(c.uncheckedCandidates)} of ${fmt(c.orphans + c.createdAfterListing + c.uncheckedCandidates)} candidates left unchecked (${s(r.cappedDryRun.phasesMs.orphanChecksMs)}; one check per candidate at 2/s would take ${s(((c.orphans + c.uncheckedCandidates) / 2) * 1000)})`,
    );
  }

  const onePercent = Math.floor(big.users / 100);
  const largest = big.sync.convexSide;
  const found = big.checkSync.counts;
  const applied = big.sync.applied ?? {};
  const checks: [string, boolean][] = [
    [
      `check-sync peak RSS under ${RSS_TARGET_MB} MB at ${fmt(big.users)} users (${big.checkSync.peakRssMb} MB)`,
      big.checkSync.peakRssMb < RSS_TARGET_MB,
    ],
    [
      `sync peak RSS under ${RSS_TARGET_MB} MB at ${fmt(big.users)} users (${big.sync.peakRssMb} MB)`,
      big.sync.peakRssMb < RSS_TARGET_MB,
    ],
    [
      `backup-users peak RSS under ${RSS_TARGET_MB} MB at ${fmt(big.users)} users (${big.backup.peakRssMb} MB)`,
      big.backup.peakRssMb < RSS_TARGET_MB,
    ],
    [
      `check-sync client time under ${CLIENT_TARGET_MS / 1000} s at ${fmt(big.users)} users (${s(big.checkSync.clientMs)})`,
      big.checkSync.clientMs < CLIENT_TARGET_MS,
    ],
    [
      `sync client time under ${CLIENT_TARGET_MS / 1000} s at ${fmt(big.users)} users (${s(big.sync.clientMs)})`,
      big.sync.clientMs < CLIENT_TARGET_MS,
    ],
    [
      `every difference found (missing, drift, orphans = 1% each)`,
      found.missing === onePercent && found.drift === onePercent && found.orphans === onePercent,
    ],
    [
      `sync repaired them (created ${applied.created}, updated ${applied.updated}, removed ${applied.removed}; ${fmt(big.after.rows)} rows left)`,
      applied.created === onePercent &&
        applied.updated === onePercent &&
        applied.removed === onePercent &&
        big.after.rows === big.users,
    ],
    [
      `the capped dry run stopped checking early (${fmt(big.cappedDryRun.counts.uncheckedCandidates)} unchecked)`,
      big.cappedDryRun.counts.uncheckedCandidates > 0,
    ],
    [
      `every page within a query's read limits (largest: ${fmt(largest.maxPageRows)} rows, ${mb(largest.maxPageBytes)})`,
      largest.maxPageRows <= CONVEX_LIMITS.documentsRead &&
        largest.maxPageBytes <= CONVEX_LIMITS.bytesRead,
    ],
  ];
  console.log("");
  for (const [label, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${label}`);
  const pass = checks.every(([, ok]) => ok);
  if (json) {
    const figures = (r: SizeResult) => ({
      users: r.users,
      wallMs: Math.round(r.checkSync.wallMs),
      clientMs: Math.round(r.checkSync.clientMs),
      peakRssMb: r.checkSync.peakRssMb,
      cpuMs: r.checkSync.cpuMs,
      phasesMs: r.checkSync.phasesMs,
      sync: { ...r.sync, wallMs: Math.round(r.sync.wallMs), clientMs: Math.round(r.sync.clientMs) },
      cappedDryRun: {
        ...r.cappedDryRun,
        wallMs: Math.round(r.cappedDryRun.wallMs),
        clientMs: Math.round(r.cappedDryRun.clientMs),
      },
    });
    console.log(JSON.stringify({ ...figures(big), pass, sizes: results.map((r) => figures(r)) }));
  }
  return pass ? 0 : 1;
}
