/**
 * `npm run bench:backup`: the deletion backup's round trip, measured. A local tenant with USERS
 * users in 20 organizations (one membership each), 10% of the users gone from Auth0 and 2
 * organizations deleted there; `sync --yes --delete-orphans --orgs` (cap raised) deletes them
 * after writing its backup; the backup is restored into Convex and the tables compared with
 * before. Prints the rows per table, the backup's size, the sync's and the restore's times, and
 * whether the restored tables equal the original ones (exit 1 if not).
 *
 *   USERS=2000 tsx bench/backupRestore.ts
 */
import { statSync } from "node:fs";
import { tokenIdentifier } from "../server/tokenIdentifier";
import { profileFromAuth0User } from "../server/users/auth0Profile";
import { startTenant } from "./lib/reconcileHarness";
import { comparable, readBackup, restoreBackup, tableSnapshot } from "./lib/restoreBackup";

const n = Number(process.env.USERS ?? 2000);
const t = await startTenant();
try {
  t.emulator.setRateLimit(100_000);
  const at = Date.now() - 3_600_000;
  const orgIds = Array.from({ length: 20 }, (_, i) => `org_${String(i).padStart(2, "0")}`);
  for (const id of orgIds) t.emulator.orgs.seedOrganization({ id, name: id.slice(4) });
  const users = Array.from({ length: n }, (_, i) =>
    t.emulator.seedUser({
      user_id: `auth0|u${String(i).padStart(6, "0")}`,
      updated_at: new Date(at).toISOString(),
    }),
  );
  users.forEach((u, i) => t.emulator.orgs.setMember(orgIds[i % orgIds.length], u.user_id));
  for (let i = 0; i < users.length; i += 2000) {
    const chunk = users.slice(i, i + 2000);
    await t.convex.t.run(async (ctx) => {
      for (const [k, user] of chunk.entries()) {
        const facts = Object.fromEntries(
          Object.entries(profileFromAuth0User(user)).filter(([, v]) => v != null),
        );
        const userId = await ctx.db.insert("users", {
          tokenIdentifier: tokenIdentifier(t.emulator.domain, user.user_id),
          auth0UserId: user.user_id,
          ...facts,
          createdAt: at,
          updatedAt: at,
        });
        await ctx.db.insert("auth0Memberships", {
          userId,
          auth0UserId: user.user_id,
          auth0OrgId: orgIds[(i + k) % orgIds.length],
          roles: [],
          roleTimes: [],
          auth0At: at,
          createdAt: at,
          updatedAt: at,
        });
      }
    });
  }
  await t.convex.t.run(async (ctx) => {
    for (const id of orgIds) {
      await ctx.db.insert("auth0Organizations", {
        auth0OrgId: id,
        name: id.slice(4),
        auth0At: at,
        createdAt: at,
        updatedAt: at,
      });
    }
  });
  // 10% of the users and 2 organizations are gone from Auth0.
  for (const [i, u] of users.entries()) {
    if (i % 10 !== 3) continue;
    t.emulator.orgs.removeMember(orgIds[i % orgIds.length], u.user_id);
    t.emulator.removeUser(u.user_id);
  }
  for (const id of orgIds.slice(0, 2)) t.emulator.orgs.removeOrganization(id);
  const before = await tableSnapshot(t);

  const syncStarted = performance.now();
  const run = await t.run("sync", [
    "--yes",
    "--delete-orphans",
    "--orgs",
    "--json",
    "--max-deletions=1000000",
  ]);
  const syncMs = performance.now() - syncStarted;
  if (run.code !== 0) throw new Error(`sync exited ${run.code}:\n${run.stderr}`);
  const { backup } = JSON.parse(run.stdout) as { backup: string };
  const after = await tableSnapshot(t);
  const records = readBackup(backup);
  const removed = (table: "users" | "auth0Organizations" | "auth0Memberships") =>
    before[table].length - after[table].length;
  const inBackup = (table: string) => records.filter((r) => r.table === table).length;

  const restoreStarted = performance.now();
  await restoreBackup(t, records);
  const restoreMs = performance.now() - restoreStarted;
  const restored = await tableSnapshot(t);
  const equal =
    JSON.stringify(comparable(restored)) === JSON.stringify(comparable(before)) &&
    restored.tombstones.length === before.tombstones.length;

  console.log(`backup/restore round trip, ${n} users, ${orgIds.length} organizations:`);
  for (const table of ["users", "auth0Organizations", "auth0Memberships"] as const) {
    console.log(
      `  ${table.padEnd(18)} before ${String(before[table].length).padStart(6)}  deleted ${String(removed(table)).padStart(5)}  in backup ${String(inBackup(table)).padStart(5)}  restored ${String(restored[table].length).padStart(6)}`,
    );
  }
  console.log(
    `  backup ${records.length} rows, ${(statSync(backup).size / 1024).toFixed(0)} KiB; sync (list, back up, delete) ${(syncMs / 1000).toFixed(1)} s; restore ${(restoreMs / 1000).toFixed(1)} s`,
  );
  console.log(`  restored tables equal the originals (ids aside): ${equal ? "yes" : "NO"}`);
  process.exitCode = equal ? 0 : 1;
} finally {
  await t.close();
}
