/**
 * An Auth0 B2B app with its own `organizations` and `memberships` tables (its own cache of Auth0
 * Organizations, referenced by `v.id("organizations")` from another table) spreads the module's
 * tables beside them: no name is shared, so both keep their rows and their validators.
 */
import { convexTest } from "convex-test";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api } from "../../../convex/_generated/api";
import { auth0Tables } from "../../../server/tables";
import { logIn, setAuth0TestEnv, signInAs } from "../../../testing";

const modules = import.meta.glob("../../../convex/**/*.*s");
const schema = defineSchema({
  ...auth0Tables,
  organizations: defineTable({ slug: v.string(), plan: v.string() }).index("by_slug", ["slug"]),
  memberships: defineTable({
    organizationId: v.id("organizations"),
    userId: v.id("users"),
    role: v.string(),
  }).index("by_organization", ["organizationId"]),
  projects: defineTable({ organizationId: v.id("organizations"), title: v.string() }),
});

let restoreEnv: () => void;
beforeEach(() => {
  restoreEnv = setAuth0TestEnv({
    AUTH0_ACTION_SECRET: "q8ZrV1xKp3TnW6yBd0LhJ5uMc2GsF9aE7oRi4vNk",
    AUTH0_EVENTS_TOKEN: "Xb3Lw9QeT1mZr6HyU0cK8pNa5VdJ2sGf7iOt4jYq",
  });
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation(() => {});
  }
});
afterEach(() => {
  restoreEnv();
  vi.restoreAllMocks();
});

test("the app's own organizations and memberships stay its own while the module records an organization login", async () => {
  const t = convexTest({ schema, modules, transactionLimits: true });
  const ada = { user_id: "auth0|ada", email: "ada@example.com", name: "Ada" };
  const { userId } = await logIn(t, ada, {
    organization: { id: "org_acme", name: "acme", displayName: "Acme", roles: ["admin"] },
  });
  // The app's rows, written with its own validators and ids, beside the module's.
  const appRows = await t.run(async (ctx) => {
    const organizationId = await ctx.db.insert("organizations", { slug: "acme", plan: "pro" });
    await ctx.db.insert("memberships", { organizationId, userId, role: "owner" });
    await ctx.db.insert("projects", { organizationId, title: "Launch" });
    return {
      organizations: await ctx.db.query("organizations").collect(),
      memberships: await ctx.db.query("memberships").collect(),
    };
  });
  expect(appRows.organizations.map((o) => o.slug)).toEqual(["acme"]);
  expect(appRows.memberships.map((m) => m.role)).toEqual(["owner"]);

  // The module's own records, under its own names; the app's helpers read them.
  const module = await t.run(async (ctx) => ({
    organizations: await ctx.db.query("auth0Organizations").collect(),
    memberships: await ctx.db.query("auth0Memberships").collect(),
  }));
  expect(module.organizations.map((o) => [o.auth0OrgId, o.displayName])).toEqual([
    ["org_acme", "Acme"],
  ]);
  expect(module.memberships.map((m) => [m.auth0OrgId, m.userId, m.roles])).toEqual([
    ["org_acme", userId, ["admin"]],
  ]);
  expect(await signInAs(t, ada).query(api.auth0.myOrganizations, {})).toEqual([
    { auth0OrgId: "org_acme", name: "acme", displayName: "Acme", roles: ["admin"] },
  ]);
  // A second login changes the module's rows only.
  await logIn(t, ada, { organization: { id: "org_acme", name: "acme", roles: ["member"] } });
  const after = await t.run(async (ctx) => ({
    app: await ctx.db.query("memberships").collect(),
    module: await ctx.db.query("auth0Memberships").collect(),
  }));
  expect(after.app).toEqual(appRows.memberships);
  expect(after.module.map((m) => m.roles)).toEqual([["member"]]);
});
