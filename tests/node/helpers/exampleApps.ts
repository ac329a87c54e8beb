/**
 * The harness the example-app adoption tests share (tests/node/exampleApp.test.ts for
 * examples/chat, tests/node/exampleTeamsApp.test.ts for examples/teams): run commands as a user's
 * shell does, pack this repository, install into a copy of the app, apply the hand edits a
 * developer makes, regenerate `convex/_generated` as a deployment-connected `npx convex dev` does,
 * typecheck, run the app's own tests with its own vitest, and print the figures of the adoption
 * (commands from a clean app to a first login, files edited by hand after init, type errors).
 */
import { execFile, execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import {
  convexDevTsconfig,
  formatted,
  templatesOf,
  writeDeploymentCodegen,
} from "./deploymentCodegen";

export const ROOT = resolve(import.meta.dirname, "../../..");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time, in seconds. */
  seconds: number;
}

/** The environment of a user's shell: nothing of this repository's or this test's settings. */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(AUTH0_|CONVEX_|VITEST|VITE_|NEXT_|NODE_OPTIONS$|TEST$)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };
}

/** Runs a command to its end; never throws for a non-zero exit. */
export async function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs = 300_000,
): Promise<Run> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, {
      cwd,
      env: userEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr, seconds: seconds() };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === "number" ? e.code : 1,
      stdout: e.stdout ?? "",
      stderr: `${e.stderr ?? ""}${typeof e.code === "string" ? ` (${e.code})` : ""}`,
      seconds: seconds(),
    };
  }
}

