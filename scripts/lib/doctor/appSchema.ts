/**
 * The app's schema as Convex sees it: `convex/schema.ts` bundled the way the Convex CLI bundles
 * it (esbuild, platform browser, ESM, conditions `convex` and `module`, the app's node_modules),
 * then evaluated and exported (`schema.export()`, the JSON the CLI pushes). The doctor compares it
 * with the module's own tables and indexes (a schema left half-adopted makes every module
 * function fail at run time: `Cannot use index "by_auth0_user_id"`), and reads from it which app
 * tables hold `v.id("users")`. Evaluating runs the app's schema module in Node, as any tool that
 * loads a config file does; it writes nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import ts from "typescript";
import { moduleSchema } from "../../../server/tables";
import type { CheckResult } from "../convexPing";
import { isFolder } from "./appLookups";
import { deletionVerdict, readDeletionConfig, type UserReference } from "./deletionConfig";

/** A validator as `schema.export()` writes it. */
type ValidatorJson = { type: string; [key: string]: unknown };
interface FieldJson {
  fieldType: ValidatorJson;
  optional: boolean;
}
/** One table of `schema.export()`. */
export interface ExportedTable {
  tableName: string;
  indexes: { indexDescriptor: string; fields: string[] }[];
  documentType: ValidatorJson | null;
}

/** The schema file Convex reads in `dir` (schema.ts, else schema.js), if any. */
export function schemaFile(dir: string): string | undefined {
  return ["schema.ts", "schema.js"].map((n) => join(dir, n)).find((p) => existsSync(p));
}

/**
 * The app's tables, or why they could not be read (bundling or evaluating failed, no default
 * export); `absent` when the folder has no schema file.
 */
export async function loadAppSchema(
  dir: string,
): Promise<{ tables: ExportedTable[] } | { problem: string } | { absent: true }> {
  const file = schemaFile(dir);
  if (!file) return { absent: true };
  let code: string;
  try {
    const out = await build({
      entryPoints: [file],
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "esnext",
      conditions: ["convex", "module"],
      write: false,
      logLevel: "silent",
    });
    code = out.outputFiles[0].text;
  } catch (err) {
    const first = (err as { errors?: { text: string }[] }).errors?.[0]?.text;
    return { problem: `it does not bundle as Convex bundles it: ${first ?? String(err)}` };
  }
  try {
    const url = `data:text/javascript;base64,${Buffer.from(code).toString("base64")}`;
    const schema = ((await import(url)) as { default?: { export?: () => string } }).default;
    if (typeof schema?.export !== "function") {
      return { problem: "its default export is not defineSchema({ … })" };
    }
    return { tables: (JSON.parse(schema.export()) as { tables: ExportedTable[] }).tables };
  } catch (err) {
    return { problem: `loading it throws: ${(err as Error).message?.split("\n")[0] ?? err}` };
  }
}

const moduleTables = (): ExportedTable[] =>
  // `export()` is what the CLI pushes; convex's types keep it internal.
  (
    JSON.parse((moduleSchema as unknown as { export(): string }).export()) as {
      tables: ExportedTable[];
    }
  ).tables;

/** The object fields of a table's document type. */
function fieldsOf(t: ExportedTable): Record<string, FieldJson> {
  const doc = t.documentType;
  return doc?.type === "object" ? (doc.value as Record<string, FieldJson>) : {};
}

/**
 * What the app's schema lacks of the module's: each table, each index (name and fields) and each
 * `users` field, one phrase each (`users lacks index by_auth0_user_id (on auth0UserId)`).
 */
export function missingModuleParts(app: ExportedTable[]): string[] {
  const byName = new Map(app.map((t) => [t.tableName, t]));
  const tables: string[] = [];
  const missing: string[] = [];
  for (const mod of moduleTables()) {
    const yours = byName.get(mod.tableName);
    if (!yours) {
      tables.push(mod.tableName);
      continue;
    }
    for (const index of mod.indexes) {
      const have = yours.indexes.find((i) => i.indexDescriptor === index.indexDescriptor);
      const on = index.fields.join(", ");
      if (!have) missing.push(`${mod.tableName} lacks index ${index.indexDescriptor} (on ${on})`);
      else if (have.fields.join() !== index.fields.join()) {
        missing.push(
          `${mod.tableName} index ${index.indexDescriptor} is on ${have.fields.join(", ")}, the module's on ${on}`,
        );
      }
    }
    // The document shape matters for users, the one table the app shares with the module.
    if (mod.tableName !== "users" || yours.documentType?.type === "any") continue;
    const fields = fieldsOf(yours);
    const lacking = Object.keys(fieldsOf(mod)).filter((name) => !Object.hasOwn(fields, name));
    if (lacking.length > 0) missing.push(`users lacks fields ${lacking.join(", ")}`);
  }
  if (tables.length > 0) missing.push(`no table ${tables.join(", ")}`);
  return missing;
}

