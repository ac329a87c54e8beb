/**
 * Bundles the Post-Login Action (auth0-actions/post-login.ts) into one CommonJS file Auth0 can run:
 * auth0-actions/dist/post-login.js. `npm run build` runs it; tests, the demo and the benchmark call
 * {@link buildAction}.
 *
 * The first line is `// convex-auth0-users post-login <version> sha256=<hex>`, where the hash
 * covers every bundled input (path and contents), so the deploy step can tell whether the code in
 * the tenant is the code in this tree.
 */
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { COMMANDS } from "./lib/cli/commands";
import { parseCommandFlags } from "./lib/cli/spec";

const ROOT = resolve(import.meta.dirname, "..");
/** Where the bundle is written. */
export const ACTION_BUNDLE_PATH = resolve(ROOT, "auth0-actions/dist/post-login.js");
const ENTRY = resolve(ROOT, "auth0-actions/post-login.ts");
/** Auth0 refuses Action code over 100 kB. */
export const MAX_BUNDLE_BYTES = 100 * 1024;
/** auth0-deploy-cli rewrites text of this shape in Action code (keyword replacement). */
export const KEYWORD_MARKER = /##[A-Za-z0-9_]+##|@@[A-Za-z0-9_]+@@/;
/** The header's exact shape; the deploy step parses it. */
export const HEADER_PATTERN = /^\/\/ convex-auth0-users post-login (\S+) sha256=([0-9a-f]{64})$/;

export interface BuiltAction {
  /** Absolute path of the bundle. */
  path: string;
  /** Size of the bundle, header included. */
  bytes: number;
  /** The first line, without the newline. */
  header: string;
  /** The bundled input files, project-relative, sorted: what the header's hash covers. */
  inputs: string[];
}

export interface BuildOptions {
  /** Entry file (default auth0-actions/post-login.ts). */
  entry?: string;
  /** Output file (default {@link ACTION_BUNDLE_PATH}). */
  outPath?: string;
}

/** Thrown when the bundle would be refused by Auth0 or mangled by auth0-deploy-cli. */
export class ActionBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ActionBuildError";
  }
}

/**
 * Builds the bundle and writes it (atomically, so a concurrent reader never sees half a file).
 * Throws {@link ActionBuildError} and writes nothing if the output is unfit to deploy.
 */
export async function buildAction(options: BuildOptions = {}): Promise<BuiltAction> {
  const outPath = options.outPath ?? ACTION_BUNDLE_PATH;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [options.entry ?? ENTRY],
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node22",
    minify: true,
    write: false,
    metafile: true,
    legalComments: "none",
    logLevel: "silent",
    outfile: outPath,
  });
  const output = result.outputFiles.find((f) => f.path.endsWith(".js"));
  if (!output) throw new ActionBuildError("esbuild produced no JavaScript output");

  const version = await packageVersion();
  const inputs = Object.keys(result.metafile.inputs).sort();
  const header = `// convex-auth0-users post-login ${version} sha256=${await hashInputs(ROOT, inputs)}`;
  const code = `${header}\n${output.text}`;

  const marker = KEYWORD_MARKER.exec(code);
  if (marker) {
    throw new ActionBuildError(
      `the bundle contains "${marker[0]}", which auth0-deploy-cli would replace as a keyword: change the source so no such text is emitted`,
    );
  }
  const bytes = Buffer.byteLength(code);
  if (bytes > MAX_BUNDLE_BYTES) {
    throw new ActionBuildError(
      `the bundle is ${bytes} bytes, over Auth0's ${MAX_BUNDLE_BYTES}-byte limit for Action code`,
    );
  }

  await mkdir(dirname(outPath), { recursive: true });
  // The project is "type": "module"; this marks the bundle's folder as CommonJS, as Auth0 runs it,
  // so Node (tests, benchmark, demo) loads the same file the same way.
  // Written only when different: a rebuild (npm pack's, during the tests) never truncates the
  // marker under a process that is loading the bundle.
  const typeMarker = resolve(dirname(outPath), "package.json");
  const commonjs = '{ "type": "commonjs" }\n';
  if ((await readFile(typeMarker, "utf8").catch(() => "")) !== commonjs) {
    await writeFile(typeMarker, commonjs);
  }
  const tmp = `${outPath}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, code);
  await rename(tmp, outPath);
  return { path: outPath, bytes, header, inputs };
}

/**
 * SHA-256 (hex) over each input's path (relative to `root`, as esbuild's metafile names it) and
 * contents, in path order: any change to a bundled file, or to which files are bundled, changes it.
 */
export async function hashInputs(root: string, inputs: string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const input of [...inputs].sort()) {
    const contents = await readFile(resolve(root, input));
    // Length prefixes keep (path, contents) pairs unambiguous.
    hash.update(`${input.length}:${input}\n${contents.length}:`);
    hash.update(contents);
    hash.update("\n");
  }
  return hash.digest("hex");
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(resolve(ROOT, "package.json"), "utf8")) as {
    version?: unknown;
  };
  if (typeof pkg.version !== "string" || !/^\S+$/.test(pkg.version)) {
    throw new ActionBuildError("package.json has no usable version");
  }
  return pkg.version;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const flags = parseCommandFlags(process.argv.slice(2), COMMANDS["build-action"]);
  if ("error" in flags) {
    console.error(`build-action: ${flags.error}`);
    process.exit(2);
  }
  buildAction().then(
    ({ path, bytes, header }) => {
      console.log(`${header}`);
      console.log(`built ${path} (${bytes} bytes, ${(bytes / 1024).toFixed(1)} kB)`);
    },
    (err: unknown) => {
      console.error(`build-action: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
