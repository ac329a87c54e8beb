/**
 * The Auth0 half of the deploy: puts the built post-login Action in a tenant with
 * auth0-deploy-cli, safely. Each step lives in its own file under `deploy/`:
 *
 * 1. Inputs (`deploy/spec.ts`, `deploy/inputs.ts`): tenant.yaml, every variable and the bundle are
 *    checked before any network call; all problems are named at once, values never printed.
 * 2. Plan (`deploy/plan.ts`): one read of the tenant (GET only), compared with what this run would
 *    deploy; the binding list keeps every other Action in its place.
 * 3. `--dry-run` prints the plan and stops: nothing is written.
 * 4. Apply (`deploy/apply.ts`): auth0-deploy-cli's module API imports only what must change.
 * 5. Verify (`deploy/verify.ts`): the tenant is read again and must show no difference left, and
 *    the Convex deployment must accept a request signed with the secret and URL just written into
 *    the Action (`POST /auth0/ping`). Only then is the deploy "verified".
 *
 * The Event Stream (webhook to `<CONVEX_HTTP_URL>/auth0/events`) is opt-in: without
 * AUTH0_EVENTS_TOKEN it is left out entirely (no read, no write). With it, the stream is imported
 * only when it is missing, its endpoint, subscriptions, status or authorization method differ, or
 * with --force / --force-event-stream: Auth0 never returns the bearer token, so a changed token
 * cannot be seen, and re-sending it on every run would make every deploy a write.
 */
import {
  createManagementClient,
  findActionByName,
  listBindings,
  listEventStreams,
} from "./managementApi";
import { applyPlan, deployedCode } from "./deploy/apply";
import {
  loadBundle,
  readDeployInputs,
  safeMessage,
  type DeployInputs,
  type LocalBundle,
} from "./deploy/inputs";
import {
  deployFingerprint,
  formatPlan,
  planDeploy,
  planEventStream,
  type DeployPlan,
} from "./deploy/plan";
import {
  DEPLOY_CONFIG,
  DeployInputError,
  EXIT,
  loadTenantSpec,
  tenantYamlPath,
  TRIGGER_ID,
  type TenantSpec,
} from "./deploy/spec";
import { verifyConvex, verifyTenant, type Verification } from "./deploy/verify";

export { EXIT } from "./deploy/spec";

export interface DeployAuth0Options {
  /** Environment to read (process.env in the CLI). */
  env: Record<string, string | undefined>;
  dryRun?: boolean;
  /** Re-import the Action (and the event stream, when enabled) even when the tenant matches. */
  force?: boolean;
  /** Re-import only the event stream, e.g. to send a rotated AUTH0_EVENTS_TOKEN. */
  forceEventStream?: boolean;
  /** Overrides AUTH0_ACTION_BINDING_POSITION. */
  position?: string;
  tenantPath?: string;
  configPath?: string;
  /** Where progress lines go. */
  out?: (line: string) => void;
}

export interface DeployAuth0Result {
  exitCode: (typeof EXIT)[keyof typeof EXIT];
  outcome: "dry-run" | "no-op" | "deployed" | "invalid-input" | "failed" | "verification-failed";
  plan?: DeployPlan;
  verification?: Verification;
  problems?: string[];
}

