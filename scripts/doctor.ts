/**
 * `npm run doctor`: checks every part of the setup from the outside and names what to fix. Most
 * failures look the same from a login ("the user row is not there") because the Action fails
 * open; each check here isolates one cause.
 *
 *   convex-auth0-users doctor [--json] [--redeliver] [--max-event-age <hours>]
 *     [--convex-dir <dir>] [--strict]
 *
 * Reads `.env.local` and the environment. Each check prints pass, fail (with what to do), warn
 * (with what to do) or skip (with why; a skipped check never counts as passed). --redeliver asks
 * Auth0 to redeliver the event stream's failed deliveries. The app's own code under --convex-dir
 * (default convex) is searched for lookups by identity.tokenIdentifier (scripts/lib/doctor/
 * appLookups.ts): a warning, which fails the doctor only with --strict. Its schema, loaded as the
 * Convex CLI loads it, must hold the module's tables and indexes; a deletion must not leave its
 * `v.id("users")` fields dangling; no function of its own may insert into users (failures:
 * scripts/lib/doctor/appSchema.ts, appInserts.ts). Exit codes: 0 nothing
 * failed, 1 a check failed (or, with --strict, warned), 2 bad usage or the wrong tenant (the
 * reconcile's AUTH0_DOMAIN or token is not the tenant Convex trusts).
 */
import { convexSiteOrigin } from "../server/http/siteUrl";
import { checkConvexSide, type CheckResult } from "./lib/convexPing";
import { loadBundle } from "./lib/deploy/inputs";
import { loadTenantSpec, tenantYamlPath, type TenantSpec } from "./lib/deploy/spec";
import { COMMANDS } from "./lib/cli/commands";
import { parseCommandFlags } from "./lib/cli/spec";
import { loadEnvFile } from "./lib/deployCli";
import { appInsertsCheck, findAppInserts, insideInsert } from "./lib/doctor/appInserts";
import { appLookupsCheck, isFolder } from "./lib/doctor/appLookups";
import { appSchemaChecks } from "./lib/doctor/appSchema";
import {
  convexUrlCheck,
  domainCheck,
  secretsCheck,
  variableChecks,
} from "./lib/doctor/localChecks";
import { reconcileChecks } from "./lib/doctor/reconcileChecks";
import { tenantChecks } from "./lib/doctor/tenantChecks";
import { createManagementClient } from "./lib/managementApi";

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The last event Convex received is recent enough for a stream that is supposed to deliver. */
function eventsRecentCheck(
  lastEventReceivedAt: number | null | undefined,
  expected: boolean,
  maxAgeHours: number,
  pingRan: boolean,
): CheckResult {
  const base = { id: "events.recent", title: "Convex received an event recently" };
  if (!expected) return { ...base, status: "skip", detail: "AUTH0_EVENTS_TOKEN is unset" };
  if (!pingRan) return { ...base, status: "skip", detail: "Convex did not answer the ping" };
  if (lastEventReceivedAt == null) {
    return {
      ...base,
      status: "fail",
      detail:
        "no event ever arrived: check the stream above, then change a test user in the Dashboard and run the doctor again",
    };
  }
  const ageH = (Date.now() - lastEventReceivedAt) / 3_600_000;
  const when = new Date(lastEventReceivedAt).toISOString();
  if (ageH > maxAgeHours) {
    return {
      ...base,
      status: "fail",
      detail: `the last event arrived ${when}, more than ${maxAgeHours} h ago: if users changed since, the stream is not delivering (see its failed deliveries)`,
    };
  }
  return { ...base, status: "pass", detail: when };
}

