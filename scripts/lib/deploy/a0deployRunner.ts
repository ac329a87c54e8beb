/**
 * Runs auth0-deploy-cli's module API in a process of its own: `deploy({ input_file: <assets> })`,
 * with the assets and credentials read as one JSON document from stdin. Values travel as data,
 * never through YAML text or keyword substitution, and never through the environment or argv.
 * A child keeps a0deploy's global configuration (nconf) fresh for every run and lets the parent
 * scrub every line it prints. Exit code 0 on success, 1 on failure (the reason on stderr).
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";

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

type AjvClass = new (opts?: Record<string, unknown>) => unknown;

/**
 * a0deploy validates the assets against its schema of every resource type twice per import
 * (`Auth0.validate`, once when loading, once before applying), each time with a new Ajv 6, so it
 * compiles that large schema twice: about half of an import's CPU time. Ajv 6 takes a `cache`
 * option (compiled schemas keyed by the serialized schema); giving every Ajv that a0deploy makes
 * one shared cache lets the second validation reuse the first's validator. Same schema, same
 * options, same checks. Left as is (only slower) if a0deploy's Ajv is not the one expected.
 */
function shareAjvCache(require: NodeJS.Require): void {
  const a0deploy = dirname(require.resolve("auth0-deploy-cli"));
  const ajvPath = require.resolve("ajv/lib/ajv", { paths: [a0deploy] });
  const ajvPackage = require(require.resolve("ajv/package.json", { paths: [a0deploy] })) as {
    version: string;
  };
  if (!ajvPackage.version.startsWith("6.")) return;
  const Ajv = require(ajvPath) as AjvClass;
  const Cache = require(
    require.resolve("ajv/lib/cache", { paths: [a0deploy] }),
  ) as new () => unknown;
  const shared = new Cache();
  function SharedCacheAjv(opts: Record<string, unknown> = {}) {
    return new Ajv({ cache: shared, ...opts });
  }
  SharedCacheAjv.prototype = Ajv.prototype;
  require.cache[ajvPath]!.exports = SharedCacheAjv;
}

async function main(): Promise<void> {
  const input = JSON.parse(await readStdin()) as RunnerInput;
  const require = createRequire(import.meta.url);
  try {
    shareAjvCache(require);
  } catch {
    // a0deploy laid out otherwise (another version): the import runs as shipped, only slower.
  }
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
