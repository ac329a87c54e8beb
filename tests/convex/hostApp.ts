/**
 * A host app for the hook tests, shaped like the apps the module must fit: its `users` table has
 * REQUIRED fields of its own (a `usertag` the creation hook derives from the email, a `plan`
 * copied from `app_metadata.plan` with the hook's default), an optional `locale` from
 * `user_metadata`, `name` and `avatarUrl` owned by the app (its profile page edits them), and an
 * audit table the hooks write to in the writing mutation. `configureHostApp()` sets it up the way
 * the app's `convex/auth0.ts` would.
 */
// The repository's own convex/auth0.ts configures the module when first loaded; loading it here
// first lets configureHostApp() replace that configuration, as an app's own file would.
import "../../convex/auth0";
import { defineSchema, defineTable, type DataModelFromSchemaDefinition } from "convex/server";
import { v } from "convex/values";
import schema from "../../convex/schema";
import { auth0UsersTable, configureAuth0Users } from "../../server/index";

export const hostSchema = defineSchema({
  ...schema.tables,
  users: auth0UsersTable({
    usertag: v.string(),
    plan: v.union(v.literal("free"), v.literal("pro")),
    locale: v.optional(v.string()),
  }).index("by_usertag", ["usertag"]),
  userAudit: defineTable({
    auth0UserId: v.string(),
    kind: v.union(v.literal("created"), v.literal("updated")),
    /** For an update: the fields that changed, sorted. */
    changed: v.array(v.string()),
  }),
});
export type HostDataModel = DataModelFromSchemaDefinition<typeof hostSchema>;

/** The same app while it adopts its existing users table (rows without the module's fields). */
export const adoptingHostSchema = defineSchema({
  ...hostSchema.tables,
  users: auth0UsersTable(
    {
      usertag: v.string(),
      plan: v.union(v.literal("free"), v.literal("pro")),
      locale: v.optional(v.string()),
    },
    { adopting: true },
  ).index("by_usertag", ["usertag"]),
});

/** Knobs the tests turn: audit rows each creation writes (a hook whose cost grows). */
export const hostHooks = { auditRowsPerCreation: 1 };

/** `ada@example.com` -> `ada`; a second `ada` gets `ada-2`, as an app's unique handle would. */
const tagBase = (source: string) =>
  source
    .split("@")[0]
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "");

/** What the host app's `convex/auth0.ts` holds. */
export function configureHostApp(): void {
  configureAuth0Users<HostDataModel>({
    appOwnedFields: ["name", "avatarUrl"],
    metadata: {
      plan: { from: "app_metadata.plan", validator: v.union(v.literal("free"), v.literal("pro")) },
      locale: { from: "user_metadata.locale", validator: v.optional(v.string()) },
    },
    onUserCreated: async (ctx, user) => {
      const base = tagBase(user.email ?? user.auth0UserId) || "user";
      const taken = await ctx.db
        .query("users")
        .withIndex("by_usertag", (q) => q.eq("usertag", base))
        .first();
      for (let i = 0; i < hostHooks.auditRowsPerCreation; i++) {
        await ctx.db.insert("userAudit", {
          auth0UserId: user.auth0UserId,
          kind: "created",
          changed: [],
        });
      }
      // A valid app_metadata.plan wins over this default (the module puts it on top).
      return { usertag: taken ? `${base}-2` : base, plan: "free" };
    },
    onUserUpdated: async (ctx, { before, after }) => {
      const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
      const changed = [...keys]
        .filter(
          (k) =>
            k !== "updatedAt" &&
            JSON.stringify(before[k as "name"]) !== JSON.stringify(after[k as "name"]),
        )
        .sort();
      await ctx.db.insert("userAudit", {
        auth0UserId: after.auth0UserId,
        kind: "updated",
        changed,
      });
    },
  });
}

/** Compile-time checks of the hooks' types against the app's data model; never called. */
export function hostAppTypeChecks(): void {
  configureAuth0Users<HostDataModel>({
    // @ts-expect-error usertag and plan are required on the app's users: the hook must return them
    onUserCreated: async () => ({ usertag: "ada" }),
  });
  configureAuth0Users<HostDataModel>({
    metadata: {
      // @ts-expect-error plan holds "free" | "pro": a v.string() validator would let any string in
      plan: { from: "app_metadata.plan", validator: v.string() },
    },
  });
  configureAuth0Users<HostDataModel>({
    metadata: {
      // @ts-expect-error plan is required: an optional validator could remove it
      plan: { from: "app_metadata.plan", validator: v.optional(v.literal("pro")) },
    },
  });
  configureAuth0Users<HostDataModel>({
    metadata: {
      // @ts-expect-error email is the module's field, not the app's
      email: { from: "app_metadata.email", validator: v.string() },
    },
  });
  configureAuth0Users<HostDataModel>({
    metadata: {
      // @ts-expect-error a path outside app_metadata / user_metadata
      locale: { from: "identities.locale", validator: v.optional(v.string()) },
    },
  });
  // @ts-expect-error plan is not a profile field the module writes
  configureAuth0Users<HostDataModel>({ appOwnedFields: ["plan"] });
  configureAuth0Users<HostDataModel>({
    // The app's own fields are typed on both rows.
    onUserUpdated: async (_ctx, { before, after }) => {
      const tags: [string, string] = [before.usertag, after.usertag];
      void tags;
    },
  });
}
