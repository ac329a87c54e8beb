/**
 * The npm package as users get it: one `npm pack` (its prepack builds dist/ and the Action) and
 * one install of the tarball into an empty project, reused by every check. The tarball holds what
 * ships and nothing else, `attw` finds every entry point's types resolvable, the bin answers from
 * the install, the four entry points import in Node, a command whose optional peer is missing
 * says what to install, and the sandbox's demo runs from the installed files alone (the local
 * Auth0 running the shipped Action against the module's functions).
 *
 * Then the peers are held to what they say: a second app installs the tarball with the LOWEST
 * versions of `convex`, `typescript` and `react` the package's peer ranges accept (looked up with
 * `npm view`), without `@auth0/auth0-react`; `npm ls --all` must find nothing invalid (every
 * dependency's own peers satisfied too), and the app (tests/fixtures/peersApp: the module's schema,
 * functions, routes, the lookups and the React hooks under ConvexProviderWithAuth) must typecheck
 * with that TypeScript, library files included, as `npx convex dev` runs it. Cost: one more
 * install (~20 s with npm's cache warm, more when the versions must be downloaded) and two tsc runs.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT } from "../../scripts/lib/childProcess";
import { devVersion, installInto, pack, run, type Packed } from "../../bench/lib/packedPackage";
import { convexDevTsconfig, templatesOf, writeOfflineCodegen } from "./helpers/deploymentCodegen";

const dir = mkdtempSync(join(tmpdir(), "packed-package-"));
const app = join(dir, "app");
let packed: Packed;

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  peerDependencies: Record<string, string>;
};

beforeAll(async () => {
  packed = await pack(dir);
  // The React entry's peers too, so that it can be imported; no other optional peer.
  await installInto(app, [
    packed.tarball,
    devVersion("react"),
    devVersion("react-dom"),
    devVersion("@auth0/auth0-react"),
  ]);
}, 600_000);
afterAll(() => rm(dir, { recursive: true, force: true }), 120_000);

/** `npx convex-auth0-users ...` in the app, never fetching from the registry. */
const bin = (...args: string[]) =>
  run("npx", ["--no", "--", "convex-auth0-users", ...args], {
    cwd: app,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });

