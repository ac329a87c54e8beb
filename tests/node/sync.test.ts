/**
 * `npm run sync`: the plan, a confirmation, and the repair, as a child process against the
 * emulator and a local Convex host. Nothing is written on a dry run, a declined confirmation or
 * a non-terminal without --yes; orphans go only with --delete-orphans, after a backup.
 */
import { statSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startTenant, type Tenant } from "../../bench/lib/reconcileHarness";
import { CLI, start, TSX } from "../../scripts/lib/childProcess";

let tenant: Tenant;
beforeEach(async () => {
  tenant = await startTenant();
});
afterEach(async () => {
  await tenant.close();
});

/** A tenant with one user of each kind: missing, drifted, orphaned, created after the listing,
 * under an untrusted issuer, and in sync. */
async function mixedTenant() {
  await tenant.seedInSync(3);
  tenant.emulator.seedUser({ user_id: "auth0|missing" });
  tenant.emulator.updateUser("auth0|u00001", {
    name: "Renamed In Auth0",
    updated_at: new Date().toISOString(),
  });
  const gone = tenant.emulator.seedUser({ user_id: "auth0|gone" });
  await tenant.insertRow(gone);
  tenant.emulator.removeUser(gone.user_id);
  const foreign = tenant.emulator.seedUser({ user_id: "auth0|foreign" });
  await tenant.insertRow(foreign, { issuer: "old-tenant.eu.auth0.com" });
  tenant.emulator.removeUser(foreign.user_id);
}

const snapshot = async () => ({
  rows: (await tenant.rows()).map(({ _creationTime, ...row }) => row),
  tombstones: await tenant.tombstones(),
  auth0: structuredClone([...tenant.emulator.users.values()]),
});

const auth0Writes = () =>
  tenant.emulator.requests.filter((q) => q.path.startsWith("/api/v2/users") && q.method !== "GET");

describe("sync writes nothing unless told to", () => {
  test("--dry-run: shows the plan, exit 1, nothing written on either side", async () => {
    await mixedTenant();
    const before = await snapshot();
    const run = await tenant.run("sync", ["--dry-run", "--delete-orphans"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /Dry run: would create 1, update 1, delete 1\. Nothing was written\./,
    );
    expect(await snapshot()).toEqual(before);
    expect(auth0Writes()).toEqual([]);
    expect(readdirSafe(join(tenant.dir, "backups"))).toEqual([]);
  });

  test("a non-terminal without --yes: exit 2, nothing written", async () => {
    await mixedTenant();
    const before = await snapshot();
    const run = await tenant.run("sync", []);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pass --yes to apply\. Nothing was written\./);
    expect(await snapshot()).toEqual(before);
  });

  test("on a terminal, a declined confirmation writes nothing; yes applies", async () => {
    await mixedTenant();
    const before = await snapshot();
    const declined = await onTerminal(["sync"], "n\n");
    expect(declined.output).toMatch(/Apply: create 1, update 1, delete 0\? \[y\/N\]/);
    expect(declined.output).toMatch(/Nothing was written\./);
    expect(declined.code).toBe(1);
    expect(await snapshot()).toEqual(before);

    const accepted = await onTerminal(["sync"], "y\n");
    expect(accepted.code).toBe(0);
    expect(accepted.output).toMatch(/Applied: created 1, updated 1, deleted 0/);
  });
});

describe("sync repairs", () => {
  test("--yes creates missing users, repairs drift, keeps orphans; then check-sync is clean but for them", async () => {
    await mixedTenant();
    const run = await tenant.run("sync", ["--yes"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Applied: created 1, updated 1, deleted 0/);
    expect(run.stdout).toMatch(/1 orphan\(s\) are kept: pass --delete-orphans/);
    const rows = await tenant.rows();
    const byId = Object.fromEntries(rows.map((r) => [r.auth0UserId, r]));
    expect(byId["auth0|missing"]).toMatchObject({ email: "auth0missing@example.com" });
    expect(byId["auth0|u00001"].name).toBe("Renamed In Auth0");
    expect(byId["auth0|gone"]).toBeDefined();

    const check = JSON.parse((await tenant.run("check-sync", ["--json"])).stdout);
    expect(check.missing).toEqual([]);
    expect(check.drift).toEqual([]);
    expect(check.orphans).toEqual([{ auth0UserId: "auth0|gone" }]);
  });

  test("--delete-orphans: backs up the rows first (owner-only), deletes through deleteUser, never an untrusted issuer's row", async () => {
    await mixedTenant();
    const late = tenant.emulator.seedUser({ user_id: "auth0|late" });
    tenant.emulator.removeUser(late.user_id);
    await tenant.insertRow(late);
    tenant.emulator.jobs.onExportCreated = () => void tenant.emulator.seedUser(late);

    const run = await tenant.run("sync", ["--yes", "--delete-orphans", "--json"]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.applied).toMatchObject({ created: 1, updated: 1, removed: 1 });

    const rows = (await tenant.rows()).map((r) => r.auth0UserId);
    expect(rows).not.toContain("auth0|gone");
    expect(rows).toContain("auth0|foreign"); // untrusted issuer: never touched
    expect(rows).toContain("auth0|late"); // created after the listing: not an orphan
    expect(await tenant.tombstones()).toMatchObject([{ auth0UserId: "auth0|gone" }]);

    const dir = join(tenant.dir, "backups");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const [file] = readdirSafe(dir);
    expect(file).toMatch(/^convex-orphans-\d{8}T\d{6}Z\.ndjson$/);
    expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    expect(report.backup).toBe(join(dir, file));
    const backedUp = readFileSync(join(dir, file), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(backedUp).toMatchObject([
      { table: "users", row: { auth0UserId: "auth0|gone", email: "auth0gone@example.com" } },
    ]);
  });

  test("after a repair with deletions, a second run has nothing to do", async () => {
    await tenant.seedInSync(1);
    const gone = tenant.emulator.seedUser({ user_id: "auth0|gone" });
    await tenant.insertRow(gone);
    tenant.emulator.removeUser(gone.user_id);
    const run = await tenant.run("sync", ["--yes", "--delete-orphans"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/deleted 1/);
    // Nothing left to do: a second run is a no-op.
    const again = await tenant.run("sync", ["--yes", "--delete-orphans"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Nothing to do\./);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Runs a script inside a pseudo-terminal (util-linux `script`), typing `input` at its prompt. */
async function onTerminal(args: string[], input: string) {
  const [script, ...rest] = args;
  const quote = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
  const command = [TSX, CLI, script, ...rest].map(quote).join(" ");
  const run = await start("script", ["-qec", command, "/dev/null"], {
    env: tenant.env(),
    cwd: tenant.dir,
    input,
  }).done;
  return { code: run.code, output: run.output };
}
