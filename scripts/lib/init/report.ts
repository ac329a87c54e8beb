/**
 * What `init` prints: the plan as unified diffs (new files against /dev/null), the lines to add
 * by hand for each file it leaves alone, the one-line summary, the app's own lookups by
 * tokenIdentifier and the next steps; and the same as one JSON document.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import type { AppLookup } from "../doctor/appLookups";
import type { ApplyResult } from "./apply";
import type { FileAction, Plan } from "./plan";

/** The unified diff of a create or an edit. */
export function fileDiff(f: FileAction): string | undefined {
  if (f.kind !== "create" && f.kind !== "edit") return undefined;
  const before = f.kind === "edit" ? f.before : "";
  return createTwoFilesPatch(
    f.kind === "create" ? "/dev/null" : `a/${f.shown}`,
    `b/${f.shown}`,
    before,
    f.after,
    undefined,
    undefined,
    { context: 3, headerOptions: FILE_HEADERS_ONLY },
  );
}

/** Counts by kind. */
export function counts(plan: Plan) {
  const n = (k: FileAction["kind"]) => plan.files.filter((f) => f.kind === k).length;
  return { create: n("create"), edit: n("edit"), done: n("done"), byHand: n("by-hand") };
}

/** Whether applying the plan would write anything. */
export function hasChanges(plan: Plan): boolean {
  const c = counts(plan);
  return c.create + c.edit > 0;
}

/** The plan for people: diffs, then what is done, then what is left to the user. */
export function planText(plan: Plan): string {
  const out: string[] = [];
  for (const f of plan.files) {
    const diff = fileDiff(f);
    if (diff) out.push(diff.trimEnd());
  }
  for (const f of plan.files) {
    if (f.kind === "done") out.push(`unchanged: ${f.shown} (already set up)`);
  }
  for (const f of plan.files) {
    if (f.kind !== "by-hand") continue;
    out.push(
      [
        `by hand: ${f.shown}: ${f.reason}. Left unchanged; add these lines yourself:`,
        ...f.lines.map((l) => `    ${l}`),
      ].join("\n"),
    );
  }
  const notes = plan.files.flatMap((f) => f.notes.map((n) => `note: ${n}`));
  if (notes.length > 0) out.push(notes.join("\n"));
  return out.join("\n\n");
}

/** `init: 2 to create, 3 to edit, 1 unchanged, by hand: 1 file` (or what was done). */
export function summaryLine(plan: Plan, applied?: ApplyResult): string {
  const c = counts(plan);
  const parts = applied
    ? [
        `${applied.written.length} written`,
        ...(applied.skipped.length ? [`${applied.skipped.length} NOT written`] : []),
      ]
    : [`${c.create} to create`, `${c.edit} to edit`];
  parts.push(`${c.done} unchanged`, `by hand: ${c.byHand} file${c.byHand === 1 ? "" : "s"}`);
  return `init: ${parts.join(", ")}`;
}

/** What to do after init, in order. */
export function nextSteps(plan: Plan, installed = true): string[] {
  const steps = [
    ...(installed ? [] : ["npm install convex-auth0-users (your package.json does not list it)"]),
    "npx convex env set AUTH0_DOMAIN <tenant>.<region>.auth0.com",
    "npx convex env set AUTH0_CLIENT_ID <your Auth0 application's Client ID>",
    "npx convex env set AUTH0_ACTION_SECRET <openssl rand -base64 32> (the same value goes into .env.local for the deploy)",
    "npx convex dev (generates convex/_generated and pushes the module's tables, routes and cron)",
  ];
  if (plan.adopting) {
    steps.push(
      `npx convex run auth0:adoptExistingRows '{"dryRun": true}', then npx convex run auth0:adoptExistingRows; once a dry run reports adopted: 0, remove { adopting: true } from users in your schema`,
    );
  }
  steps.push(
    "cp .env.local.example .env.local, fill in the Action's and the deploy's variables, then npx convex-auth0-users deploy (deploys the Post-Login Action)",
    "npx convex-auth0-users doctor (checks every part of the setup)",
  );
  return steps;
}

/** The lookups for people: each place and the fix once. */
export function lookupsText(lookups: { place: string; text: string }[], fix: string): string {
  if (lookups.length === 0) return "Your functions: no lookup by identity.tokenIdentifier found.";
  return [
    `Your functions look users up by identity.tokenIdentifier in ${lookups.length} place(s); they miss users who sign in through another domain:`,
    ...lookups.map((l) => `  ${l.place}  ${l.text}`),
    `Fix: ${fix}`,
  ].join("\n");
}

/** The users fields whose validator init loosens: the merged one, and where the app reads them. */
export function loosenedText(
  fields: { name: string; yours: string; merged: string; reads: string[] }[],
): string {
  return fields
    .map((f) =>
      [
        `users.${f.name}: yours is \`${f.yours}\`, the merged validator is the module's \`${f.merged}\` (Auth0 may omit it, and rows from before the adoption lack it): ${
          f.reads.length === 0
            ? `no read of .${f.name} found in your functions`
            : `your functions read .${f.name} at these places; where it is a users row, handle undefined:`
        }`,
        ...f.reads.map((r) => `  ${r}`),
      ].join("\n"),
    )
    .join("\n");
}

/** The app's own inserts into users for people: each place and the fix once. */
export function insertsText(lines: string[], fix: string): string {
  return [
    `Your functions insert into users in ${lines.length} place(s); the module creates the rows now:`,
    ...lines.map((l) => `  ${l}`),
    `Fix: ${fix}`,
  ].join("\n");
}

/** The edits init leaves to the user, one line each: files it could not edit, the app's own
 * inserts into users. Any makes init exit 3. */
export function leftToYou(plan: Plan, inserts: string[]): string[] {
  return [
    ...plan.files.flatMap((f) =>
      f.kind === "by-hand" ? [`${f.shown}: add the lines printed under "by hand: ${f.shown}"`] : [],
    ),
    ...inserts.map((i) => `delete the function that inserts into users: ${i}`),
  ];
}

/** The whole run as data (`--json`). */
export function planJson(
  plan: Plan,
  opts: {
    convexDir: string;
    dryRun: boolean;
    applied?: ApplyResult;
    lookups: { place: string; text: string; lookup: AppLookup }[];
    inserts: string[];
    loosened: { name: string; yours: string; merged: string; reads: string[] }[];
    leftToYou: string[];
    installed: boolean;
  },
) {
  return {
    convexDir: opts.convexDir,
    dryRun: opts.dryRun,
    summary: counts(plan),
    files: plan.files.map((f) => ({
      path: f.shown,
      action: f.kind,
      ...(f.kind === "by-hand" ? { reason: f.reason, lines: f.lines } : {}),
      ...(f.kind === "create" || f.kind === "edit" ? { diff: fileDiff(f) } : {}),
      notes: f.notes,
    })),
    written: opts.applied?.written ?? [],
    notWritten: opts.applied?.skipped ?? [],
    lookups: opts.lookups.map((l) => ({ place: l.place, text: l.text })),
    inserts: opts.inserts,
    loosened: opts.loosened,
    references: plan.references.map((r) => `${r.table}.${r.path}`),
    leftToYou: opts.leftToYou,
    nextSteps: hasChanges(plan) || opts.applied ? nextSteps(plan, opts.installed) : [],
  };
}