/** Each path in `validator` (under `at`) that holds `v.id("users")`. */
function idPaths(validator: ValidatorJson, at: string): string[] {
  switch (validator.type) {
    case "id":
      return validator.tableName === "users" ? [at] : [];
    case "object": {
      const fields = validator.value as Record<string, FieldJson>;
      return Object.entries(fields).flatMap(([k, f]) =>
        idPaths(f.fieldType, at ? `${at}.${k}` : k),
      );
    }
    case "array":
      return idPaths(validator.value as ValidatorJson, `${at}[]`);
    case "union":
      return [...new Set((validator.value as ValidatorJson[]).flatMap((u) => idPaths(u, at)))];
    case "record": {
      const values = validator.values as FieldJson;
      return idPaths(values.fieldType, `${at}[*]`);
    }
    default:
      return [];
  }
}

/** Every field of the app's own tables (users' own fields included, not the module's other
 * tables, whose references the module removes itself) that can hold a users id. */
export function userReferences(app: ExportedTable[]): UserReference[] {
  const own = new Set(moduleTables().map((t) => t.tableName));
  own.delete("users");
  return app
    .filter((t) => !own.has(t.tableName) && t.documentType)
    .flatMap((t) =>
      idPaths(t.documentType!, "").map((path) => ({ table: t.tableName, path: path || "(row)" })),
    );
}

type Loaded = Awaited<ReturnType<typeof loadAppSchema>>;

/** The doctor's checks of the app's schema (app.schema) and of what a deletion does to the
 * tables that reference users (app.deletion); both skip when `dir` is no folder. */
export async function appSchemaChecks(dir: string): Promise<CheckResult[]> {
  if (!isFolder(dir)) {
    const detail = `no Convex folder at ${dir} (--convex-dir)`;
    return [
      { id: "app.schema", title: SCHEMA_TITLE, status: "skip", detail },
      { id: "app.deletion", title: DELETION_TITLE, status: "skip", detail },
    ];
  }
  const loaded = await loadAppSchema(dir);
  return [appSchemaCheck(dir, loaded), appDeletionCheck(dir, loaded)];
}

const SCHEMA_TITLE = "the app's schema holds the module's tables and indexes";
const DELETION_TITLE = "a user deletion leaves no reference to users dangling";

/** app.deletion: the app's references to users against convex/auth0.ts's deletion settings. */
function appDeletionCheck(dir: string, loaded: Loaded): CheckResult {
  const base = { id: "app.deletion", title: DELETION_TITLE };
  if (!("tables" in loaded)) {
    return { ...base, status: "skip", detail: "the schema could not be read (app.schema)" };
  }
  const refs = userReferences(loaded.tables);
  const file = ["auth0.ts", "auth0.js"].map((n) => join(dir, n)).find((p) => existsSync(p));
  const config = readDeletionConfig(
    ts.createSourceFile(
      file ?? "auth0.ts",
      file ? readFileSync(file, "utf8") : "",
      ts.ScriptTarget.Latest,
      true,
    ),
  );
  return { ...base, ...deletionVerdict(refs, config, file ?? join(dir, "auth0.ts")) };
}

/** The doctor's check: the app's schema holds every table, index and users field of the module. */
function appSchemaCheck(dir: string, loaded: Loaded): CheckResult {
  const base = { id: "app.schema", title: SCHEMA_TITLE };
  if ("absent" in loaded) {
    return {
      ...base,
      status: "fail",
      detail: `no schema.ts in ${dir}: the module's tables and indexes live in your schema; run npx convex-auth0-users init`,
    };
  }
  if ("problem" in loaded) {
    return { ...base, status: "fail", detail: `${dir}/schema.ts: ${loaded.problem}` };
  }
  const missing = missingModuleParts(loaded.tables);
  if (missing.length === 0) {
    return {
      ...base,
      status: "pass",
      detail: `${loaded.tables.length} tables in ${dir}/schema.ts`,
    };
  }
  return {
    ...base,
    status: "fail",
    detail: `your schema lacks what the module's functions use (each listed), so they fail at run time ("Cannot use index …"): put \`...auth0Tables,\` first in defineSchema({ and declare users as auth0UsersTable({ your fields }) (npx convex-auth0-users init prints the lines)`,
    places: missing,
  };
}
