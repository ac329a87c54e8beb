/**
 * The `init` command's run: flags, the app's Convex folder, the plan, the confirmation, the
 * writes, the app's own lookups by tokenIdentifier and the next steps. scripts/init.ts calls it.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { COMMANDS } from "../cli/commands";
import { parseCommandFlags } from "../cli/spec";
import { findAppInserts, INSERT_FIX, insertLine, insideInsert } from "../doctor/appInserts";
import { findAppLookups, LOOKUP_FIX, place } from "../doctor/appLookups";
import { applyPlan, type ApplyResult } from "./apply";
import { fieldReads } from "./fieldReads";
import { findConvexDir } from "./convexDir";
import { PACKAGE_SPECIFIERS, planInit } from "./plan";
import {
  hasChanges,
  insertsText,
  leftToYou,
  lookupsText,
  loosenedText,
  nextSteps,
  planJson,
  planText,
  summaryLine,
} from "./report";

/** `incomplete`: done (or a dry run), but edits are left to the user, each printed with its lines. */
export const EXIT = { ok: 0, failed: 1, usage: 2, incomplete: 3 } as const;

/** The package's root: its auth0-actions/tenant.yaml and .env.local.example are copied from it. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, "../../..");
const PACKAGE_NAME = "convex-auth0-users";

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Whether the app's package.json lists this package (absent or unreadable: no). */
function listsPackage(root: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<
      string,
      Record<string, string> | undefined
    >;
    return [pkg.dependencies, pkg.devDependencies].some(
      (deps) => deps !== undefined && Object.hasOwn(deps, PACKAGE_NAME),
    );
  } catch {
    return false;
  }
}

/** Runs `init` with `argv` (the flags); returns the exit code. */
export async function runInit(argv: string[]): Promise<number> {
  const flags = parseCommandFlags(argv, COMMANDS.init);
  if ("error" in flags) {
    console.error(`init: ${flags.error}`);
    return EXIT.usage;
  }
  const json = flags.booleans.has("json");
  const dryRun = flags.booleans.has("dry-run");
  const yes = flags.booleans.has("yes");
  // With --json, stdout holds only the JSON document.
  const say = json ? (s: string) => console.error(s) : (s: string) => console.log(s);

  const root = resolve(flags.values.get("dir") ?? process.cwd());
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    console.error(`init: --dir ${root} is not a folder. Nothing was written.`);
    return EXIT.usage;
  }
  const found = findConvexDir(root);
  if ("error" in found) {
    console.error(`init: ${found.error}. Nothing was written.`);
    return EXIT.usage;
  }
  const plan = planInit({
    root,
    convexDir: found.dir,
    ...PACKAGE_SPECIFIERS,
    packageRoot: PACKAGE_ROOT,
  });
  if (plan.problems.length > 0) {
    for (const p of plan.problems) console.error(`init: ${p}`);
    return EXIT.usage;
  }

  const text = planText(plan);
  if (text) say(text);
  say("");
  const changes = hasChanges(plan);
  let applied: ApplyResult | undefined;
  if (!changes) {
    say(`${summaryLine(plan)}: nothing to do`);
  } else if (dryRun) {
    say(`${summaryLine(plan)} (dry run: nothing was written)`);
  } else {
    if (!yes) {
      say(summaryLine(plan));
      if (!process.stdin.isTTY) {
        console.error(
          "init: not a terminal, so no one can confirm: pass --yes to apply. Nothing was written.",
        );
        return EXIT.usage;
      }
      if (!(await confirm("Apply these changes?"))) {
        say("Not confirmed. Nothing was written.");
        return EXIT.failed;
      }
    }
    applied = applyPlan(plan.files);
    for (const s of applied.skipped) console.error(`init: ${s.shown}: ${s.reason}`);
    say(summaryLine(plan, applied));
  }

  // A lookup inside a function that inserts into users goes with it (deleting it is the fix).
  const inserts = findAppInserts(found.dir).map((i) => ({ insert: i, line: insertLine(i, root) }));
  const lookups = findAppLookups(found.dir)
    .lookups.filter(
      (l) =>
        !insideInsert(
          l,
          inserts.map((i) => i.insert),
        ),
    )
    .map((l) => ({ lookup: l, place: place(l, root), text: l.text }));
  say("");
  if (inserts.length > 0)
    say(
      insertsText(
        inserts.map((i) => i.line),
        INSERT_FIX,
      ),
    );
  say(lookupsText(lookups, LOOKUP_FIX));
  const installed = listsPackage(root);
  if (changes || applied) {
    say("");
    say(
      ["Next steps:", ...nextSteps(plan, installed).map((s, i) => `  ${i + 1}. ${s}`)].join("\n"),
    );
  }
  // A field the module takes over with a looser validator: say the merged one and where the
  // app reads it, rather than loosen it silently.
  const reads = fieldReads(
    found.dir,
    plan.loosened.map((f) => f.name),
    root,
  );
  const loosened = plan.loosened.map((f) => ({ ...f, reads: reads.get(f.name) ?? [] }));
  if (loosened.length > 0) {
    say("");
    say(loosenedText(loosened));
  }
  const left = leftToYou(
    plan,
    inserts.map((i) => i.line),
  );
  if (left.length > 0) {
    say("");
    say(
      [
        `init: ${left.length} edit${left.length === 1 ? "" : "s"} left to you (the lines are above; exit ${EXIT.incomplete}):`,
        ...left.map((l) => `  - ${l}`),
      ].join("\n"),
    );
  }
  if (json) {
    console.log(
      JSON.stringify(
        planJson(plan, {
          convexDir: found.dir,
          dryRun,
          applied,
          lookups,
          inserts: inserts.map((i) => i.line),
          loosened,
          leftToYou: left,
          installed,
        }),
        null,
        2,
      ),
    );
  }
  if (applied && applied.skipped.length > 0) return EXIT.failed;
  return left.length > 0 ? EXIT.incomplete : EXIT.ok;
}
