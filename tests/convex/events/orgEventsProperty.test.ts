/**
 * Property: whatever order Auth0 delivers a history of organization events in, duplicates
 * included, the organizations and memberships end as the history left them. Histories create,
 * rename and delete organizations, add and remove members (and add them back), and assign and
 * remove roles, one second apart; deliveries are shuffled and about 15% are sent twice.
 */
import { convexTest } from "convex-test";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import schema from "../../../convex/schema";
import { cloudEvent, deliver, prng, setEventsEnv, type T } from "./eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");

beforeEach(() => {
  setEventsEnv();
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation(() => {});
  }
});
afterEach(() => vi.restoreAllMocks());

const ORGS = ["org_a", "org_b", "org_c"];
const USERS = ["auth0|u1", "auth0|u2", "auth0|u3", "auth0|u4"];
const ROLES = ["admin", "billing", "viewer"];

interface Expected {
  orgs: Map<string, { name: string; displayName: string }>;
  members: Map<string, Set<string>>; // `${org} ${user}` -> roles
}

/** A random history and the state it ends in. */
function history(seed: number, length: number) {
  const rand = prng(seed);
  const pick = <X>(xs: X[]) => xs[Math.floor(rand() * xs.length)];
  const events: Record<string, unknown>[] = [];
  const state: Expected = { orgs: new Map(), members: new Map() };
  const deleted = new Set<string>();
  let time = Date.now() - (length + 10) * 1000;
  const emit = (type: string, object: Record<string, unknown>) =>
    events.push(cloudEvent({ type, time: (time += 1000), object }));
  const memberObject = (org: string, user: string, role?: string) => ({
    organization: { id: org, name: org },
    user: { user_id: user },
    ...(role ? { role: { id: `rol_${role}`, name: role } } : {}),
  });
  for (let i = 0; i < length; i++) {
    const org = pick(ORGS);
    if (deleted.has(org)) continue;
    const user = pick(USERS);
    const key = `${org} ${user}`;
    const r = rand();
    if (!state.orgs.has(org) || r < 0.1) {
      const displayName = `${org} ${i}`;
      emit(state.orgs.has(org) ? "organization.updated" : "organization.created", {
        id: org,
        name: org,
        display_name: displayName,
      });
      state.orgs.set(org, { name: org, displayName });
    } else if (r < 0.105) {
      emit("organization.deleted", { id: org, name: org });
      state.orgs.delete(org);
      deleted.add(org);
      for (const k of [...state.members.keys()])
        if (k.startsWith(`${org} `)) state.members.delete(k);
    } else if (!state.members.has(key)) {
      emit("organization.member.added", memberObject(org, user));
      state.members.set(key, new Set());
    } else if (r < 0.3) {
      emit("organization.member.deleted", memberObject(org, user));
      state.members.delete(key);
    } else {
      const role = pick(ROLES);
      const roles = state.members.get(key)!;
      if (roles.has(role)) {
        emit("organization.member.role.deleted", memberObject(org, user, role));
        roles.delete(role);
      } else {
        emit("organization.member.role.assigned", memberObject(org, user, role));
        roles.add(role);
      }
    }
  }
  return { events, state };
}

for (const seed of [3, 17, 99, 2026, 31337]) {
  test(`seed ${seed}: shuffled, duplicated organization events end as the history did`, async () => {
    const { events, state } = history(seed, 400);
    const rand = prng(seed + 1);
    const order = [...events, ...events.filter(() => rand() < 0.15)];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const t: T = convexTest({ schema, modules, transactionLimits: true });
    for (const e of order) {
      const res = await deliver(t, e);
      expect(res.status, res.text).toBe(200);
    }
    const { organizations, memberships } = await t.run(async (ctx) => ({
      organizations: await ctx.db.query("auth0Organizations").collect(),
      memberships: await ctx.db.query("auth0Memberships").collect(),
    }));
    expect(
      Object.fromEntries(
        organizations.map((o) => [o.auth0OrgId, { name: o.name, displayName: o.displayName }]),
      ),
    ).toEqual(Object.fromEntries(state.orgs));
    expect(
      Object.fromEntries(memberships.map((m) => [`${m.auth0OrgId} ${m.auth0UserId}`, m.roles])),
    ).toEqual(Object.fromEntries([...state.members].map(([k, roles]) => [k, [...roles].sort()])));
    // Every history adds, removes and re-adds members and moves roles: never a vacuous pass.
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(count("organization.member.added")).toBeGreaterThan(10);
    expect(count("organization.member.deleted")).toBeGreaterThan(3);
    expect(count("organization.member.role.assigned")).toBeGreaterThan(10);
    expect(count("organization.member.role.deleted")).toBeGreaterThan(3);
  }, 60_000);
}
