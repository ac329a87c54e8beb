/**
 * `init`'s plan: for each file it manages, what it would do (create, edit, nothing because it is
 * done, or leave it to the user with the lines to add), computed from the files as they are and
 * written nowhere. scripts/lib/init/apply.ts carries a plan out.
 */
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { checkAuth0File, newAuth0File } from "./auth0File";
import { newAuthConfig, patchAuthConfig } from "./authConfigPatch";
import { envAppendix } from "./envExample";
import { CRONS, HTTP, newRouterFile, patchRouter } from "./routerPatch";
import { newSchema, patchSchema } from "./schemaPatch";
import { syntaxErrors, type PatchResult } from "./sourceEdits";

export interface InitOptions {
  /** The app's root (absolute): auth0-actions/ and .env.local.example go there. */
  root: string;
  /** The app's Convex folder (absolute). */
  convexDir: string;
  /** The import specifier of the module's server entry ("convex-auth0-users/server"). */
  server: string;
  /** The import specifier of the module's functions ("convex-auth0-users/functions"). */
  functions: string;
  /** Where the package's own auth0-actions/tenant.yaml and .env.local.example are read. */
  packageRoot: string;
}

/** The package's default specifiers, as an installed app imports them. */
export const PACKAGE_SPECIFIERS = {
  server: "convex-auth0-users/server",
  functions: "convex-auth0-users/functions",
} as const;

interface Base {
  /** Absolute path. */
  path: string;
  /** Relative to the app's root, with `/`. */
  shown: string;
  /** What the user should know (fields taken over, providers to remove, …). */
  notes: string[];
}
export type FileAction = Base &
  (
    | { kind: "create"; after: string }
    | { kind: "edit"; before: string; after: string }
    | { kind: "done" }
    | { kind: "by-hand"; reason: string; lines: string[] }
  );

export interface Plan {
  files: FileAction[];
  /** Files init refuses to touch at all (symlinks, folders, syntax errors): nothing is written. */
  problems: string[];
  /** The schema (as it will be) still declares users with `{ adopting: true }`. */
  adopting: boolean;
}

/** The file's text, undefined when absent, or the reason init will not touch it. */
function readTarget(path: string): { text?: string } | { problem: string } {
  if (!existsSync(path) && !isDanglingLink(path)) return {};
  const stat = lstatSync(path);
  if (stat.isSymbolicLink())
    return { problem: "is a symbolic link: init edits only regular files" };
  if (!stat.isFile()) return { problem: "is not a regular file" };
  return { text: readFileSync(path, "utf8") };
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The first of `names` present in `dir`, else the first name (the one to create). */
function pick(dir: string, names: string[]): string {
  return (
    names.map((n) => join(dir, n)).find((p) => existsSync(p) || isDanglingLink(p)) ??
    join(dir, names[0])
  );
}

/** Computes what init would do to the app. Reads files; writes nothing. */
export function planInit(opts: InitOptions): Plan {
  const { root, convexDir: dir, server, functions } = opts;
  const files: FileAction[] = [];
  const problems: string[] = [];
  const shown = (p: string) => relative(root, p).split(sep).join("/");

  const target = (
    path: string,
    create: () => string,
    patch: (file: string, text: string) => PatchResult,
    checkSyntax: boolean,
  ) => {
    const read = readTarget(path);
    const base = { path, shown: shown(path), notes: [] as string[] };
    if ("problem" in read) {
      problems.push(`${base.shown} ${read.problem}; nothing was written`);
      return;
    }
    if (read.text === undefined) {
      files.push({ ...base, kind: "create", after: create() });
      return;
    }
    if (checkSyntax) {
      const errors = syntaxErrors(path, read.text);
      if (errors.length > 0) {
        problems.push(
          `${base.shown} does not parse (${errors[0]}): fix it first; nothing was written`,
        );
        return;
      }
    }
    // A file with Windows line ends is patched with \n and gets its \r\n back.
    const crlf = read.text.includes("\r\n") && !/(^|[^\r])\n/.test(read.text);
    const result = patch(base.shown, crlf ? read.text.replace(/\r\n/g, "\n") : read.text);
    const after = result.kind === "edit" && crlf ? result.after.replace(/\n/g, "\r\n") : undefined;
    if (result.kind === "edit" && (after ?? result.after) !== read.text) {
      files.push({
        ...base,
        kind: "edit",
        before: read.text,
        after: after ?? result.after,
        notes: result.notes,
      });
    } else if (result.kind === "by-hand") {
      files.push({ ...base, ...result });
    } else {
      files.push({ ...base, kind: "done", notes: result.notes });
    }
  };

  target(
    pick(dir, ["auth0.ts", "auth0.js"]),
    () => newAuth0File(server, functions),
    (f, t) => checkAuth0File(f, t, server, functions),
    true,
  );
  target(
    pick(dir, ["schema.ts", "schema.js"]),
    () => newSchema(server),
    (f, t) => patchSchema(f, t, server),
    true,
  );
  target(
    pick(dir, ["http.ts", "http.js"]),
    () => newRouterFile(HTTP, server),
    (f, t) => patchRouter(f, t, HTTP, server),
    true,
  );
  target(
    pick(dir, ["crons.ts", "crons.js"]),
    () => newRouterFile(CRONS, server),
    (f, t) => patchRouter(f, t, CRONS, server),
    true,
  );
  target(
    pick(dir, ["auth.config.ts", "auth.config.js"]),
    () => newAuthConfig(server),
    (f, t) => patchAuthConfig(f, t, server),
    true,
  );
  const tenant = readFileSync(join(opts.packageRoot, "auth0-actions", "tenant.yaml"), "utf8");
  target(
    join(root, "auth0-actions", "tenant.yaml"),
    () => tenant,
    () => ({ kind: "done", notes: [] }),
    false,
  );
  const envTemplate = readFileSync(join(opts.packageRoot, ".env.local.example"), "utf8");
  target(
    join(root, ".env.local.example"),
    () => envAppendix(envTemplate, ""),
    (_f, text) => {
      const more = envAppendix(envTemplate, text);
      return more ? { kind: "edit", after: text + more, notes: [] } : { kind: "done", notes: [] };
    },
    false,
  );

  const schema = files.find((f) => /\/schema\.[jt]s$/.test(`/${f.shown}`));
  const schemaText =
    schema?.kind === "create" || schema?.kind === "edit"
      ? schema.after
      : schema?.kind === "done"
        ? readFileSync(schema.path, "utf8")
        : "";
  return { files, problems, adopting: /adopting:\s*true/.test(schemaText) };
}
