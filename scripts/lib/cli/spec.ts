/**
 * A command's description as data: its flags, the variables it reads and its exit codes. The same
 * table feeds the parser (`parseCommandFlags`) and the help (`helpText`), so `--help` lists exactly
 * what the parser accepts.
 */
import { parseFlags, type Flags } from "../deployCli";

export interface FlagSpec {
  /** The flag's name without the dashes. */
  name: string;
  /** The value's placeholder (e.g. `<N>`) for a flag that takes one; absent for a switch. */
  value?: string;
  /** One line: what the flag does. */
  help: string;
}

export interface CommandSpec {
  /** The subcommand's name (`convex-auth0-users <name>`). */
  name: string;
  /** The file under scripts/ that runs it. */
  script: string;
  /** One line for the command list. */
  summary: string;
  /** Arguments shown after the name in the usage line when the flags alone do not say it. */
  usage?: string;
  flags: FlagSpec[];
  /** Environment variables (or files) the command reads, with why. */
  env: { name: string; help: string }[];
  exits: { code: number; meaning: string }[];
}

/** The bin's name, as users type it. */
export const BIN = "convex-auth0-users";

/** The switch names and the valued names, in the shape `parseFlags` takes. */
export function flagLists(spec: CommandSpec): [booleans: string[], valued: string[]] {
  return [
    spec.flags.filter((f) => f.value === undefined).map((f) => f.name),
    spec.flags.filter((f) => f.value !== undefined).map((f) => f.name),
  ];
}

/** Parses `argv` against the command's flags table; an unknown flag is an error. */
export function parseCommandFlags(argv: string[], spec: CommandSpec): Flags | { error: string } {
  return parseFlags(argv, ...flagLists(spec));
}

/**
 * Whether `argv` asks for help (`--help` or `-h`), read the way the parser reads it: a word that
 * is the value of a valued flag (`--name -h`) is not a request for help.
 */
export function wantsHelp(argv: string[], spec: CommandSpec): boolean {
  const valued = new Set(flagLists(spec)[1]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return true;
    const m = /^--([a-z-]+)$/.exec(arg);
    if (m && valued.has(m[1])) i++;
  }
  return false;
}

/** The usage line: the name, its arguments and every flag. */
export function usageLine(spec: CommandSpec): string {
  const flags = spec.flags.map((f) => `[--${f.name}${f.value ? ` ${f.value}` : ""}]`);
  return [`${BIN} ${spec.name}`, ...(spec.usage ? [spec.usage] : []), ...flags].join(" ");
}

/** The text `<command> --help` prints. */
export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`, "", spec.summary, ""];
  const column = (items: string[]) => Math.max(0, ...items.map((s) => s.length)) + 2;
  const flagNames = spec.flags.map((f) => `--${f.name}${f.value ? ` ${f.value}` : ""}`);
  lines.push("Flags:");
  const w = column([...flagNames, "-h, --help"]);
  spec.flags.forEach((f, i) => lines.push(`  ${flagNames[i].padEnd(w)}${f.help}`));
  lines.push(`  ${"-h, --help".padEnd(w)}print this help and exit 0 (reads nothing)`);
  lines.push("", "Environment:");
  if (spec.env.length === 0) lines.push("  (none)");
  const e = column(spec.env.map((v) => v.name));
  for (const v of spec.env) lines.push(`  ${v.name.padEnd(e)}${v.help}`);
  lines.push("", "Exit codes:");
  for (const x of spec.exits) lines.push(`  ${String(x.code).padEnd(3)}${x.meaning}`);
  return lines.join("\n");
}
