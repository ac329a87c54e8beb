/**
 * `npm run check-sync`: reads every user on both sides and reports what differs. Writes nothing.
 *
 *   tsx scripts/check-sync.ts [--json]
 *
 * Exit codes: 0 in sync, 1 differences found (missing, drift, orphans), 2 error (bad
 * configuration, unreachable service, failed export job). With --json, stdout holds exactly one
 * JSON document; progress and messages go to stderr.
 */
import { run, startCommand } from "./lib/reconcile/command";
import { EXIT, reportJson, reportText } from "./lib/reconcile/report";
import { createClients, hasDifferences, reconcile } from "./lib/reconcile/run";

run("check-sync", async () => {
  const started = Date.now();
  const cmd = startCommand("check-sync", []);
  const r = await reconcile(createClients(cmd.config), cmd.progress);
  const stats = {
    durationMs: Date.now() - started,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (cmd.json) console.log(JSON.stringify(reportJson(r, { stats }), null, 2));
  else for (const line of reportText(r)) console.log(line);
  return hasDifferences(r) ? EXIT.differences : EXIT.ok;
});
