/**
 * `npm run check-sync`: reads every user on both sides and reports what differs. Writes nothing.
 *
 *   convex-auth0-users check-sync [--json] [--orgs] [--listing auto|export|search]
 *
 * --orgs also compares organizations, members and member roles. Exit codes: 0 in sync,
 * 1 differences found (missing, drift, orphans), 2 error (bad configuration, unreachable service,
 * failed export job). With --json, stdout holds exactly one JSON document; progress and messages
 * go to stderr.
 */
import { COMMANDS } from "./lib/cli/commands";
import { run, startCommand } from "./lib/reconcile/command";
import {
  hasOrgDifferences,
  orgsReportJson,
  orgsReportText,
  reconcileOrgs,
} from "./lib/reconcile/orgs";
import { EXIT, reportJson, reportText } from "./lib/reconcile/report";
import { hasDifferences, openClients, reconcile } from "./lib/reconcile/run";

run("check-sync", async () => {
  const started = Date.now();
  const cmd = startCommand(COMMANDS["check-sync"]);
  const clients = await openClients(cmd.config, cmd.progress);
  const r = await reconcile(clients, cmd.progress, { listing: cmd.listing });
  const orgs = cmd.flags.booleans.has("orgs")
    ? await reconcileOrgs(clients.auth0, clients.convex, cmd.progress)
    : null;
  const stats = {
    durationMs: Date.now() - started,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (cmd.json) {
    const extra = { stats, ...(orgs ? { organizations: orgsReportJson(orgs) } : {}) };
    console.log(JSON.stringify(reportJson(r, extra), null, 2));
  } else {
    for (const line of reportText(r)) console.log(line);
    if (orgs) for (const line of orgsReportText(orgs)) console.log(line);
  }
  return hasDifferences(r) || (orgs && hasOrgDifferences(orgs)) ? EXIT.differences : EXIT.ok;
});
