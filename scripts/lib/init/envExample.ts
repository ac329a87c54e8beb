/**
 * .env.local.example: the module's variables (taken from the package's own .env.local.example,
 * with their comments and section headers) appended under one header, only those the app's file
 * does not define yet. The package's file names its own `npm run` scripts, which an app does not
 * have: what is written into the app names the bin's commands (`npx convex-auth0-users deploy`).
 */
import { COMMANDS } from "../cli/commands";

const BIN = "npx convex-auth0-users";

/**
 * `line` with each `npm run a, b:c` named as the bin's commands (`npx convex-auth0-users a,
 * b-c`); a script the bin has no command for (deploy:convex, which is `convex deploy`) is left
 * out. A section header keeps its width.
 */
export function forApp(line: string): string {
  const out = line.replace(
    /npm run ([a-z][a-z0-9:-]*(?:, [a-z][a-z0-9:-]*)*)/g,
    (_, list: string) => {
      const names = list
        .split(", ")
        .map((n) => n.replace(/:/g, "-"))
        .filter((n) => Object.hasOwn(COMMANDS, n));
      return names.length > 0 ? `${BIN} ${names.join(", ")}` : "npx convex deploy";
    },
  );
  const header = /^(# ── .*?) ─+$/.exec(out);
  if (!header || out === line) return out;
  return `${header[1]} ${"─".repeat(Math.max(3, line.length - header[1].length - 1))}`;
}

/** The names a dotenv text defines (`NAME=`, `export NAME=`). */
export function definedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

interface Chunk {
  comments: string[];
  variables: { name: string; line: string }[];
}

/** The template's sections (`# ── Title ──` lines), each a list of comment-then-variables chunks.
 * What precedes the first section (the file's own preamble) is left out. */
function sections(template: string): { header: string; chunks: Chunk[] }[] {
  const out: { header: string; chunks: Chunk[] }[] = [];
  let comments: string[] = [];
  for (const raw of template.split("\n")) {
    const line = raw.trimEnd();
    if (/^# ──/.test(line)) {
      out.push({ header: line, chunks: [] });
      comments = [];
      continue;
    }
    const section = out[out.length - 1];
    if (!section) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    if (m) {
      const last = section.chunks[section.chunks.length - 1];
      if (comments.length === 0 && last) last.variables.push({ name: m[1], line });
      else section.chunks.push({ comments, variables: [{ name: m[1], line }] });
      comments = [];
    } else if (line.startsWith("#")) {
      comments.push(line);
    } else {
      comments = [];
    }
  }
  return out;
}

/** The header above what init appends. */
export const ENV_HEADER =
  "# ── convex-auth0-users (added by npx convex-auth0-users init; see its README) ──────────────";

/**
 * The text to append to `existing` (the app's file, "" when absent) so it names every variable
 * of `template`; "" when none is missing.
 */
export function envAppendix(template: string, existing: string): string {
  const have = definedNames(existing);
  const parts: string[] = [];
  for (const section of sections(template)) {
    const lines: string[] = [];
    for (const chunk of section.chunks) {
      const missing = chunk.variables.filter((v) => !have.has(v.name));
      if (missing.length === 0) continue;
      lines.push(...chunk.comments.map(forApp), ...missing.map((v) => v.line));
      for (const v of missing) have.add(v.name);
    }
    if (lines.length > 0) parts.push([forApp(section.header), ...lines].join("\n"));
  }
  if (parts.length === 0) return "";
  const lead = existing === "" ? "" : existing.endsWith("\n") ? "\n" : "\n\n";
  return `${lead}${ENV_HEADER}\n\n${parts.join("\n\n")}\n`;
}