/** Runs the Auth0 half of the deploy. Never throws; the result says what happened. */
export async function deployAuth0(options: DeployAuth0Options): Promise<DeployAuth0Result> {
  const out = options.out ?? ((line: string) => console.log(line));
  let spec: TenantSpec;
  let inputs: DeployInputs;
  let bundle: LocalBundle;
  try {
    spec = await loadTenantSpec(options.tenantPath ?? tenantYamlPath());
    inputs = readDeployInputs(options.env, spec, options.position);
    bundle = await loadBundle(spec.codePath);
  } catch (err) {
    const problems = err instanceof DeployInputError ? err.problems : [String(err)];
    for (const p of problems) out(`error: ${p}`);
    out("Nothing was deployed.");
    return { exitCode: EXIT.invalidInput, outcome: "invalid-input", problems };
  }
  const fingerprint = deployFingerprint(spec, bundle, inputs);

  // One client (one access token) for the plan's reads and the verification's.
  const client = createManagementClient(inputs);
  let plan: DeployPlan;
  try {
    const tenant = await findActionByName(client, spec.actionName);
    const current = await listBindings(client, TRIGGER_ID);
    plan = planDeploy(spec, bundle, inputs, fingerprint, tenant, current, options.force === true);
    if (spec.eventStream) {
      // Without the token the stream is off: its scopes may not even be granted, so no read.
      const streams = inputs.eventsToken === undefined ? undefined : await listEventStreams(client);
      const force = options.force
        ? "--force"
        : options.forceEventStream
          ? "--force-event-stream"
          : undefined;
      plan.eventStream = planEventStream(spec.eventStream, inputs, streams, force);
    }
  } catch (err) {
    const invalid = err instanceof DeployInputError;
    const problems = invalid ? err.problems : [safeMessage(err, inputs)];
    for (const p of problems) out(`error: ${p}`);
    out("Nothing was deployed.");
    return invalid
      ? { exitCode: EXIT.invalidInput, outcome: "invalid-input", problems }
      : { exitCode: EXIT.failed, outcome: "failed", problems };
  }
  for (const line of formatPlan(plan, options.dryRun === true)) out(line);
  if (options.dryRun) return { exitCode: EXIT.ok, outcome: "dry-run", plan };

  const streamChange =
    plan.eventStream?.change === "create" || plan.eventStream?.change === "update";
  const changes = plan.action.change !== "none" || plan.bindings.change || streamChange;
  if (changes) {
    out("Importing with auth0-deploy-cli...");
    const code = await applyPlan({
      spec,
      inputs,
      plan,
      code: deployedCode(bundle, inputs, fingerprint),
      configPath: options.configPath ?? DEPLOY_CONFIG,
      env: options.env,
      out,
    });
    if (code !== 0) {
      const problems = [`a0deploy import failed (exit ${code}); see its output above`];
      out(`error: ${problems[0]}`);
      return { exitCode: EXIT.failed, outcome: "failed", plan, problems };
    }
  } else {
    out("The tenant already matches: nothing to import.");
  }

  let verification: Verification;
  try {
    verification = await verifyTenant(
      client,
      inputs,
      spec,
      bundle,
      fingerprint,
      plan.bindings.desired,
      plan.eventStream,
    );
  } catch (err) {
    const problems = [`verification could not read the tenant: ${safeMessage(err, inputs)}`];
    out(`error: ${problems[0]}`);
    return { exitCode: EXIT.verificationFailed, outcome: "verification-failed", plan, problems };
  }
  verification.convex = await verifyConvex(inputs);
  const convexFailures = verification.convex.filter((c) => c.status === "fail");
  verification.problems.push(...convexFailures.map((c) => `Convex: ${c.title}: ${c.detail}`));
  verification.ok = verification.problems.length === 0;
  if (!verification.ok) {
    out("Verification FAILED:");
    for (const p of verification.problems) out(`  - ${p}`);
    return {
      exitCode: EXIT.verificationFailed,
      outcome: "verification-failed",
      plan,
      verification,
      problems: verification.problems,
    };
  }
  out(
    `Verified: Action "${spec.actionName}" (${verification.actionId}) version ${verification.version} is deployed and built from commit ${verification.commit}.`,
  );
  out(`  code header matches the local bundle: ${verification.header}`);
  out(`  secrets: ${[...inputs.secretValues.keys()].sort().join(", ")}`);
  out(
    `  ${TRIGGER_ID} bindings: ${verification.bindings.map((b, i) => `${i + 1}. ${b.actionName}`).join(", ")}`,
  );
  out(
    `  Convex accepts the Action's signed requests: ${verification.convex.map((c) => c.id).join(", ")} passed`,
  );
  for (const c of verification.convex) {
    if (c.id === "secret" && c.detail.includes("PREVIOUS")) out(`  note: ${c.detail}`);
  }
  const stream = verification.eventStream;
  if (stream) {
    out(
      `  event stream "${stream.name}" (${stream.id}): ${stream.status}, ${stream.subscriptions.join(", ")} -> ${stream.endpoint}, ${stream.authorizationMethod} token`,
    );
  } else if (plan.eventStream?.change === "off") {
    out(`  event stream: not deployed (${plan.eventStream.tokenVariable} is unset)`);
  }
  return {
    exitCode: EXIT.ok,
    outcome: changes ? "deployed" : "no-op",
    plan,
    verification,
  };
}
