/** Small command-line helpers shared by the deploy scripts. */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "node:util";

export interface Flags {
  booleans: Set<string>;
  values: Map<string, string>;
}

/** Parses `--name` and `--name value` / `--name=value` flags; unknown flags are an error. */
export function parseFlags(
  argv: string[],
  booleans: string[],
  valued: string[],
): Flags | { error: string } {
  const flags: Flags = { booleans: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) return { error: `unexpected argument "${arg}"` };
    const [, name, inline] = m;
    if (booleans.includes(name) && inline === undefined) flags.booleans.add(name);
    else if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--"))
        return { error: `--${name} needs a value` };
      flags.values.set(name, value);
    } else return { error: `unknown flag --${name}` };
  }
  return flags;
}

/**
 * Loads `.env.local` from the working directory into `env` when the file exists, without
 * overriding variables already set (CI variables win over a developer's file).
 */
export function loadEnvFile(env: NodeJS.ProcessEnv, path = resolve(process.cwd(), ".env.local")) {
  if (!existsSync(path)) return;
  const parsed = parseEnv(readFileSync(path, "utf8"));
  for (const [key, value] of Object.entries(parsed)) {
    if (env[key] === undefined && value !== undefined) env[key] = value;
  }
}
