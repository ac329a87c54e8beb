/**
 * What the README and docs/ show a reader must work when followed: every relative link reaches a
 * file (and a heading, for `#anchor`s, by GitHub's own slugs), and every
 * `npx convex-auth0-users <command> --flag` they print is a command and flag of the bin's table
 * (scripts/lib/cli/commands.ts), the same table `--help` prints.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import GithubSlugger from "github-slugger";
import { describe, expect, test } from "vitest";
import { COMMANDS } from "../../scripts/lib/cli/commands";
import { BIN } from "../../scripts/lib/cli/spec";

const ROOT = resolve(import.meta.dirname, "../..");

/** README.md and every Markdown file under docs/, as paths from the repository's root. */
function documents(): string[] {
  const docs = join(ROOT, "docs");
  const found = existsSync(docs)
    ? readdirSync(docs, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".md"))
        .map((f) => join("docs", f))
    : [];
  return ["README.md", ...found.sort()];
}

/** The Markdown outside fenced code blocks (links inside code are examples, not links). */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** The anchors GitHub gives a file's headings. */
function anchors(file: string): Set<string> {
  const slugger = new GithubSlugger();
  const out = new Set<string>();
  for (const m of prose(readFileSync(join(ROOT, file), "utf8")).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm))
    out.add(slugger.slug(m[1].replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")));
  return out;
}

/** Relative link targets of a file: `[text](target)` and `[name]: target`, web links left out. */
function relativeLinks(text: string): string[] {
  const targets = [
    ...[...prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]),
    ...[...prose(text).matchAll(/^\s*\[[^\]]+\]:\s+(\S+)/gm)].map((m) => m[1]),
  ];
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** Every `npx convex-auth0-users ...` command line the file shows, in code or prose. */
function commandLines(text: string): string[] {
  const re = new RegExp(`npx ${BIN}((?:[ \\t]+[^\\s\`#;|&)]+)*)`, "g");
  return [...text.matchAll(re)].map((m) => m[1].trim());
}

describe.each(documents())("%s", (file) => {
  const text = readFileSync(join(ROOT, file), "utf8");

  test("every relative link resolves, anchors included", () => {
    const broken: string[] = [];
    for (const target of relativeLinks(text)) {
      const [path, anchor] = target.split("#", 2);
      const into = path === "" ? file : relative(ROOT, resolve(ROOT, dirname(file), path));
      if (!existsSync(join(ROOT, into))) {
        broken.push(`${target}: no file ${into}`);
        continue;
      }
      if (anchor !== undefined && into.endsWith(".md") && !anchors(into).has(anchor))
        broken.push(`${target}: no heading #${anchor} in ${into}`);
    }
    expect(broken).toEqual([]);
  });

  test(`every \`npx ${BIN} <command> --flag\` shown is a command and flag of the bin`, () => {
    const wrong: string[] = [];
    for (const line of commandLines(text)) {
      const [command, ...rest] = line.split(/\s+/).filter((w) => w !== "");
      // The bare bin, `--help`, and placeholders such as `<command>` name no command.
      if (command === undefined || command.startsWith("-") || command.startsWith("<")) continue;
      const spec = Object.hasOwn(COMMANDS, command)
        ? COMMANDS[command as keyof typeof COMMANDS]
        : undefined;
      if (!spec) {
        wrong.push(`${line}: no command ${command}`);
        continue;
      }
      const known = new Set(["help", ...spec.flags.map((f) => f.name)]);
      for (const word of rest) {
        const flag = /^\[?--([a-z][a-z0-9-]*)/.exec(word)?.[1];
        if (flag !== undefined && !known.has(flag))
          wrong.push(`${line}: ${command} has no --${flag}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
