/**
 * Benchmark of the reconcile (`npm run bench:reconcile -- --users 100000`). Seeds both sides of a
 * local tenant (the Management API emulator and a local Convex host) with 1% of the users missing
 * in Convex, 1% orphaned and 1% drifted, then measures in one run:
 * - `check-sync --json` as a child process: wall time, users per second, its peak RSS, Management
 *   API calls (the listing's, and one per orphan candidate) and Convex calls; once on a tenant a
 *   tenth the size, to show the listing's calls do not grow with the users;
 * - a naive baseline on the smaller tenant: the list endpoint page by page plus one Convex call per
 *   user, which stops at Auth0's 1,000-record cap.
 * Targets: the complete check of 100,000 users under 20 s and 500 MB, listing calls constant.
 * Prints PASS/FAIL per target and exits 1 if one fails.
 *
 * `-- --listing search` (default 10,000 users) measures instead the Free-plan listing: check-sync
 * through the windowed user search on a Free-plan tenant at Auth0's 2 requests/s, beside the
 * export job on a paid tenant held to the same 2 requests/s, both real time (no extrapolation).
 */
import { resolve } from "node:path";
import { profileFromAuth0User } from "../server/users/auth0Profile";
import { ROOT, start, TSX } from "../scripts/lib/childProcess";
import { startTenant, type Tenant } from "./lib/reconcileHarness";
import type { StoredUser } from "../local-auth0/managementApiEmulator";
import { tokenIdentifier } from "../server/tokenIdentifier";

const WALL_TARGET_MS = 20_000;
const RSS_TARGET_MB = 500;

interface Measured {
  users: number;
  wallMs: number;
  /** From the listing's first request to its last (export job or user search). */
  listingMs: number;
  /** Answers 429 during the whole run. */
  rateLimited: number;
  peakRssMb: number;
  listingCalls: number;
  orphanCheckCalls: number;
  convexCalls: number;
  counts: Record<string, number>;
}

function listingArg(): "export" | "search" {
  const i = process.argv.indexOf("--listing");
  if (i < 0) return "export";
  const value = process.argv[i + 1];
  if (value !== "export" && value !== "search")
    throw new Error("--listing must be export or search");
  return value;
}

function usersArg(fallback: number): number {
  const i = process.argv.indexOf("--users");
  const n = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 100) throw new Error("--users must be an integer >= 100");
  return n;
}

