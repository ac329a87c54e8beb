/**
 * `npm run bench:lock`: the cron-sync lock race, measured. N contender processes call
 * acquireLock at the same instant, TRIALS times, with no lock, a stale lock (a dead process of
 * this host) and an expired lock (another host's run past its deadline); prints how many trials
 * ended with exactly one holder (it must be all of them) and the histogram of holders.
 *
 *   TRIALS=100 CONTENDERS=8 tsx bench/lockRace.ts
 *
 * LOCK_MODULE=<path> measures another implementation with the same signature (e.g. an earlier
 * version of scripts/lib/reconcile/lock.ts, to compare).
 */
import { lockRace } from "./lib/lockRace";

const trials = Number(process.env.TRIALS ?? 100);
const contenders = Number(process.env.CONTENDERS ?? 8);
let failed = false;
for (const scenario of ["none", "stale", "expired"] as const) {
  const started = Date.now();
  const r = await lockRace(scenario, trials, contenders);
  const ok = r.exactlyOne === r.trials && r.fileMismatch === 0;
  failed ||= !ok;
  console.log(
    `lock ${scenario.padEnd(7)} ${r.contenders} contenders x ${r.trials} trials: exactly one holder in ${r.exactlyOne}/${r.trials}; holders per trial ${JSON.stringify(r.holders)}; file not the holder's: ${r.fileMismatch}; ${((Date.now() - started) / 1000).toFixed(1)} s ${ok ? "OK" : "FAIL"}`,
  );
}
process.exit(failed ? 1 : 0);
