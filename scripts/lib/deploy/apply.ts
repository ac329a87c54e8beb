/**
 * The import: only what the plan says must change, handed to auth0-deploy-cli's module API
 * (a0deployRunner.ts) as an object. Secret values go straight into the Action's and the stream's
 * assets through the child's stdin: no YAML text, no keyword substitution (so no quoting limits),
 * nothing on disk but the Action's code, which holds no secret.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { confidentialValues, redact, type DeployInputs, type LocalBundle } from "./inputs";
import type { DeployPlan } from "./plan";
import { RUNTIME, TRIGGER_ID, type TenantSpec } from "./spec";

const RUNNER = resolve(import.meta.dirname, "a0deployRunner.ts");
const CODE_FILE = "post-login.js";

/** The assets a0deploy imports: only the sections that must change, values filled in. */
export function importAssets(
  spec: TenantSpec,
  inputs: DeployInputs,
  plan: DeployPlan,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (plan.action.change !== "none") {
    out.actions = [
      {
        name: spec.actionName,
        code: `./${CODE_FILE}`,
        runtime: RUNTIME,
        dependencies: spec.dependencies,
        deployed: true,
        supported_triggers: spec.supportedTriggers,
        secrets: spec.secrets
          .filter((s) => inputs.secretValues.has(s.name))
          .map((s) => ({ name: s.name, value: inputs.secretValues.get(s.name) })),
      },
    ];
  }
  if (plan.bindings.change) {
    out.triggers = {
      [TRIGGER_ID]: plan.bindings.desired.map((b) => ({
        action_name: b.actionName,
        display_name: b.displayName,
      })),
    };
  }
  const stream = plan.eventStream;
  if (stream && (stream.change === "create" || stream.change === "update")) {
    out.eventStreams = [
      {
        name: stream.name,
        status: "enabled",
        subscriptions: stream.subscriptions.map((event_type) => ({ event_type })),
        destination: {
          type: "webhook",
          configuration: {
            webhook_endpoint: stream.endpoint,
            // Auth0 never returns it: every import of the stream sends it again.
            webhook_authorization: { method: "bearer", token: inputs.eventsToken },
          },
        },
      },
    ];
  }
  return out;
}

/** The code imported: the bundle and a trailer naming the commit and this run's fingerprint. */
export function deployedCode(bundle: LocalBundle, inputs: DeployInputs, fingerprint: string) {
  return `${bundle.code.replace(/\n*$/, "\n")}// convex-auth0-users deploy commit=${inputs.commit} fingerprint=${fingerprint}\n`;
}

/**
 * Imports the plan's changes with auth0-deploy-cli. Its output is forwarded line by line through
 * `out`, without colour codes and with every confidential value scrubbed. Returns its exit code.
 */
export async function applyPlan(opts: {
  spec: TenantSpec;
  inputs: DeployInputs;
  plan: DeployPlan;
  code: string;
  configPath: string;
  env: Record<string, string | undefined>;
  out: (line: string) => void;
}): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "deploy-auth0-"));
  try {
    await writeFile(join(dir, CODE_FILE), opts.code);
    const config = JSON.parse(await readFile(opts.configPath, "utf8")) as Record<string, unknown>;
    const input = JSON.stringify({
      assets: importAssets(opts.spec, opts.inputs, opts.plan),
      basePath: dir,
      config: {
        ...config,
        AUTH0_DOMAIN: opts.inputs.domain,
        AUTH0_CLIENT_ID: opts.inputs.clientId,
        AUTH0_CLIENT_SECRET: opts.inputs.clientSecret,
      },
    });
    return await runRunner(input, dir, opts.inputs, opts.env, opts.out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runRunner(
  input: string,
  cwd: string,
  inputs: DeployInputs,
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  const require = createRequire(import.meta.url);
  const tsx = pathToFileURL(require.resolve("tsx")).href;
  const sensitive = confidentialValues(inputs);
  // a0deploy's logger always colours its output; CI logs read better without escape codes.
  // eslint-disable-next-line no-control-regex
  const clean = (line: string) => redact(line.replace(/\u001b\[[0-9;]*m/g, ""), sensitive);
  const child = spawn(process.execPath, ["--import", tsx, RUNNER], {
    cwd,
    env: { ...env, FORCE_COLOR: "0" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const forward = (stream: NodeJS.ReadableStream) => {
    let buffered = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) out(`  a0deploy: ${clean(line)}`);
    });
    stream.on("end", () => {
      if (buffered.trim()) out(`  a0deploy: ${clean(buffered)}`);
    });
  };
  forward(child.stdout);
  forward(child.stderr);
  child.stdin.end(input);
  return new Promise((done) => {
    child.on("error", (err) => {
      out(`  a0deploy could not start: ${err.message}`);
      done(1);
    });
    child.on("close", (code) => done(code ?? 1));
  });
}