describe("the packed package", () => {
  test("ships the built entry points, the bin, the built Action and the sandbox, and nothing else", () => {
    const files = packed.files;
    const targets = [
      ...Object.values(pkg.bin),
      ...Object.values(pkg.exports).flatMap((t) =>
        typeof t === "string" ? [t] : Object.values(t),
      ),
    ].map((p) => p.replace(/^\.\//, ""));
    for (const target of targets) expect(files, target).toContain(target);
    for (const needed of [
      "auth0-actions/dist/post-login.js",
      "auth0-actions/dist/package.json",
      "auth0-actions/tenant.yaml",
      "auth0-actions/deploy-config.json",
      "scripts/cli.ts",
      "local-auth0/emulator/postLoginWorker.ts",
      "README.md",
      // The topics the README links to, and the commands' messages name.
      "docs/init.md",
      // init copies the module's variables from it: names and placeholders, no values.
      ".env.local.example",
    ]) {
      expect(files, needed).toContain(needed);
    }
    const shipsNot = [
      /^tests\//,
      /^bench\//,
      /^examples\//,
      /(^|\/)\.env(?!\.local\.example$)/,
      /\.map$/,
      /(^|\/)node_modules\//,
      /^scripts\/build-package\.ts$/,
      /\.test\.tsx?$/,
    ];
    for (const file of files) {
      for (const pattern of shipsNot) expect(file, `${file} must not ship`).not.toMatch(pattern);
    }
    // The variables' example holds names only, never a value.
    const example = readFileSync(join(ROOT, ".env.local.example"), "utf8").split("\n");
    for (const line of example.filter((l) => l.trim() && !l.startsWith("#"))) {
      expect(line).toMatch(/^[A-Z0-9_]+=$/);
    }
    // The built Action starts with the header the deploy reads.
    const action = readFileSync(join(ROOT, "auth0-actions/dist/post-login.js"), "utf8");
    expect(action).toMatch(/^\/\/ convex-auth0-users post-login /);
  });

  test("attw: every entry point's types resolve (node10 types, node16, bundler)", async () => {
    // The package is ESM only, as Convex bundles functions (and as `type: module` says): a
    // CommonJS `require` of it is the one thing attw may report, so that rule alone is ignored.
    const attw = await run(
      join(ROOT, "node_modules/.bin/attw"),
      [packed.tarball, "--ignore-rules", "cjs-resolves-to-esm", "--format", "json"],
      { cwd: dir },
    );
    const report = JSON.parse(attw.stdout) as {
      analysis: { entrypoints: Record<string, unknown> };
      problems?: Record<string, { kind: string; entrypoint: string }[]>;
    };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(
      Object.keys(pkg.exports).sort(),
    );
    const problems = Object.values(report.problems ?? {}).flat();
    expect(problems.filter((p) => p.kind !== "CJSResolvesToESM")).toEqual([]);
    expect(attw.code, attw.stdout.slice(0, 4000)).toBe(0);
  });

  test("the bin answers --help from the install", async () => {
    const help = await bin("--help");
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^ {2}doctor /m);
    const doctor = await bin("doctor", "--help");
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain("Usage: convex-auth0-users doctor");
    const init = await bin("init", "--help");
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain("Usage: convex-auth0-users init");
  });

  test("the server, functions, react and testing entry points import in Node", async () => {
    writeFileSync(
      join(app, "entries.mjs"),
      [
        'const server = await import("convex-auth0-users/server");',
        'const functions = await import("convex-auth0-users/functions");',
        'const react = await import("convex-auth0-users/react");',
        'const testing = await import("convex-auth0-users/testing");',
        "const names = (m) => Object.keys(m).sort();",
        "console.log(JSON.stringify({ server: names(server), functions: names(functions), react: names(react), testing: names(testing) }));",
      ].join("\n"),
    );
    const r = await run(process.execPath, ["entries.mjs"], { cwd: app });
    expect(r.code, r.stderr).toBe(0);
    const entries = JSON.parse(r.stdout) as Record<string, string[]>;
    expect(entries.server).toEqual(
      expect.arrayContaining([
        "auth0Tables",
        "auth0UsersTable",
        "userFields",
        "adoptionUserFields",
        "registerRoutes",
        "registerCrons",
        "auth0Providers",
        "getCurrentUser",
        "getCurrentUserOrThrow",
        "configureAuth0Users",
        "tokenIdentifier",
      ]),
    );
    expect(entries.functions).toEqual(
      expect.arrayContaining([
        "store",
        "current",
        "upsertFromAuth0",
        "deleteFromAuth0",
        "usersPage",
      ]),
    );
    expect(entries.react).toEqual(
      expect.arrayContaining(["useStoreUserEffect", "useCurrentUser", "useCurrentOrganization"]),
    );
    expect(entries.testing).toEqual(
      expect.arrayContaining([
        "setAuth0TestEnv",
        "auth0Identity",
        "signInAs",
        "logIn",
        "deliverUserUpdated",
        "deliverUserDeleted",
      ]),
    );
  });

  test("a command whose optional peer is missing names it and exits 2", async () => {
    const sandbox = await bin("sandbox");
    expect(sandbox.code).toBe(2);
    expect(sandbox.stderr).toContain("convex-auth0-users sandbox: needs selfsigned, not installed");
    expect(sandbox.stderr).toMatch(/npm install --save-dev selfsigned@"\^5/);
    const init = await bin("init", "--dry-run");
    expect(init.code).toBe(2);
    expect(init.stderr).toContain("convex-auth0-users init: needs typescript, not installed");
    const deploy = await bin("deploy", "--dry-run");
    expect(deploy.code).toBe(2);
    expect(deploy.stderr).toContain("needs auth0-deploy-cli");
    // Only --password needs zxcvbn-ts: checked before the password is asked or a tenant called.
    for (const [env, domain] of [
      ["dev", "dev-tenant.us.auth0.com"],
      ["prod", "prod-tenant.us.auth0.com"],
    ]) {
      writeFileSync(
        join(app, `.env.${env}`),
        `AUTH0_DOMAIN=${domain}\nAUTH0_M2M_CLIENT_ID=id-${env}\nAUTH0_M2M_CLIENT_SECRET=secret-${env}\n`,
      );
    }
    const copy = await bin("copy-users", "--from", "dev", "--to", "prod", "--password");
    expect(copy.code, copy.stderr).toBe(2);
    expect(copy.stderr).toContain(
      "convex-auth0-users copy-users --password: needs @zxcvbn-ts/core, @zxcvbn-ts/language-common, @zxcvbn-ts/language-en, @zxcvbn-ts/language-de, @zxcvbn-ts/language-es-es and @zxcvbn-ts/language-fr",
    );
  });

  test("with its peers installed, the demo runs from the installed package alone", async () => {
    const add = await run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        devVersion("selfsigned"),
        devVersion("typescript"),
      ],
      { cwd: app },
    );
    expect(add.code, add.stderr).toBe(0);
    const demo = await bin("demo");
    expect(demo.code, `${demo.stdout}\n${demo.stderr}`.slice(-4000)).toBe(0);
  }, 300_000);
});

