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
import { checkerSpreadTables } from "./spreadTables";
import { editProblem, outsideApp, utf8Text } from "./targetFile";
import type { UserReference } from "../doctor/deletionConfig";
import { schemaUserReferences } from "./userReferences";
import type { LoosenedField } from "./usersTable";

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
  /** The app's root: init writes nothing outside it. */
  root: string;
  /** Relative to the app's root, with `/`. */
  shown: string;
  /** What the user should know (fields taken over, providers to remove, …). */
  notes: string[];
}
export type FileAction = Base &
  (
    | { kind: "create"; after: string }
    /** `before` is the file's text, which encodes back to exactly the bytes it was read from. */
    | { kind: "edit"; before: string; after: string }
    | { kind: "done" }
    | { kind: "by-hand"; reason: string; lines: string[] }
  );

export interface Plan {
  files: FileAction[];
  /**
   * Why init writes nothing at all: files it refuses (links, folders, syntax errors, not UTF-8,
   * read-only, hard-linked, outside the app) and edits that would do harm (a users table
   * shadowed, a field of the module's name with another meaning).
   */
  problems: string[];
  /** The schema (as it will be) still declares users with `{ adopting: true }`. */
  adopting: boolean;
  /** The app's fields that hold `v.id("users")` (what a deletion must not leave dangling). */
  references: UserReference[];
  /** The app's users fields the module takes over with a looser validator. */
  loosened: LoosenedField[];
}

/**
 * The file's text, undefined when absent, or the reason init will not touch it. With `decode`
 * false the file is only looked at (init never writes it once it exists): its text is "".
 */
function readTarget(
  path: string,
  root: string,
  decode: boolean,
): { text?: string } | { problem: string } {
  const outside = outsideApp(path, root);
  if (outside) return { problem: outside };
  if (!existsSync(path) && !isDanglingLink(path)) return {};
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) {
    return { problem: "is a symbolic link: init edits only regular files" };
  }
  if (!stat.isFile()) return { problem: "is not a regular file" };
  return decode ? utf8Text(readFileSync(path)) : { text: "" };
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
  const loosened: LoosenedField[] = [];
  const shown = (p: string) => relative(root, p).split(sep).join("/");

  const target = (
    path: string,
    create: () => string,
    patch: (file: string, text: string) => PatchResult,
    checkSyntax: boolean,
    decode = true,
  ) => {
    const read = readTarget(path, root, decode);
    const base = { path, shown: shown(path), root, notes: [] as string[] };
    if ("problem" in read) {
      problems.push(`${base.shown} ${read.problem}; nothing was written`);
      return;
    }
    if (read.text === undefined) {
      files.push({ ...base, kind: "create", after: create() });
      return;
    }
    // A byte order mark stays first, and a file with Windows line ends is patched with \n and
    // gets its \r\n back: the bytes init does not mean to change come back as they were.
    const bom = read.text.startsWith("\uFEFF") ? "\uFEFF" : "";
    const body = read.text.slice(bom.length);
    if (checkSyntax) {
      const errors = syntaxErrors(path, body);
      if (errors.length > 0) {
        problems.push(
          `${base.shown} does not parse (${errors[0]}): fix it first; nothing was written`,
        );
        return;
      }
    }
    const crlf = body.includes("\r\n") && !/(^|[^\r])\n/.test(body);
    const result = patch(base.shown, crlf ? body.replace(/\r\n/g, "\n") : body);
    if (result.kind === "refused") {
      for (const p of result.problems) problems.push(`${base.shown}: ${p}; nothing was written`);
      return;
    }
    const after =
      result.kind === "edit"
        ? bom + (crlf ? result.after.replace(/\n/g, "\r\n") : result.after)
        : undefined;
    if (after !== undefined && after !== read.text) {
      const cannot = editProblem(path, lstatSync(path));
      if (cannot) {
        problems.push(`${base.shown} ${cannot}; nothing was written`);
        return;
      }
      files.push({ ...base, kind: "edit", before: read.text, after, notes: result.notes });
      if (result.kind === "edit") loosened.push(...(result.loosened ?? []));
    } else if (result.kind === "by-hand") {
      files.push({ ...base, ...result });
    } else {
      files.push({ ...base, kind: "done", notes: result.notes });
    }
  };

  const schemaPath = pick(dir, ["schema.ts", "schema.js"]);
  const references = appReferences(schemaPath, root);
  target(
    pick(dir, ["auth0.ts", "auth0.js"]),
    () => newAuth0File(server, functions, references),
    (f, t) => checkAuth0File(f, t, server, functions, references),
    true,
  );
  target(
    schemaPath,
    () => newSchema(server),
    (f, t) => patchSchema(f, t, server, checkerSpreadTables(schemaPath, t)),
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
  return { files, problems, adopting: /adopting:\s*true/.test(schemaText), references, loosened };
}

/** The fields of the app's schema that hold a users id; none when it is absent or unreadable
 * (the schema's own target says why). */
function appReferences(path: string, root: string): UserReference[] {
  const read = readTarget(path, root, true);
  if (!("text" in read) || read.text === undefined) return [];
  const body = read.text.replace(/^\uFEFF/, "");
  return syntaxErrors(path, body).length > 0 ? [] : schemaUserReferences(path, body);
}