/** Seeds `n` users: 1% only in Auth0, 1% only in Convex (orphans), 1% with a renamed profile. */
async function seed(t: Tenant, n: number): Promise<void> {
  const onePercent = Math.max(1, Math.floor(n / 100));
  const at = new Date(Date.now() - 3_600_000).toISOString();
  // Sign-ups spread over the year before: the user search lists by created_at windows.
  const from = Date.now() - 366 * 86_400_000;
  const step = (365 * 86_400_000) / n;
  const users: StoredUser[] = [];
  for (let i = 0; i < n; i++) {
    users.push(
      t.emulator.seedUser({
        user_id: `auth0|b${String(i).padStart(7, "0")}`,
        created_at: new Date(from + Math.floor(i * step)).toISOString(),
        updated_at: at,
      }),
    );
  }
  const rows = [];
  for (let i = 0; i < n; i++) {
    const user = users[i];
    if (i < onePercent) continue; // missing in Convex
    const facts = profileFromAuth0User(user);
    rows.push({
      tokenIdentifier: tokenIdentifier(t.emulator.domain, user.user_id),
      auth0UserId: user.user_id,
      email: facts.email ?? undefined,
      emailVerified: facts.emailVerified ?? undefined,
      name: i < 2 * onePercent ? "Old Name" : (facts.name ?? undefined), // drifted
      nickname: facts.nickname ?? undefined,
      avatarUrl: facts.avatarUrl ?? undefined,
      auth0UpdatedAt: facts.auth0UpdatedAt,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
  }
  for (let i = 0; i < onePercent; i++) {
    const id = `auth0|orphan${i}`;
    rows.push({
      tokenIdentifier: tokenIdentifier(t.emulator.domain, id),
      auth0UserId: id,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
  }
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    await t.convex.t.run(async (ctx) => {
      for (const row of chunk) await ctx.db.insert("users", row);
    });
  }
}

/** How a measured run lists and how fast the tenant answers. */
interface RunOptions {
  plan: "free" | "paid";
  /** Requests per second the emulated tenant allows. */
  rate: number;
  listing: "export" | "search";
}

const LISTING_PATH = /^\/api\/v2\/(users$|jobs\/)|^\/exports\//;

async function measureCheckSync(
  n: number,
  options: RunOptions = { plan: "paid", rate: 100_000, listing: "export" },
): Promise<Measured> {
  const t = await startTenant();
  try {
    t.emulator.setPlan(options.plan);
    // Rate limiting is modelled in the tests; the export bench would only measure the limit.
    t.emulator.setRateLimit(options.rate);
    t.emulator.jobs.setExportDelay(500);
    process.stderr.write(`seeding ${n} users on both sides...\n`);
    await seed(t, n);
    const before = t.emulator.requests.length;
    const started = performance.now();
    const run = await t.run("check-sync", ["--json", "--listing", options.listing]);
    const wallMs = performance.now() - started;
    if (run.code !== 1) throw new Error(`check-sync exited ${run.code}:\n${run.stderr}`);
    const report = JSON.parse(run.stdout) as {
      counts: Record<string, number>;
      calls: { managementApi: number; convex: number };
      stats: { peakRssMb: number };
    };
    const requests = t.emulator.requests.slice(before);
    const orphanCheckCalls = requests.filter((r) => r.path.startsWith("/api/v2/users/")).length;
    const listing = requests.filter((r) => LISTING_PATH.test(r.path));
    return {
      users: n,
      wallMs,
      listingMs: listing.length > 0 ? listing[listing.length - 1].at - listing[0].at : 0,
      rateLimited: requests.filter((r) => r.status === 429).length,
      peakRssMb: report.stats.peakRssMb,
      listingCalls: report.calls.managementApi - orphanCheckCalls,
      orphanCheckCalls,
      convexCalls: report.calls.convex,
      counts: report.counts,
    };
  } finally {
    await t.close();
  }
}

/** The naive way (bench/naiveCheck.ts), as a child process on the same kind of tenant. */
async function measureNaive(n: number) {
  const t = await startTenant();
  try {
    t.emulator.setRateLimit(100_000);
    await seed(t, n);
    const run = await start(TSX, [resolve(ROOT, "bench/naiveCheck.ts")], {
      env: t.env(),
      cwd: t.dir,
    }).done;
    if (run.code !== 0) throw new Error(`the naive check failed:\n${run.stderr}`);
    return JSON.parse(run.stdout) as {
      wallMs: number;
      listed: number;
      stoppedBy: string;
      managementCalls: number;
      convexCalls: number;
      peakRssMb: number;
    };
  } finally {
    await t.close();
  }
}

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;
const rate = (users: number, wall: number) =>
  `${Math.round((users * 1000) / wall).toLocaleString("en-US")} users/s`;

/** `--listing search`: the Free-plan listing beside the export job, both at 2 requests/s. */
async function mainSearch(): Promise<number> {
  const n = usersArg(10_000);
  const rate = 2;
  const exported = await measureCheckSync(n, { plan: "paid", rate, listing: "export" });
  const searched = await measureCheckSync(n, { plan: "free", rate, listing: "search" });
  console.log(
    `\ncheck-sync of ${n.toLocaleString("en-US")} users (1% missing, 1% orphaned, 1% drifted), the emulated tenant at ${rate} requests/s (Auth0's Free plan), measured in real time`,
  );
  console.log(
    `  ${"listing".padEnd(34)} ${"Mgmt API calls".padStart(14)} ${"listing time".padStart(12)} ${"orphan checks".padStart(13)} ${"429s".padStart(5)} ${"check-sync wall".padStart(15)}`,
  );
  for (const [label, m] of [
    ["export job (paid plan)", exported],
    ["user search (Free plan)", searched],
  ] as const) {
    console.log(
      `  ${label.padEnd(34)} ${String(m.listingCalls).padStart(14)} ${ms(m.listingMs).padStart(12)} ${String(m.orphanCheckCalls).padStart(13)} ${String(m.rateLimited).padStart(5)} ${ms(m.wallMs).padStart(15)}`,
    );
  }
  console.log(
    `  the export job's processing time is the emulator's (500 ms); a real job of ${n.toLocaleString("en-US")} users takes Auth0 longer. Listing calls include the token request; orphan checks and calls count retries after a 429.`,
  );
  const perTenK = (searched.listingMs / n) * 10_000;
  console.log(`  user search: ${ms(perTenK)} per 10,000 users at ${rate} requests/s`);
  const checks: [string, boolean][] = [
    [
      `both listings find every difference`,
      [exported, searched].every(
        (m) =>
          m.counts.missing === Math.floor(n / 100) &&
          m.counts.drift === Math.floor(n / 100) &&
          m.counts.orphans === Math.floor(n / 100),
      ),
    ],
    [
      `the search needs about one call per 100 users (${searched.listingCalls} for ${n.toLocaleString("en-US")})`,
      searched.listingCalls <= Math.ceil(n / 100) * 1.3 + 10,
    ],
  ];
  console.log("");
  for (const [label, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${label}`);
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

async function main(): Promise<number> {
  if (listingArg() === "search") return mainSearch();
  const n = usersArg(100_000);
  const small = await measureCheckSync(Math.max(100, Math.floor(n / 10)));
  const big = await measureCheckSync(n);
  // The baseline runs on the smaller tenant: convex-test's per-call cost grows with the table, so
  // this flatters the naive way, and at 100,000 users it would take minutes to reach its cap.
  const naive = await measureNaive(small.users);

  console.log(`\ncheck-sync, complete comparison (1% missing, 1% orphaned, 1% drifted)`);
  for (const m of [small, big]) {
    console.log(
      `  ${m.users.toLocaleString("en-US").padStart(9)} users: ${ms(m.wallMs)} wall, ${rate(m.users, m.wallMs)}, peak RSS ${m.peakRssMb} MB, ` +
        `Management API ${m.listingCalls} listing + ${m.orphanCheckCalls} orphan checks, Convex ${m.convexCalls} calls`,
    );
    console.log(
      `             found: missing ${m.counts.missing}, drift ${m.counts.drift}, orphans ${m.counts.orphans}, in sync ${m.counts.inSync}`,
    );
  }
  console.log(
    `\nnaive baseline (list endpoint + one Convex call per user), on the ${small.users.toLocaleString("en-US")}-user tenant`,
  );
  console.log(
    `  listed ${naive.listed.toLocaleString("en-US")} of ${small.users.toLocaleString("en-US")} users, stopped by ${naive.stoppedBy}`,
  );
  console.log(
    `  ${ms(naive.wallMs)} wall for those, ${rate(naive.listed, naive.wallMs)}, peak RSS ${naive.peakRssMb} MB, Management API ${naive.managementCalls} calls, Convex ${naive.convexCalls} calls`,
  );
  const naivePerUser = naive.wallMs / naive.listed;
  const bigPerUser = big.wallMs / big.users;
  console.log(
    `  per user: naive ${naivePerUser.toFixed(3)} ms vs check-sync ${bigPerUser.toFixed(3)} ms (${(naivePerUser / bigPerUser).toFixed(1)}x); ` +
      `extrapolated to ${n.toLocaleString("en-US")} users the naive way would take ${ms(naivePerUser * n)} and ${n + naive.managementCalls} calls, if the list endpoint allowed it`,
  );
  console.log(
    `\norphan checks are one GET /api/v2/users/{id} per candidate: at Auth0's 2/s (free), 15/s and 50/s that is ` +
      `${[2, 15, 50].map((r) => ms((big.orphanCheckCalls / r) * 1000)).join(", ")} for ${big.orphanCheckCalls} candidates`,
  );

  const checks: [string, boolean][] = [
    [
      `check of ${n.toLocaleString("en-US")} users under ${WALL_TARGET_MS / 1000} s (${ms(big.wallMs)})`,
      big.wallMs < WALL_TARGET_MS,
    ],
    [`peak RSS under ${RSS_TARGET_MB} MB (${big.peakRssMb} MB)`, big.peakRssMb < RSS_TARGET_MB],
    [
      `listing calls do not grow with the users (${small.listingCalls} at ${small.users.toLocaleString("en-US")}, ${big.listingCalls} at ${n.toLocaleString("en-US")})`,
      big.listingCalls <= small.listingCalls + 3,
    ],
    [
      `every difference found (missing, drift, orphans = 1% each)`,
      big.counts.missing === Math.floor(n / 100) &&
        big.counts.drift === Math.floor(n / 100) &&
        big.counts.orphans === Math.floor(n / 100),
    ],
  ];
  console.log("");
  for (const [label, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${label}`);
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench:reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