async function main(): Promise<number> {
  const flags = parseCommandFlags(process.argv.slice(2), COMMANDS.doctor);
  if ("error" in flags) {
    console.error(`doctor: ${flags.error}`);
    return EXIT.usage;
  }
  const maxAge = Number(flags.values.get("max-event-age") ?? 24 * 7);
  if (!Number.isFinite(maxAge) || maxAge <= 0) {
    console.error("doctor: --max-event-age must be a number of hours");
    return EXIT.usage;
  }
  const convexDir = flags.values.get("convex-dir");
  if (convexDir !== undefined && !isFolder(convexDir)) {
    console.error(`doctor: --convex-dir ${convexDir} is not a folder`);
    return EXIT.usage;
  }
  loadEnvFile(process.env);
  const env = process.env;
  const json = flags.booleans.has("json");
  const strict = flags.booleans.has("strict");
  const checks: CheckResult[] = [];
  const report = (c: CheckResult) => {
    checks.push(c);
    if (json) return;
    const mark = { pass: "PASS", fail: "FAIL", skip: "SKIP", warn: "WARN" }[c.status];
    const todo = c.status === "fail" || c.status === "warn";
    console.log(`${mark}  ${c.title}${todo ? "" : `: ${c.detail}`}`);
    for (const p of c.places ?? []) console.log(`      ${p}`);
    if (todo) console.log(`      -> ${c.detail}`);
  };

  const variables = variableChecks(env);
  variables.forEach(report);
  report(secretsCheck(env));
  const domain = domainCheck(env);
  report(domain);
  const url = convexUrlCheck(env);
  report(url);
  // The app's own code: no network, no variables. A lookup inside a function that inserts into
  // users is named with the insert: deleting that function is its fix.
  const appDir = convexDir ?? "convex";
  (await appSchemaChecks(appDir)).forEach(report);
  const inserts = isFolder(appDir) ? findAppInserts(appDir) : [];
  report(appInsertsCheck(appDir));
  report(appLookupsCheck(appDir, (l) => insideInsert(l, inserts)));

  const secret = env.AUTH0_ACTION_SECRET?.trim();
  const eventsExpected = (env.AUTH0_EVENTS_TOKEN ?? "").trim() !== "";
  let lastEvent: number | null | undefined;
  let pingRan = false;
  if (url.origin && secret && domain.issuer) {
    const convex = await checkConvexSide({
      origin: url.origin,
      secret,
      actionIssuer: domain.issuer,
    });
    convex.checks.forEach(report);
    pingRan = convex.answer !== undefined;
    lastEvent = convex.answer?.events?.lastEventReceivedAt;
  } else {
    report({
      id: "reach",
      title: "Convex answers the signed ping",
      status: "skip",
      detail: "needs a valid CONVEX_HTTP_URL, AUTH0_ACTION_SECRET and AUTH0_DOMAIN",
    });
  }

  const clientId = env.AUTH0_DEPLOY_CLIENT_ID?.trim();
  const clientSecret = env.AUTH0_DEPLOY_CLIENT_SECRET?.trim();
  if (clientId && clientSecret && domain.issuer) {
    let spec: TenantSpec | undefined;
    try {
      spec = await loadTenantSpec(tenantYamlPath());
    } catch (err) {
      report({
        id: "tenantYaml",
        title: "auth0-actions/tenant.yaml is readable",
        status: "fail",
        detail: err instanceof Error ? err.message : String(err),
      });
    }
    if (spec) {
      let localHeader: string | undefined;
      try {
        localHeader = (await loadBundle(spec.codePath)).header;
      } catch {
        localHeader = undefined;
      }
      const client = createManagementClient({
        domain: new URL(domain.issuer).host,
        clientId,
        clientSecret,
      });
      (
        await tenantChecks(client, {
          spec,
          localHeader,
          origin: url.origin,
          eventsExpected,
          organizationEvents: env.AUTH0_EVENTS_ORGANIZATIONS === "true",
          redeliver: flags.booleans.has("redeliver"),
        })
      ).forEach(report);
    }
  } else {
    report({
      id: "tenant",
      title: "the Auth0 tenant (Action, binding, event stream)",
      status: "skip",
      detail: "needs AUTH0_DEPLOY_CLIENT_ID, AUTH0_DEPLOY_CLIENT_SECRET and AUTH0_DOMAIN",
    });
  }
  report(eventsRecentCheck(lastEvent, eventsExpected, maxAge, pingRan));

  const reconcilePart = variables.find((c) => c.id === "env.reconcile");
  // The reconcile calls CONVEX_SITE_URL when it is set, else the Action's URL.
  const site = env.CONVEX_SITE_URL?.trim()
    ? convexSiteOrigin(env.CONVEX_SITE_URL, "CONVEX_SITE_URL")
    : url.origin
      ? { origin: url.origin }
      : undefined;
  if (reconcilePart?.status === "pass" && site && "problem" in site) {
    report({
      id: "sync.site",
      title: "CONVEX_SITE_URL is a .convex.site URL",
      status: "fail",
      detail: site.problem,
    });
  } else if (reconcilePart?.status === "pass" && site && "origin" in site && domain.issuer) {
    (
      await reconcileChecks({
        origin: site.origin,
        syncSecret: env.AUTH0_SYNC_SECRET!.trim(),
        domain: new URL(domain.issuer).host,
        clientId: env.AUTH0_M2M_CLIENT_ID!.trim(),
        clientSecret: env.AUTH0_M2M_CLIENT_SECRET!.trim(),
      })
    ).forEach(report);
  }

  const failed = checks.filter((c) => c.status === "fail").length;
  const skipped = checks.filter((c) => c.status === "skip").length;
  const warned = checks.filter((c) => c.status === "warn").length;
  const ok = failed === 0 && (!strict || warned === 0);
  if (json) console.log(JSON.stringify({ ok, checks }, null, 2));
  else {
    const warnings =
      warned === 0 ? "" : `, ${warned} warned${strict ? " (--strict: a failure)" : ""}`;
    console.log(
      `\n${checks.length - failed - skipped - warned} passed, ${failed} failed, ${skipped} skipped${warnings}${failed > 0 ? ": fix the FAIL lines above, in order" : ok ? "" : ": fix the WARN lines above"}`,
    );
  }
  // The wrong tenant is a refusal like the reconcile's (exit 2), not one more failed check.
  if (checks.some((c) => c.id === "sync.tenant" && c.status === "fail")) return EXIT.usage;
  return ok ? EXIT.ok : EXIT.failed;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`doctor: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    process.exit(EXIT.failed);
  },
);
