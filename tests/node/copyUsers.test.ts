/**
 * `npm run copy-users` as a child process between two emulated tenants side by side (dev and bed.prod),
 * each with its own least-privilege machine-to-machine app.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { spawn } from "node:child_process";
import { CLI, runScript, TSX, type Run } from "../../scripts/lib/childProcess";
import type { ManagementApiEmulator } from "../../local-auth0/managementApiEmulator";
import { copyTenantsEachTest, SOURCE_APP, TARGET_APP } from "./helpers/copyTenants";

const DB = "Username-Password-Authentication";

const bed = copyTenantsEachTest({
  prodScopes: ["read:users", "create:users", "create:user_tickets", "update:users"],
});

beforeEach(() => {
  for (const e of [bed.dev, bed.prod]) e.jobs.setExportDelay(50);
  // dev: three database users (one unverified, with metadata), a social user, and a user that
  // prod already has.
  bed.dev.seedUser({
    user_id: "auth0|dev-ada",
    email: "Ada@Example.com",
    email_verified: true,
    name: "Ada Lovelace",
    given_name: "Ada",
    app_metadata: { roles: ["admin"], team: "core" },
    user_metadata: { theme: "dark" },
  });
  bed.dev.seedUser({ user_id: "auth0|dev-bob", email: "bob@example.com", email_verified: false });
  bed.dev.seedUser({ user_id: "auth0|dev-cyd", email: "cyd@other.org" });
  bed.dev.seedUser({ user_id: "google-oauth2|111", email: "gina@example.com" });
  bed.dev.seedUser({ user_id: "auth0|dev-dan", email: "dan@example.com", name: "Dan (dev)" });
  bed.prod.seedUser({ user_id: "auth0|prod-dan", email: "DAN@example.com", name: "Dan (prod)" });
});

const writeEnvFiles = (overrides: { prod?: string } = {}) => bed.tenants.writeEnvFiles(overrides);

async function copy(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<Run> {
  const run = await runScript("copy-users", ["--from", "dev", "--to", "prod", ...args], {
    env: {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      NODE_EXTRA_CA_CERTS: bed.cert.caPath,
      ...env,
    },
    cwd: bed.dir,
    input,
  });
  for (const secret of [SOURCE_APP.clientSecret, TARGET_APP.clientSecret]) {
    expect(run.output).not.toContain(secret);
  }
  return run;
}

/** The records of a tickets file (NDJSON: `created`, then `ticket` with the link). */
const ticketRecords = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; userId: string; email: string; ticket?: string });
const ticketLinks = (path: string) => ticketRecords(path).filter((r) => r.event === "ticket");

const userWrites = (e: ManagementApiEmulator) =>
  e
    .writes()
    .filter((r) => r.path.startsWith("/api/v2/users") || r.path.startsWith("/api/v2/tickets"));
const prodByEmail = (email: string) =>
  [...bed.prod.users.values()].filter((u) => u.email?.toLowerCase() === email.toLowerCase());

describe("configuration", () => {
  test("a missing variable in .env.prod is named with its file; nothing is called", async () => {
    await writeEnvFiles({ prod: `AUTH0_DOMAIN=${bed.prod.domain}\nAUTH0_M2M_CLIENT_ID=x\n` });
    const run = await copy(["--yes"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(".env.prod is missing AUTH0_M2M_CLIENT_SECRET");
    expect(bed.dev.requests).toHaveLength(0);
    expect(bed.prod.requests).toHaveLength(0);
  });

  test("a missing file is named, and a tenant cannot be copied onto itself", async () => {
    const run = await runScript("copy-users", ["--from", "dev", "--to", "staging"], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME! },
      cwd: bed.dir,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(".env.staging does not exist");
    const self = await runScript("copy-users", ["--from", "dev", "--to", "dev"], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME! },
      cwd: bed.dir,
    });
    expect(self.code).toBe(2);
    expect(self.stderr).toContain("cannot be copied onto itself");
  });
});

