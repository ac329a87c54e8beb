/**
 * What every reconcile command does the same way: flags, `.env.local`, the configuration check,
 * the progress display, a confirmation prompt, and turning a failure into a message and exit 2.
 */
import { createInterface } from "node:readline/promises";
import { setFlagsFromString } from "node:v8";
import { parseCommandFlags, type CommandSpec } from "../cli/spec";
import { loadEnvFile, type Flags } from "../deployCli";
import { LISTING_MODES, type ListingMode } from "./auth0Users";
import { readSyncConfig, type SyncConfig } from "./config";
import { ReconcileError } from "./errors";
import { createProgress, type Progress } from "./progress";
import { EXIT } from "./report";

export interface Command {
  flags: Flags;
  config: SyncConfig;
  progress: Progress;
  json: boolean;
  /** `--listing auto|export|search` (default auto): how the Auth0 users are listed. */
  listing: ListingMode;
  /** Prints a line for people: stdout, or stderr when stdout holds the JSON document. */
  say(line: string): void;
}

/**
 * How much V8's heap may grow past what survived the last full collection, in percent. The
 * commands keep their data outside the heap (auth0Index.ts) and make short-lived garbage by the
 * gigabyte (export lines, pages of rows, HTTP calls); on a machine with memory to spare V8 lets
 * the heap reach 4 times its live size before collecting, which at a million users was ~100 MB
 * of garbage on top of the data. Growing by at most half keeps the footprint near the data on
 * any machine, for a few more collections.
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Parses flags (the command's table in scripts/lib/cli/commands.ts) and reads the configuration,
 * or prints every problem and exits 2.
 */
export function startCommand(spec: CommandSpec): Command {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const name = spec.name;
  const flags = parseCommandFlags(process.argv.slice(2), spec);
  if ("error" in flags) {
    console.error(`${name}: ${flags.error}`);
    process.exit(EXIT.error);
  }
  const listing = parseListing(flags.values.get("listing"));
  if ("error" in listing) {
    console.error(`${name}: ${listing.error}. Nothing was read or written.`);
    process.exit(EXIT.error);
  }
  loadEnvFile(process.env);
  const read = readSyncConfig(process.env);
  if ("problems" in read) {
    for (const problem of read.problems) console.error(`${name}: ${problem}`);
    console.error(`${name}: nothing was read or written.`);
    process.exit(EXIT.error);
  }
  const json = flags.booleans.has("json");
  return {
    flags,
    config: read.config,
    progress: createProgress(),
    json,
    listing: listing.mode,
    say: json ? (line) => console.error(line) : (line) => console.log(line),
  };
}

/** Asks for a line of text on the terminal (trimmed). */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Reads `--listing` (absent: auto). */
export function parseListing(value: string | undefined): { mode: ListingMode } | { error: string } {
  if (value === undefined) return { mode: "auto" };
  if ((LISTING_MODES as readonly string[]).includes(value)) return { mode: value as ListingMode };
  return { error: `--listing must be one of ${LISTING_MODES.join(", ")} (got "${value}")` };
}

/** Asks a yes/no question on the terminal (default no). */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * Exits with `code` once stdout and stderr have taken everything written: a `--json` report of a
 * large tenant (megabytes into a pipe) is otherwise cut short by process.exit.
 */
export function exitAfterOutput(code: number): void {
  process.exitCode = code;
  process.stderr.write("", () => process.stdout.write("", () => process.exit(code)));
}

/** Runs `main`, printing a failure (never a stack, never a secret) and exiting with its code. */
export function run(name: string, main: () => Promise<number>): void {
  main().then(exitAfterOutput, (err: unknown) => {
    const message =
      err instanceof ReconcileError
        ? err.message
        : `unexpected error: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
    console.error(`${name}: ${message}`);
    exitAfterOutput(EXIT.error);
  });
}
