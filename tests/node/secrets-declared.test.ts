/**
 * The Action and tenant.yaml must agree: every `event.secrets.X` the Action reads is declared in
 * tenant.yaml (with a ##X## value, so CI fills it), and the bundle stays deployable (header, no
 * keyword markers, under Auth0's 100 kB limit). A secret the Action reads but the deploy does not
 * set fails here instead of failing logins in production.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadBundle, MAX_ACTION_CODE_BYTES } from "../../scripts/lib/deploy/inputs";
import { DeployInputError, loadTenantSpec, TENANT_YAML } from "../../scripts/lib/deploy/spec";

const ROOT = resolve(import.meta.dirname, "../..");
const ACTIONS_DIR = resolve(ROOT, "auth0-actions");
const BUNDLE = resolve(ACTIONS_DIR, "dist/post-login.js");

/**
 * Secret names read as `<expr>.secrets.NAME`, and any read the check cannot see (computed keys,
 * destructuring, passing the whole object on).
 */
export function secretReads(source: string): { names: Set<string>; opaque: string[] } {
  const names = new Set<string>();
  for (const m of source.matchAll(/\.secrets\s*\??\.\s*([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
  const opaque = [...source.matchAll(/\.secrets\b(?!\s*\??\.\s*[A-Za-z_$])[^\n]{0,40}/g)]
    .map((m) => m[0])
    // Type positions (`secrets: Record<...>`) are not reads.
    .filter((text) => !/^\.secrets\s*:/.test(text));
  return { names, opaque };
}

function actionSources(): { file: string; text: string }[] {
  return readdirSync(ACTIONS_DIR)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => ({ file: f, text: readFileSync(join(ACTIONS_DIR, f), "utf8") }));
}

beforeAll(async () => {
  if (existsSync(BUNDLE)) return;
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
    child.on("error", fail);
    child.on("close", done);
  });
  if (code !== 0) throw new Error("npm run build failed");
}, 120_000);

describe("secrets the Action reads are declared in tenant.yaml", () => {
  it("finds literal reads and flags reads it cannot see", () => {
    const { names, opaque } = secretReads(
      "const a = event.secrets.CONVEX_HTTP_URL; const b = e.secrets?.X_1;\n" +
        "const k = event.secrets[name];\nconst { Y } = event.secrets;\n",
    );
    expect([...names].sort()).toEqual(["CONVEX_HTTP_URL", "X_1"]);
    expect(opaque).toHaveLength(2);
  });

  it("the Action source reads each secret literally, and every one is declared", async () => {
    const spec = await loadTenantSpec();
    const declared = new Set(spec.secrets.map((s) => s.name));
    const read = new Set<string>();
    for (const { file, text } of actionSources()) {
      const { names, opaque } = secretReads(text);
      expect(opaque, `${file} reads event.secrets in a way this check cannot list`).toEqual([]);
      for (const n of names) read.add(n);
    }
    expect(read.size, "the Action reads no secret at all: is the scan broken?").toBeGreaterThan(0);
    const undeclared = [...read].filter((n) => !declared.has(n));
    expect(undeclared, `add these to ${TENANT_YAML}`).toEqual([]);
    const unused = [...declared].filter((n) => !read.has(n));
    expect(unused, "declared in tenant.yaml but never read by the Action").toEqual([]);
  });

  it("the built bundle reads no secret beyond the declared ones (imported code included)", async () => {
    const spec = await loadTenantSpec();
    const declared = new Set(spec.secrets.map((s) => s.name));
    const { names, opaque } = secretReads(readFileSync(BUNDLE, "utf8"));
    expect(opaque).toEqual([]);
    expect([...names].filter((n) => !declared.has(n))).toEqual([]);
  });

  it("each secret maps from the CI variable of the same name", async () => {
    const spec = await loadTenantSpec();
    for (const s of spec.secrets) expect(s.variable).toBe(s.name);
  });

  it("tenant.yaml points the Action at the built bundle", async () => {
    const spec = await loadTenantSpec();
    expect(spec.codePath).toBe(BUNDLE);
  });

  it("rejects a tenant.yaml whose secret has a literal value instead of a ##KEYWORD##", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenant-yaml-"));
    try {
      const path = join(dir, "tenant.yaml");
      const text = readFileSync(TENANT_YAML, "utf8").replace(
        '"##CONVEX_HTTP_URL##"',
        "https://placeholder.convex.site",
      );
      await writeFile(path, text);
      await expect(loadTenantSpec(path)).rejects.toThrow(
        /secret CONVEX_HTTP_URL must have a value of the form ##VARIABLE##/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the built bundle is deployable", () => {
  it(`stays under Auth0's ${MAX_ACTION_CODE_BYTES}-byte limit, with its header and no keyword markers`, async () => {
    const bundle = await loadBundle(BUNDLE);
    expect(bundle.bytes).toBeLessThan(MAX_ACTION_CODE_BYTES);
    expect(bundle.header).toMatch(/^\/\/ convex-auth0-users post-login \S+ sha256=[0-9a-f]{64}$/);
  });

  it("refuses a bundle that is too big or carries a keyword marker", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bundle-"));
    try {
      const header = readFileSync(BUNDLE, "utf8").split("\n", 1)[0];
      const big = join(dir, "big.js");
      await writeFile(big, `${header}\n/*${"x".repeat(MAX_ACTION_CODE_BYTES)}*/\n`);
      await expect(loadBundle(big)).rejects.toThrow(/Auth0 refuses Action code over/);
      const marked = join(dir, "marked.js");
      await writeFile(marked, `${header}\nconst a = "##CONVEX_HTTP_URL##";\n`);
      await expect(loadBundle(marked)).rejects.toBeInstanceOf(DeployInputError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
