/**
 * Benchmark of the Post-Login Action bundle (`npm run bench:action`). Measured in one run:
 * - bundle size (target < 20 kB; Auth0's hard limit is 100 kB);
 * - cold `require` time of the bundle, median over fresh `node` processes;
 * - the Action's added latency: interleaved (a) a direct signed request with the same body and
 *   (b) a full `onExecutePostLogin`, both against the same local Convex host (target: p50 of b
 *   minus p50 of a < 2 ms).
 * Prints PASS/FAIL per target and exits 1 if one fails. Stops early at a time bound.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import type { Event, PostLoginAPI } from "@auth0/actions/post-login/v3";
import { profileFromAuth0User } from "../server/users/auth0Profile";
import { audienceFor, signRequest } from "../server/http/signedRequest";
import { tokenIdentifier } from "../server/tokenIdentifier";
import { buildAction } from "../scripts/build-action";
import { startLocalConvex } from "../scripts/lib/localConvex";
import { makeApi, makeEvent, TENANT_DOMAIN } from "../local-auth0/auth0Event";

const BUNDLE_TARGET_BYTES = 20 * 1024;
const ADDED_P50_TARGET_MS = 2;
const COLD_RUNS = 15;
const ITERATIONS = 300;
const WARMUP = 30;
// The whole latency phase stops here even if ITERATIONS are not done (slow or shared machine).
const LATENCY_BUDGET_MS = 60_000;

const run = promisify(execFile);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

async function coldRequireMs(bundlePath: string): Promise<number[]> {
  const script =
    "const t=process.hrtime.bigint();require(process.argv[1]);" +
    "process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))";
  const times: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const { stdout } = await run(process.execPath, ["-e", script, bundlePath], { timeout: 10_000 });
    times.push(Number(stdout));
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<number> {
  const built = await buildAction();
  console.log(built.header);
  const bundleOk = built.bytes < BUNDLE_TARGET_BYTES;

  const cold = await coldRequireMs(built.path);

  const secret = randomBytes(32).toString("base64url");
  process.env.AUTH0_DOMAIN = TENANT_DOMAIN;
  process.env.AUTH0_ACTION_SECRET = secret;
  delete process.env.AUTH0_CUSTOM_DOMAIN;
  const convex = await startLocalConvex();
  const requireCjs = createRequire(import.meta.url);
  const { onExecutePostLogin } = requireCjs(built.path) as {
    onExecutePostLogin: (event: Event, api: PostLoginAPI) => Promise<void>;
  };

  const event = makeEvent({
    secrets: { CONVEX_HTTP_URL: convex.url, AUTH0_ACTION_SECRET: secret },
  });
  const body = JSON.stringify({
    tokenIdentifier: tokenIdentifier(TENANT_DOMAIN, event.user.user_id),
    ...profileFromAuth0User(event.user),
  });
  const endpoint = audienceFor(convex.url);

  const direct = async () => {
    const jwt = await signRequest(secret, body, endpoint);
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body,
    });
    const reply = (await res.json()) as { userId?: string };
    if (!res.ok || !reply.userId) throw new Error(`direct request failed: HTTP ${res.status}`);
  };
  // The Action logs one line per login; count them instead of printing 300 lines.
  const actionLines: string[] = [];
  const action = async () => {
    const { api, state } = makeApi();
    await onExecutePostLogin(event, api);
    if (state.denied.length > 0) throw new Error("the Action denied a login");
  };
  const originalLog = console.log;
  const originalError = console.error;
  console.log = console.error = (...args: unknown[]) => void actionLines.push(args.join(" "));

  const a: number[] = [];
  const b: number[] = [];
  const started = performance.now();
  let timedOut = false;
  try {
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      if (performance.now() - started > LATENCY_BUDGET_MS) {
        timedOut = true;
        break;
      }
      // Alternate which goes first so neither always runs on a warmer path.
      const order = i % 2 === 0 ? [direct, action] : [action, direct];
      for (const fn of order) {
        const t0 = performance.now();
        await fn();
        const ms = performance.now() - t0;
        if (i >= WARMUP) (fn === direct ? a : b).push(ms);
      }
    }
  } finally {
    console.log = originalLog;
    console.error = originalError;
    await convex.close();
  }
  const failedLines = actionLines.filter((l) => !/^convex-auth0-users: upserted /.test(l));
  if (failedLines.length > 0) {
    console.error(`The Action did not upsert: ${failedLines[0]}`);
    return 1;
  }

  a.sort((x, y) => x - y);
  b.sort((x, y) => x - y);
  const p50a = percentile(a, 50);
  const p50b = percentile(b, 50);
  const added = p50b - p50a;
  const latencyOk = b.length > 0 && added < ADDED_P50_TARGET_MS;

  console.log("");
  console.log(`bundle size          ${built.bytes} bytes (${(built.bytes / 1024).toFixed(1)} kB)`);
  console.log(
    `  target < ${BUNDLE_TARGET_BYTES / 1024} kB       ${verdict(bundleOk)}   (Auth0 limit 100 kB)`,
  );
  console.log(
    `cold require         median ${fmt(percentile(cold, 50))} over ${cold.length} fresh node processes (min ${fmt(cold[0])}, max ${fmt(cold[cold.length - 1])})`,
  );
  console.log(
    `latency (${a.length} interleaved iterations after ${WARMUP} warm-up${timedOut ? `, stopped at the ${LATENCY_BUDGET_MS / 1000} s bound` : ""})`,
  );
  console.log(`  direct signed fetch  p50 ${fmt(p50a)}   p99 ${fmt(percentile(a, 99))}`);
  console.log(`  onExecutePostLogin   p50 ${fmt(p50b)}   p99 ${fmt(percentile(b, 99))}`);
  console.log(
    `  added by the Action  p50 ${fmt(added)}   ratio p50 ${(p50b / p50a).toFixed(3)}x   (p99 difference ${fmt(percentile(b, 99) - percentile(a, 99))})`,
  );
  console.log(`  target added p50 < ${ADDED_P50_TARGET_MS} ms   ${verdict(latencyOk)}`);
  return bundleOk && latencyOk ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench:action failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
