/**
 * Runs auth0-deploy-cli's module API in a process of its own: `deploy({ input_file: <assets> })`,
 * with the assets and credentials read as one JSON document from stdin. Values travel as data,
 * never through YAML text or keyword substitution, and never through the environment or argv.
 * A child keeps a0deploy's global configuration (nconf) fresh for every run and lets the parent
 * scrub every line it prints. Exit code 0 on success, 1 on failure (the reason on stderr).
 */
import { createRequire } from "node:module";

interface RunnerInput {
  assets: Record<string, unknown>;
  /** Where relative `code` paths of the assets are read from. */
  basePath: string;
  config: Record<string, unknown>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<void> {
  const input = JSON.parse(await readStdin()) as RunnerInput;
  const require = createRequire(import.meta.url);
  const { deploy } = require("auth0-deploy-cli") as {
    deploy: (params: Record<string, unknown>) => Promise<void>;
  };
  await deploy({
    input_file: input.assets,
    base_path: input.basePath,
    // No keyword mappings and no environment inheritance: the assets already hold the values.
    config: { ...input.config, AUTH0_KEYWORD_REPLACE_MAPPINGS: {} },
    env: false,
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`a0deploy failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
