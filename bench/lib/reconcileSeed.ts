/**
 * The tenant the reconcile benchmarks measure: `n` Auth0 users signed up over the past year, and
 * the rows Convex holds for them, with 1% of the users missing in Convex, 1% drifted (renamed in
 * Convex) and 1% orphaned (rows whose user is gone from Auth0).
 */
import type { Doc } from "../../convex/_generated/dataModel";
import type { ManagementApiEmulator } from "../../local-auth0/managementApiEmulator";
import { profileFromAuth0User } from "../../server/users/auth0Profile";
import { tokenIdentifier } from "../../server/tokenIdentifier";

export type NewUserRow = Omit<Doc<"users">, "_id" | "_creationTime">;

/** Seeds the emulator with `n` users; returns the rows Convex should hold, in creation order. */
export function seedReconcileTenant(emulator: ManagementApiEmulator, n: number): NewUserRow[] {
  const onePercent = Math.max(1, Math.floor(n / 100));
  const at = new Date(Date.now() - 3_600_000).toISOString();
  // Sign-ups spread over the year before: the user search lists by created_at windows.
  const from = Date.now() - 366 * 86_400_000;
  const step = (365 * 86_400_000) / n;
  const rows: NewUserRow[] = [];
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const user = emulator.seedUser({
      user_id: `auth0|b${String(i).padStart(7, "0")}`,
      created_at: new Date(from + Math.floor(i * step)).toISOString(),
      updated_at: at,
    });
    if (i < onePercent) continue; // missing in Convex
    const facts = profileFromAuth0User(user);
    rows.push({
      tokenIdentifier: tokenIdentifier(emulator.domain, user.user_id),
      auth0UserId: user.user_id,
      email: facts.email ?? undefined,
      emailVerified: facts.emailVerified ?? undefined,
      name: i < 2 * onePercent ? "Old Name" : (facts.name ?? undefined), // drifted
      nickname: facts.nickname ?? undefined,
      avatarUrl: facts.avatarUrl ?? undefined,
      auth0UpdatedAt: facts.auth0UpdatedAt,
      createdAt: now,
      updatedAt: now,
    });
  }
  for (let i = 0; i < onePercent; i++) {
    const id = `auth0|orphan${i}`;
    rows.push({
      tokenIdentifier: tokenIdentifier(emulator.domain, id),
      auth0UserId: id,
      createdAt: now,
      updatedAt: now,
    });
  }
  return rows;
}
