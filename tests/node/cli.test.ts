/**
 * The `convex-auth0-users` entry point: every subcommand answers --help / -h from the same flags
 * table its parser reads, reading and writing nothing; an unknown flag or subcommand exits 2.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { COMMANDS } from "../../scripts/lib/cli/commands";
import { flagLists, wantsHelp, type CommandSpec } from "../../scripts/lib/cli/spec";
import { CLI, ROOT, start, TSX, type Run } from "../../scripts/lib/childProcess";

const specs: CommandSpec[] = Object.values(COMMANDS);
// A working directory whose .env.local is a folder: reading it would throw, so a help that
// loaded it could not exit 0.
const dir = mkdtempSync(join(tmpdir(), "cli-help-"));
mkdirSync(join(dir, ".env.local"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<Run> {
  // No variables beyond what tsx needs: help must not depend on configuration.
  return start(TSX, [CLI, ...args], { env: { PATH: process.env.PATH }, cwd: dir }).done;
}

/** Every `--flag` named in the script's leading doc comment (its documented usage). */
function documentedFlags(script: string): string[] {
  const source = readFileSync(resolve(ROOT, "scripts", script), "utf8");
  const doc = /^\/\*\*[\s\S]*?\*\//.exec(source)?.[0] ?? "";
  return [...new Set([...doc.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]))].sort();
}

describe("convex-auth0-users", () => {
  test("--help lists every subcommand and exits 0", async () => {
    const run = await cli(["--help"]);
    expect(run.code, run.output).toBe(0);
    for (const spec of specs) expect(run.stdout).toMatch(new RegExp(`^  ${spec.name} `, "m"));
  });

  test("help <command> prints that command's help", async () => {
    const run = await cli(["help", "doctor"]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain("Usage: convex-auth0-users doctor");
    expect(run.stdout).toContain("--convex-dir <dir>");
  });

  test("an unknown subcommand exits 2 naming the known ones", async () => {
    const run = await cli(["frobnicate", "--help"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    for (const spec of specs) expect(run.stderr).toContain(spec.name);
  });

  test("no subcommand exits 2 with the list", async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("check-sync");
  });

  test("each command's documented usage names exactly the flags its table (and parser) takes", () => {
    for (const spec of specs) {
      const table = flagLists(spec).flat().sort();
      expect(documentedFlags(spec.script), spec.script).toEqual(table);
    }
  });

  test("help is asked the way the parser reads: a flag's value is not a request for help", () => {
    const upsert = COMMANDS["upsert-user"];
    expect(wantsHelp(["--name", "-h"], upsert)).toBe(false);
    expect(wantsHelp(["--name=x", "-h"], upsert)).toBe(true);
    expect(wantsHelp(["--json", "--help"], upsert)).toBe(true);
  });

  describe.each(specs.map((s) => [s.name, s] as const))("%s", (name, spec) => {
    test("--help and -h print usage, every flag, the variables and exit codes; exit 0, write nothing", async () => {
      const before = readdirSync(dir).sort();
      for (const flag of ["--help", "-h"]) {
        const run = await cli([name, flag]);
        expect(run.code, run.output).toBe(0);
        expect(run.stderr).toBe("");
        expect(run.stdout).toContain(`Usage: convex-auth0-users ${name}`);
        for (const f of spec.flags) {
          const line = run.stdout.split("\n").find((l) => l.startsWith(`  --${f.name}`));
          expect(line, `--${f.name}`).toContain(f.help);
        }
        for (const v of spec.env) expect(run.stdout).toContain(v.name);
        const exits = run.stdout.slice(run.stdout.indexOf("Exit codes:"));
        for (const x of spec.exits) expect(exits).toMatch(new RegExp(`^  ${x.code} +\\S`, "m"));
      }
      expect(readdirSync(dir).sort()).toEqual(before);
    });

    test("an unknown flag exits 2 and names it", async () => {
      const run = await cli([name, "--no-such-flag"]);
      expect(run.code, run.output).toBe(2);
      expect(run.stderr).toContain("unknown flag --no-such-flag");
    });
  });
});
