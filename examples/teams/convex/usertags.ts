import type { QueryCtx } from "./_generated/server";

/**
 * A free @usertag from an email's local part: "Ada.Lovelace@x.com" gives "adalovelace", or
 * "adalovelace2", "adalovelace3", ... when taken.
 */
export async function usertagFor(ctx: QueryCtx, email: string): Promise<string> {
  const base =
    (email.split("@")[0] ?? "")
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "")
      .slice(0, 20) || "user";
  for (let n = 1; n <= 50; n++) {
    const usertag = n === 1 ? base : `${base}${n}`;
    const taken = await ctx.db
      .query("users")
      .withIndex("by_usertag", (q) => q.eq("usertag", usertag))
      .first();
    if (taken === null) return usertag;
  }
  return `${base}${Date.now().toString(36)}`;
}