/** Numeric order of plain `x.y.z` versions. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The lowest published (non-prerelease) version of `name` inside `range`. */
async function lowestVersion(name: string, range: string): Promise<string> {
  const r = await run("npm", ["view", `${name}@${range}`, "version", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const found = JSON.parse(r.stdout) as string | string[];
  const versions = (Array.isArray(found) ? found : [found]).filter((v) =>
    /^\d+\.\d+\.\d+$/.test(v),
  );
  expect(versions.length, `${name}@${range}`).toBeGreaterThan(0);
  return versions.sort(compareVersions)[0];
}

describe("at the lowest versions its peer ranges accept", () => {
  const lowest = join(dir, "lowest");
  const lowestVersions: Record<string, string> = {};
  const tsc = (...args: string[]) =>
    run(process.execPath, [join(lowest, "node_modules/typescript/bin/tsc"), ...args], {
      cwd: lowest,
    });

  beforeAll(async () => {
    for (const name of ["convex", "typescript", "react"]) {
      lowestVersions[name] = await lowestVersion(name, pkg.peerDependencies[name]);
    }
    // react-dom follows react; the types are the app's own choice (React 18's latest).
    await installInto(lowest, [
      packed.tarball,
      ...Object.entries(lowestVersions).map(([name, version]) => `${name}@${version}`),
      `react-dom@${lowestVersions.react}`,
      "@types/react@18",
    ]);
    cpSync(join(ROOT, "tests/fixtures/peersApp"), lowest, { recursive: true });
    const convexDir = join(lowest, "convex");
    await writeOfflineCodegen(convexDir, templatesOf(lowest));
    // `npx convex dev`'s tsconfig from that convex, checking library files too: a type of
    // the package's declarations that this TypeScript or this convex lacks must show.
    const tsconfig = (await convexDevTsconfig(templatesOf(lowest))).replace(
      '"skipLibCheck": true',
      '"skipLibCheck": false',
    );
    expect(tsconfig).toContain('"skipLibCheck": false');
    writeFileSync(join(convexDir, "tsconfig.json"), tsconfig);
  }, 600_000);

  test("the lowest versions are the floors the ranges name", () => {
    expect(compareVersions(lowestVersions.convex, "1.46.0")).toBeGreaterThanOrEqual(0);
    expect(compareVersions(lowestVersions.typescript, "5.5.0")).toBeGreaterThanOrEqual(0);
    expect(lowestVersions.react).toMatch(/^18\./);
  });

  test("npm ls finds every dependency's peers satisfied", async () => {
    const ls = await run("npm", ["ls", "--all"], { cwd: lowest });
    expect(ls.stderr).toBe("");
    // An optional peer left out is listed as "UNMET OPTIONAL DEPENDENCY", which is fine.
    expect(ls.stdout).not.toMatch(/invalid|UNMET DEPENDENCY|UNMET PEER|missing|extraneous/i);
    expect(ls.code).toBe(0);
    // The React entry needs no @auth0/auth0-react: the app has none.
    expect(existsSync(join(lowest, "node_modules/@auth0/auth0-react"))).toBe(false);
  }, 120_000);

  test("the app's Convex functions and React code typecheck with that TypeScript", async () => {
    const version = await tsc("--version");
    expect(version.stdout.trim()).toBe(`Version ${lowestVersions.typescript}`);
    const convex = await tsc("--project", "convex");
    expect(convex.stdout + convex.stderr).toBe("");
    expect(convex.code).toBe(0);
    const react = await tsc("--project", ".");
    expect(react.stdout + react.stderr).toBe("");
    expect(react.code).toBe(0);
  }, 180_000);

  test("init runs on that TypeScript (it parses the app with it)", async () => {
    const init = await run("npx", ["--no", "--", "convex-auth0-users", "init", "--dry-run"], {
      cwd: lowest,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(init.stderr).not.toContain("needs typescript");
    expect(init.code, `${init.stdout}\n${init.stderr}`.slice(-2000)).toBe(0);
    expect(init.stdout).toContain("dry run: nothing was written");
  }, 120_000);
});