describe("copying", () => {
  test("--dry-run shows the plan and writes nothing anywhere", async () => {
    const run = await copy(["--dry-run"]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain("Copy dev -> prod: create 3, update 0, skip 1, conflicts 0");
    expect(run.stdout).toContain("dan@example.com: exists in the target (auth0|prod-dan)");
    expect(userWrites(bed.prod)).toEqual([]);
    expect(existsSync(join(bed.dir, "backups"))).toBe(false);
  });

  test("creates the missing users with their metadata and verification, a ticket each, after a backup", async () => {
    const run = await copy(["--yes", "--json"]);
    expect(run.code, run.output).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.results.filter((r: { outcome: string }) => r.outcome === "created")).toHaveLength(
      3,
    );

    const [ada] = prodByEmail("ada@example.com");
    expect(ada).toMatchObject({
      email_verified: true,
      name: "Ada Lovelace",
      given_name: "Ada",
      app_metadata: { roles: ["admin"], team: "core" },
      user_metadata: { theme: "dark" },
      identities: [expect.objectContaining({ connection: DB })],
    });
    expect(prodByEmail("bob@example.com")[0].email_verified).toBe(false);
    expect(prodByEmail("gina@example.com")).toEqual([]); // a social user is not in the connection
    expect(prodByEmail("dan@example.com")).toHaveLength(1); // existing: left alone
    expect(prodByEmail("dan@example.com")[0].name).toBe("Dan (prod)");

    // Random passwords, all different, none printed; one ticket per created user, kept as it was.
    const created = report.results.filter((r: { outcome: string }) => r.outcome === "created");
    const passwords = created.map((r: { userId: string }) => bed.prod.passwords.get(r.userId)!);
    expect(new Set(passwords).size).toBe(3);
    for (const p of passwords) {
      expect(p.length).toBeGreaterThanOrEqual(40);
      expect(run.output).not.toContain(p);
    }
    expect(bed.prod.tickets).toHaveLength(3);
    expect(bed.prod.tickets.every((t) => t.mark_email_as_verified === false)).toBe(true);
    const ticketsFile = report.ticketsFile as string;
    expect(statSync(ticketsFile).mode & 0o777).toBe(0o600);
    const saved = ticketLinks(ticketsFile);
    expect(saved.map((t) => t.ticket).sort()).toEqual(bed.prod.tickets.map((t) => t.ticket).sort());
    for (const t of bed.prod.tickets) expect(run.output).not.toContain(t.ticket);

    // The backup of prod was on disk before the first POST /users.
    expect(statSync(report.backup).mode & 0o777).toBe(0o600);
    const backedUp = readFileSync(report.backup, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(backedUp.map((u) => u.user_id)).toEqual(["auth0|prod-dan"]);
    const firstCreate = bed.prod.requests.findIndex(
      (r) => r.method === "POST" && r.path === "/api/v2/users",
    );
    expect(firstCreate).toBeGreaterThan(-1);
    expect(statSync(report.backup).mtimeMs).toBeLessThanOrEqual(bed.prod.requests[firstCreate].at);

    // A second run creates nothing and issues no ticket.
    const again = await copy(["--yes"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("create 0, update 0, skip 4");
    expect(bed.prod.tickets).toHaveLength(3);
    expect([...bed.prod.users.values()]).toHaveLength(4);
  });

  test("a 409 (the person signed up in the target after the listing) is reported as existing, never given a link: not now, not on the next run, not with --resend-tickets", async () => {
    bed.prod.jobs.onExportCreated = () => {
      bed.prod.seedUser({ user_id: "auth0|prod-cyd", email: "cyd@other.org" });
    };
    const run = await copy(["--yes"]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(
      /cyd@other\.org: exists in the target \(created there after the listing/,
    );
    expect(run.stdout).toContain("created 2");
    expect(prodByEmail("cyd@other.org")).toHaveLength(1);
    const linked = () => new Set(bed.prod.tickets.map((t) => t.user_id));
    expect(linked().has("auth0|prod-cyd")).toBe(false);
    expect(bed.prod.tickets).toHaveLength(2);
    // The journal says what answered: 201 for the two created, 409 for cyd.
    const files = readdirSync(join(bed.dir, "backups")).filter((f) =>
      f.startsWith("copy-users-tickets-"),
    );
    const records = ticketRecords(join(bed.dir, "backups", files[0])) as {
      event: string;
      email: string;
      status?: number;
    }[];
    expect(records.filter((r) => r.event === "created").map((r) => r.status)).toEqual([201, 201]);
    expect(records.filter((r) => r.email === "cyd@other.org").map((r) => r.event)).toEqual([
      "creating",
      "exists",
    ]);

    const again = await copy(["--yes"]);
    expect(again.code, again.output).toBe(0);
    expect(linked().has("auth0|prod-cyd")).toBe(false);
    const resend = await copy(["--yes", "--resend-tickets"]);
    expect(resend.code, resend.output).toBe(0);
    expect(linked().has("auth0|prod-cyd")).toBe(false);
    expect(bed.prod.tickets).toHaveLength(4);
  });

  test("--email-domain and --emails narrow the selection; a same-email account elsewhere is a conflict", async () => {
    bed.prod.seedUser({ user_id: "google-oauth2|222", email: "ada@example.com" });
    const run = await copy(["--yes", "--email-domain", "example.com"]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain("create 1, update 0, skip 1, conflicts 1");
    expect(run.stdout).toMatch(/ada@example\.com: the target has this email under google-oauth2/i);
    expect(prodByEmail("bob@example.com")).toHaveLength(1);
    expect(prodByEmail("cyd@other.org")).toHaveLength(0);
    const only = await copy(["--yes", "--emails", "CYD@other.org,nobody@example.com"]);
    expect(only.stdout).toContain("create 1");
    expect(only.stdout).toContain("Not in the source (1)");
  });

  test("--update-existing patches names and metadata, never the password", async () => {
    const before = bed.prod.passwords.get("auth0|prod-dan");
    const run = await copy(["--yes", "--update-existing", "--emails", "dan@example.com"]);
    expect(run.code, run.output).toBe(0);
    expect(prodByEmail("dan@example.com")[0].name).toBe("Dan (dev)");
    const patch = bed.prod.requests.find((r) => r.method === "PATCH");
    expect(Object.keys(patch!.body as object)).not.toContain("password");
    expect(bed.prod.passwords.get("auth0|prod-dan")).toBe(before);
  });

  test("a non-terminal without --yes writes nothing and exits 2", async () => {
    const run = await copy([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("pass --yes");
    expect(userWrites(bed.prod)).toEqual([]);
  });
});

describe("--password", () => {
  test("a weak or default password is refused before any call", async () => {
    // One per rule (length, default word, word and year); the full list is checked directly
    // in sharedPassword.test.ts, without a process each.
    const weakOnes = ["short1!A", "ChangeMe123!", "Januar2025!!Jan"];
    for (const weak of weakOnes) {
      const run = await copy(["--yes", "--password"], { COPY_USERS_PASSWORD: weak });
      expect(run.code, weak).toBe(2);
      expect(run.stderr).toContain("the chosen password is refused");
      expect(run.output).not.toContain(weak);
    }
    expect(bed.dev.requests).toHaveLength(0);
    expect(bed.prod.requests).toHaveLength(0);
  }, 60_000);

  test("a strong chosen password is set on every created user, with a warning and no tickets", async () => {
    const chosen = "Tide-Lantern-Quarry-58";
    const run = await copy(["--yes", "--password"], { COPY_USERS_PASSWORD: chosen });
    expect(run.code, run.output).toBe(0);
    expect(run.stderr).toContain("warning: --password gives every copied user the same password");
    expect(run.output).not.toContain(chosen);
    const created = [...bed.prod.users.keys()].filter((id) => id !== "auth0|prod-dan");
    expect(created).toHaveLength(3);
    for (const id of created) expect(bed.prod.passwords.get(id)).toBe(chosen);
    expect(bed.prod.tickets).toHaveLength(0);
    expect(readdirSync(join(bed.dir, "backups")).some((f) => f.includes("tickets"))).toBe(false);
  });
});

describe("on a terminal", () => {
  test("the password prompt does not echo, and the plan is confirmed before writing", async () => {
    const chosen = "Harbor-Violet-Engine-73";
    const quote = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
    const command = [TSX, CLI, "copy-users", "--from", "dev", "--to", "prod", "--password"]
      .map(quote)
      .join(" ");
    // util-linux `script` gives the command a pseudo-terminal; input is typed once asked for.
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: bed.dir,
      env: bed.env(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    const typed = new Set<string>();
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes("(not echoed):") && !typed.has("password")) {
        typed.add("password");
        child.stdin.write(`${chosen}\r`);
      }
      if (output.includes("[y/N]") && !typed.has("yes")) {
        typed.add("yes");
        child.stdin.write("y\r");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(code, output).toBe(0);
    expect(output).toContain("Create 3 and update 0 user(s) in prod");
    expect(output).not.toContain(chosen);
    const created = [...bed.prod.users.keys()].filter((id) => id !== "auth0|prod-dan");
    expect(created).toHaveLength(3);
    for (const id of created) expect(bed.prod.passwords.get(id)).toBe(chosen);
  }, 30_000);
});

describe("password-change links are never lost", () => {
  const ticketFiles = () =>
    existsSync(join(bed.dir, "backups"))
      ? readdirSync(join(bed.dir, "backups"))
          .filter((f) => f.startsWith("copy-users-tickets-"))
          .map((f) => join(bed.dir, "backups", f))
      : [];

  test("interrupted after creating users: each link is already on disk, and a re-run issues the missing ones", async () => {
    // Killed (SIGKILL, no cleanup) as soon as the second user exists in bed.prod.
    const child = spawn(TSX, [CLI, "copy-users", "--from", "dev", "--to", "prod", "--yes"], {
      cwd: bed.dir,
      env: bed.env(),
      stdio: "ignore",
      detached: true,
    });
    const exited = new Promise((done) => child.on("exit", done));
    const creates = () =>
      bed.prod.requests.filter((r) => r.method === "POST" && r.path === "/api/v2/users").length;
    while (creates() < 2) await new Promise((r) => setTimeout(r, 2));
    process.kill(-child.pid!, "SIGKILL");
    await exited;

    const created = [...bed.prod.users.keys()].filter((id) => id !== "auth0|prod-dan");
    expect(created.length).toBeGreaterThanOrEqual(2);
    const [first] = ticketFiles();
    expect(first).toBeDefined();
    expect(statSync(first).mode & 0o777).toBe(0o600);
    // Every link Auth0 issued before the kill that reached the run is in the file.
    const linkedBefore = new Set(ticketLinks(first).map((t) => t.userId));
    expect(linkedBefore.size).toBeGreaterThanOrEqual(1);

    const again = await copy(["--yes", "--json"]);
    expect(again.code, again.output).toBe(0);
    const report = JSON.parse(again.stdout);
    const allCreated = [...bed.prod.users.keys()].filter((id) => id !== "auth0|prod-dan");
    expect(allCreated).toHaveLength(3);
    // Every user a create answered 201 for has a link on disk, the re-run's only for those
    // lacking one. A user whose create the kill cut off before its answer was on record may be
    // the person's own account: reported, never linked.
    const records = ticketFiles().flatMap(ticketRecords);
    const confirmed = new Set(records.filter((r) => r.event === "created").map((r) => r.userId));
    const links = records.filter((r) => r.event === "ticket");
    expect(new Set(links.map((l) => l.userId))).toEqual(confirmed);
    const unconfirmed = allCreated.filter((id) => !confirmed.has(id));
    expect(unconfirmed.length).toBeLessThanOrEqual(1);
    for (const id of unconfirmed) {
      expect(again.stderr).toContain(`an earlier run was interrupted before Auth0 confirmed`);
      expect(again.stderr).toContain(bed.prod.users.get(id)!.email!);
    }
    const reissued = ticketLinks(report.ticketsFile).map((l) => l.userId);
    for (const id of reissued) {
      expect(linkedBefore.has(id)).toBe(false);
    }
    for (const t of bed.prod.tickets) expect(again.output).not.toContain(t.ticket);
  }, 60_000);

  test("--resend-tickets issues new links for the users copy-users created, not for others", async () => {
    expect((await copy(["--yes"])).code).toBe(0);
    expect(bed.prod.tickets).toHaveLength(3);
    const resend = await copy(["--yes", "--resend-tickets", "--json"]);
    expect(resend.code, resend.output).toBe(0);
    const links = ticketLinks(JSON.parse(resend.stdout).ticketsFile);
    expect(links).toHaveLength(3);
    expect(links.map((l) => l.userId)).not.toContain("auth0|prod-dan");
    expect(bed.prod.tickets).toHaveLength(6);
  });

  test("a tickets file name already taken is never overwritten nor a failure after writing", async () => {
    // Files named for this second and the next few, in both the old and the new naming.
    mkdirSync(join(bed.dir, "backups"), { recursive: true, mode: 0o700 });
    const taken: string[] = [];
    for (let s = 0; s < 8; s++) {
      const stamp = new Date(Date.now() + s * 1000)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
      for (const ext of ["json", "ndjson"]) {
        const path = join(bed.dir, "backups", `copy-users-tickets-${stamp}.${ext}`);
        writeFileSync(path, "someone else's file\n");
        taken.push(path);
      }
    }
    const run = await copy(["--yes", "--json"]);
    expect(run.code, run.output).toBe(0);
    const file = JSON.parse(run.stdout).ticketsFile as string;
    expect(taken).not.toContain(file);
    expect(ticketLinks(file)).toHaveLength(3);
    for (const path of taken) expect(readFileSync(path, "utf8")).toBe("someone else's file\n");
  });
});
