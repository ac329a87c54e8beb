/**
 * The package as users get it: `npm pack` of this repository (its `prepack` builds dist/ and the
 * Action first) and `npm install <tarball>` into an empty project. The package test and
 * bench/packageSize.ts use it.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/lib/childProcess";

export interface Packed {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Size of the .tgz in bytes. */
  size: number;
  /** Sum of the packed files' sizes. */
  unpackedSize: number;
  /** Every packed path, relative to the package root. */
  files: string[];
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output. */
export function run(
  command: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Ran> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => ok({ code, stdout, stderr }));
  });
}

async function must(command: string, args: string[], cwd: string): Promise<string> {
  const r = await run(command, args, { cwd });
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  }
  return r.stdout;
}

/** `npm pack` of this repository into `dir` (runs its prepack build). */
export async function pack(dir: string): Promise<Packed> {
  const out = await must("npm", ["pack", "--json", "--pack-destination", dir], ROOT);
  // npm prints the prepack build's output before the JSON document.
  const json = JSON.parse(out.slice(out.indexOf("[\n"))) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  const [info] = json;
  return {
    tarball: join(dir, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files.map((f) => f.path).sort(),
  };
}

/**
 * An empty ESM project in `dir` with `packages` installed (a tarball path and/or `name@version`),
 * the way the README tells users to install.
 */
export async function installInto(dir: string, packages: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "packed-package-app", private: true, type: "module" }, null, 2),
  );
  await must("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...packages], dir);
}

/** `du -sk path`: kibibytes on disk. */
export async function du(path: string): Promise<number> {
  return Number((await must("du", ["-sk", path], ROOT)).split("\t")[0]);
}

/** The version this repository's devDependencies pin for `name` (so installs hit npm's cache). */
export function devVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  const v = pkg.devDependencies[name];
  if (!v) throw new Error(`${name} is not a devDependency`);
  return `${name}@${v}`;
}
