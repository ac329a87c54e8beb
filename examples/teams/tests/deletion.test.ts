/**
 * A user deleted in Auth0 while the app's tables reference their row (memberships, the projects
 * they created, the tasks assigned to them), with convex/auth0.ts as init wrote it: no
 * `onUserDeleted` of the app's, no AUTH0_USER_DELETION set. The other members keep reading
 * every page of the app; the deleted person can no longer act.
 */
import { deliverUserDeleted, logIn, setAuth0TestEnv, signInAs } from "convex-auth0-users/testing";
import { afterEach, beforeEach, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { alice, allUsers, bob, joinAcme, newT } from "./helpers";

let restore: () => void;
beforeEach(() => {
  restore = setAuth0TestEnv();
});
afterEach(() => restore());

test("a user deleted with no hook configured: the other members keep reading", async () => {
  const t = newT();
  const a = await joinAcme(t, alice(), { roles: ["admin"] });
  const b = await joinAcme(t, bob());
  const { organizationId } = a;
  const projectId = await a.as.mutation(api.projects.create, { organizationId, name: "Launch" });
  await a.as.mutation(api.tasks.create, { projectId, title: "Write the plan", assignee: a.userId });
  await b.as.mutation(api.tasks.create, { projectId, title: "Review it", assignee: b.userId });

  expect((await deliverUserDeleted(t, alice())).status).toBe(200);

  // Bob reads every page that shows Alice's work: nothing throws, nothing went missing.
  const members = await b.as.query(api.organizations.members, { organizationId });
  expect(members.map((m) => m.userId).sort()).toEqual([a.userId, b.userId].sort());
  expect(members.find((m) => m.userId === b.userId)).toMatchObject({ usertag: "bob" });
  const projects = await b.as.query(api.projects.list, { organizationId });
  expect(projects).toEqual([
    expect.objectContaining({
      _id: projectId,
      createdBy: expect.objectContaining({ _id: a.userId }),
    }),
  ]);
  const tasks = await b.as.query(api.tasks.list, { projectId });
  expect(tasks.map((task) => task.title).sort()).toEqual(["Review it", "Write the plan"]);
  expect(tasks.find((task) => task.title === "Review it")?.assignee).toBe("bob");

  // Alice's row stays for those references, without what Auth0 knew of her.
  const row = (await allUsers(t)).find((u) => u._id === a.userId)!;
  expect(row.deletedAt).toBeTypeOf("number");
  expect(row).not.toHaveProperty("email");
  // She can neither use the app nor sign in again.
  await expect(signInAs(t, alice()).query(api.users.current, {})).rejects.toThrow();
  await expect(logIn(t, alice())).rejects.toThrow(/409/);
  await expect(logIn(t, alice(), { path: "store" })).rejects.toThrow(/deleted/i);
});
