/**
 * Restoring a deletion's backup (`backups/convex-orphans-*.ndjson`, lines of `{ table, row }`) into
 * the local Convex host, as README "Deletion is never a surprise" describes: users first (new
 * ids), then organizations and memberships pointing at the new user ids, and the deletion's
 * tombstones removed. Used by the restore test and `bench/backupRestore.ts`.
 */
import { readFileSync } from "node:fs";
import type { Id } from "../../convex/_generated/dataModel";
import type { Tenant } from "./reconcileHarness";

export interface BackupRecord {
  table: "users" | "auth0Organizations" | "auth0Memberships";
  row: Record<string, unknown>;
}

/** The records of a backup file. */
export function readBackup(path: string): BackupRecord[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as BackupRecord);
}

/** Every row of the tables a deletion touches. */
export const tableSnapshot = (t: Tenant) =>
  t.convex.t.run(async (ctx) => ({
    users: await ctx.db.query("users").collect(),
    tombstones: await ctx.db.query("auth0UserTombstones").collect(),
    auth0Organizations: await ctx.db.query("auth0Organizations").collect(),
    auth0Memberships: await ctx.db.query("auth0Memberships").collect(),
  }));

/** The tables without ids and creation times (a restore makes new ones), in a stable order. */
export function comparable(s: Awaited<ReturnType<typeof tableSnapshot>>) {
  return {
    users: s.users
      .map(({ _id, _creationTime, ...r }) => r)
      .sort((a, b) => a.tokenIdentifier.localeCompare(b.tokenIdentifier)),
    auth0Organizations: s.auth0Organizations
      .map(({ _id, _creationTime, ...r }) => r)
      .sort((a, b) => a.auth0OrgId.localeCompare(b.auth0OrgId)),
    auth0Memberships: s.auth0Memberships
      .map(({ _id, _creationTime, userId, ...r }) => ({ ...r, hasUser: userId !== undefined }))
      .sort((a, b) =>
        `${a.auth0OrgId} ${a.auth0UserId}`.localeCompare(`${b.auth0OrgId} ${b.auth0UserId}`),
      ),
  };
}

/** Inserts the backup's rows back, `chunk` per transaction. */
export async function restoreBackup(t: Tenant, records: BackupRecord[], chunk = 500) {
  const newIds = new Map<string, Id<"users">>();
  const users = records.filter((r) => r.table === "users");
  for (let i = 0; i < users.length; i += chunk) {
    await t.convex.t.run(async (ctx) => {
      for (const { row } of users.slice(i, i + chunk)) {
        const { _id, _creationTime, ...fields } = row;
        newIds.set(String(_id), await ctx.db.insert("users", fields as never));
      }
    });
  }
  const rest = records.filter((r) => r.table !== "users");
  for (let i = 0; i < rest.length; i += chunk) {
    await t.convex.t.run(async (ctx) => {
      for (const { table, row } of rest.slice(i, i + chunk)) {
        const { _id, _creationTime, ...fields } = row;
        if (table === "auth0Memberships" && typeof fields.userId === "string") {
          fields.userId = newIds.get(fields.userId) ?? fields.userId;
        }
        await ctx.db.insert(table as "auth0Organizations" | "auth0Memberships", fields as never);
      }
    });
  }
  // The deletion's tombstones go: a restore says the deletion was a mistake.
  const gone = new Set(users.map((r) => String(r.row.auth0UserId)));
  const orgs = new Set(
    records.filter((r) => r.table === "auth0Organizations").map((r) => String(r.row.auth0OrgId)),
  );
  const members = new Set(
    records
      .filter((r) => r.table === "auth0Memberships")
      .map((r) => `${String(r.row.auth0OrgId)} ${String(r.row.auth0UserId)}`),
  );
  await t.convex.t.run(async (ctx) => {
    for (const tomb of await ctx.db.query("auth0UserTombstones").collect()) {
      if (gone.has(tomb.auth0UserId)) await ctx.db.delete("auth0UserTombstones", tomb._id);
    }
    for (const tomb of await ctx.db.query("auth0OrganizationTombstones").collect()) {
      const member = `${tomb.auth0OrgId} ${tomb.auth0UserId ?? ""}`;
      if ((tomb.auth0UserId === undefined && orgs.has(tomb.auth0OrgId)) || members.has(member)) {
        await ctx.db.delete("auth0OrganizationTombstones", tomb._id);
      }
    }
  });
}
