/**
 * Runs the project's scripts as child processes, the way a user or CI runs them: the demo, the
 * tests and the benchmarks use it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
/**
 * tsx's command (what `node_modules/.bin/tsx` links to), resolved as a dependency: installed as
 * a package, tsx sits in the app's node_modules, not in this package's.
 */
export const TSX = createRequire(import.meta.url).resolve("tsx/cli");
/** The `convex-auth0-users` entry point that `npm run X` calls. */
export const CLI = resolve(ROOT, "scripts/cli.ts");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, interleaved. */
  output: string;
}

export interface Started {
  child: ChildProcess;
  done: Promise<Run>;
  /** Signals the whole process group: tsx runs the script in a child process of its own. */
  kill(signal: NodeJS.Signals): void;
}

/** Starts `command`; `input` is written to its stdin, which is then closed. */
export function start(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; input?: string },
): Started {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["pipe", "pipe", "pipe"],
    // Its own process group, so kill() reaches the script under tsx too.
    detached: true,
  });
  const done = new Promise<Run>((ok, fail) => {
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
      output += d;
    });
    child.stderr!.on("data", (d) => {
      stderr += d;
      output += d;
    });
    child.on("error", fail);
    child.on("close", (code) => ok({ code, stdout, stderr, output }));
  });
  child.stdin!.end(opts.input ?? "");
  return { child, done, kill: (signal) => process.kill(-child.pid!, signal) };
}

/** Runs `convex-auth0-users <command>` (scripts/cli.ts) with tsx, as `npm run` does, and waits. */
export function runScript(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; input?: string },
): Promise<Run> {
  return start(TSX, [CLI, command, ...args], opts).done;
}