/** A run's exit and output, for an assertion's message. */
export const shown = (r: Run) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`.slice(-8000);

/** `tsc --project <project>` with the TypeScript that `typescript` resolves to from `cwd`. */
export const tsc = (cwd: string, project: string) =>
  run(process.execPath, [join(cwd, "node_modules/typescript/bin/tsc"), "--project", project], cwd);

/** The `error TS…` diagnostics of a tsc run. */
export const typeErrors = (r: Run): string[] =>
  r.stdout.split("\n").filter((line) => /error TS\d+:/.test(line));

/** The app's own bin of this package, as `npx convex-auth0-users …` runs it. */
export const npxPackage = (app: string, args: string[]) =>
  run(process.execPath, [join(app, "node_modules/.bin/convex-auth0-users"), ...args], app);

/** `npx convex codegen --system-udfs --typecheck=disable` with the app's own convex. */
export const offlineCodegen = (app: string, convexRoot = app) =>
  run(
    process.execPath,
    [
      join(convexRoot, "node_modules/convex/bin/main.js"),
      "codegen",
      "--system-udfs",
      "--typecheck=disable",
    ],
    app,
  );

/** The committed `convex/_generated` of `example` is what offline codegen writes for `app` (a
 * copy of it with its dependencies). */
export async function expectCommittedCodegen(example: string, app: string): Promise<void> {
  const r = await offlineCodegen(app);
  expect(r.code, shown(r)).toBe(0);
  for (const file of ["api.d.ts", "api.js", "dataModel.d.ts", "server.d.ts", "server.js"]) {
    expect(readFileSync(join(app, "convex/_generated", file), "utf8"), file).toBe(
      readFileSync(join(example, "convex/_generated", file), "utf8"),
    );
  }
}

/** A text edit the user makes by hand: `before` must be in the file exactly once. */
export interface HandEdit {
  file: string;
  /** Why the developer makes it; "(…)" marks a part of the edit above it. */
  why: string;
  before: string;
  /** The replacement; null deletes the whole file. */
  after: string | null;
}

export function applyHandEdit(app: string, edit: HandEdit): void {
  const path = join(app, edit.file);
  const text = readFileSync(path, "utf8");
  const at = text.indexOf(edit.before);
  expect(at, `${edit.file}: the text to edit is there`).toBeGreaterThanOrEqual(0);
  expect(text.indexOf(edit.before, at + 1), `${edit.file}: once`).toBe(-1);
  if (edit.after === null) rmSync(path);
  else
    writeFileSync(
      path,
      text.replace(edit.before, () => edit.after!),
    );
}

/** convex/_generated as a deployment-connected codegen writes it, with the app's own convex
 * templates (tests/node/helpers/deploymentCodegen.ts). */
export async function deploymentCodegen(app: string): Promise<void> {
  const templates = templatesOf(app);
  await writeDeploymentCodegen(join(app, "convex"), templates);
  // `npx convex dev` writes convex/tsconfig.json only when missing: the app's own stays.
  expect(readFileSync(join(app, "convex/tsconfig.json"), "utf8")).toBe(
    await formatted(await convexDevTsconfig(templates), "json"),
  );
}

/** `npx convex dev` of the app as it is now: the offline codegen, then the deployment's. */
export async function convexDevCodegen(app: string): Promise<void> {
  const codegen = await offlineCodegen(app);
  expect(codegen.code, shown(codegen)).toBe(0);
  await deploymentCodegen(app);
}

export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

/** The app's own vitest, from its own node_modules, with a JSON report per test. */
export async function appTests(
  app: string,
  files: string[] = [],
): Promise<{ run: Run; report: VitestReport }> {
  const out = join(app, `vitest-${Date.now()}.json`);
  const r = await run(
    process.execPath,
    [
      join(app, "node_modules/vitest/vitest.mjs"),
      "run",
      ...files,
      "--reporter=json",
      `--outputFile=${out}`,
    ],
    app,
  );
  expect(existsSync(out), shown(r)).toBe(true);
  const report = JSON.parse(readFileSync(out, "utf8")) as VitestReport;
  rmSync(out);
  return { run: r, report };
}

/** Each test's status by its full name. */
export const outcomes = (report: VitestReport): Record<string, string> =>
  Object.fromEntries(
    report.testResults.flatMap((f) => f.assertionResults.map((a) => [a.fullName, a.status])),
  );

/**
 * This repository's files (tracked, or new and not ignored) in `work/repo`, with its node_modules
 * linked: `npm pack` there runs the prepack build into the copy's own dist/, so it never races
 * another test's pack or build of the repository's dist/ (they run in parallel).
 */
function sourceCopy(work: string): string {
  const repo = join(work, "repo");
  const listed = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  for (const file of listed.split("\0")) {
    // A file deleted in the work tree is still listed by --cached.
    if (file === "" || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(repo, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"), "dir");
  return repo;
}

/** `npm pack` of this repository (from a copy, see {@link sourceCopy}) into `work`; the tarball. */
export async function packRepository(work: string): Promise<string> {
  const pack = await run("npm", ["pack", "--json", "--pack-destination", work], sourceCopy(work));
  expect(pack.code, shown(pack)).toBe(0);
  const [{ filename }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("[\n"))) as {
    filename: string;
  }[];
  return join(work, filename);
}

/** `npm install` in the app, of `specs` (none: the app's own dependencies). */
export async function npmInstall(app: string, specs: string[] = []): Promise<Run> {
  const install = await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", ...specs],
    app,
    600_000,
  );
  expect(install.code, shown(install)).toBe(0);
  return install;
}

/** What adopting the package into an example app took, as the adoption test measured it. */
export interface AdoptionFigures {
  /** The commands from a clean app to a first login, in order. */
  commands: string[];
  /** The edits made by hand after init. */
  handEdits: HandEdit[];
  /** `error TS…` lines of every tsc project after the edits and a deployment's codegen. */
  typeErrors?: number;
  /** Wall time of the steps worth knowing (installs, pack), in seconds. */
  seconds: Record<string, number>;
}

export const newFigures = (): AdoptionFigures => ({ commands: [], handEdits: [], seconds: {} });

/** The figures as lines a person can quote. */
export function figuresReport(app: string, figures: AdoptionFigures): string {
  const edits = figures.handEdits.filter((e) => !e.why.startsWith("("));
  const files = [...new Set(figures.handEdits.map((e) => e.file))];
  return [
    `${app}: ${figures.commands.length} commands from a clean app to a first login: ${figures.commands.join("; ")}`,
    `${app}: ${files.length} files edited by hand after init (${files.join(", ")}), ${edits.length} edits:`,
    ...edits.map((e) => `  ${e.file}: ${e.why}`),
    `${app}: ${figures.typeErrors ?? "?"} type errors under a deployment's codegen`,
    `${app}: seconds: ${Object.entries(figures.seconds)
      .map(([step, s]) => `${step} ${s}`)
      .join(", ")}`,
  ].join("\n");
}
