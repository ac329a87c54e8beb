/**
 * `convex-auth0-users <command> [flags]`: the one entry point of every operation. `npm run X`
 * calls it too, so what the repository tests is what users run.
 *
 *   convex-auth0-users --help             the commands
 *   convex-auth0-users <command> --help   usage, flags, environment, exit codes (reads nothing)
 *
 * A command runs as if its script (scripts/<command>.ts) were started directly: argv is rewritten
 * to `[node, scripts/<command>.ts, ...flags]` before the script is loaded. An unknown command
 * exits 2 naming the known ones; so does a command whose optional peer dependency is missing
 * (./lib/cli/optionalPeers.ts).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { COMMANDS, type CommandName } from "./lib/cli/commands";
import { missingPeersMessage } from "./lib/cli/optionalPeers";
import { BIN, helpText, wantsHelp, type CommandSpec } from "./lib/cli/spec";

function commandList(): string {
  const specs: CommandSpec[] = Object.values(COMMANDS);
  const w = Math.max(...specs.map((s) => s.name.length)) + 2;
  return [
    `Usage: ${BIN} <command> [flags]`,
    `       ${BIN} <command> --help`,
    "",
    "Commands:",
    ...specs.map((s) => `  ${s.name.padEnd(w)}${s.summary}`),
  ].join("\n");
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

async function main(argv: string[]): Promise<number | undefined> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    console.error(commandList());
    return 2;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    const topic = first === "help" ? rest[0] : undefined;
    if (topic === undefined) {
      console.log(commandList());
      return 0;
    }
    if (!isCommand(topic)) return unknown(topic);
    console.log(helpText(COMMANDS[topic]));
    return 0;
  }
  if (!isCommand(first)) return unknown(first);
  const spec: CommandSpec = COMMANDS[first];
  if (wantsHelp(rest, spec)) {
    console.log(helpText(spec));
    return 0;
  }
  const missing = missingPeersMessage(BIN, first);
  if (missing) {
    console.error(missing);
    return 2;
  }
  const script = resolve(import.meta.dirname, spec.script);
  process.argv = [process.argv[0], script, ...rest];
  await import(pathToFileURL(script).href);
  return undefined; // the script owns the process from here, and sets the exit code
}

function unknown(name: string): number {
  console.error(
    `${BIN}: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(", ")} (${BIN} --help)`,
  );
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    console.error(`${BIN}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    process.exit(1);
  },
);
