/**
 * Property test of the Event Stream receiver: a random history of several hundred events over a
 * few dozen users (creates, updates, deletes, re-creates under a new user_id or, for social
 * connections, the same one), delivered shuffled and with duplicates, with test events, unknown
 * types and stale reconcile reads mixed in, must leave `users` exactly as the history ends.
 *
 * Some events carry dates from the future: forged updates whose `updated_at` lies an hour, a day
 * or millennia ahead (each must be recorded as failed and change nothing), and real deletions
 * whose `deleted_at` and `time` lie in the future (clamped to the receipt time, so they still
 * apply). A user id deleted with a future date is not re-created under the same id: with the
 * deletion clamped to "now", a re-creation dated before now is refused, which is the rule.
 */
import { convexTest } from "convex-test";
import fc from "fast-check";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { internal } from "../../../convex/_generated/api";
import type { Doc } from "../../../convex/_generated/dataModel";
import schema from "../../../convex/schema";
import { tokenIdentifier } from "../../../server/tokenIdentifier";
import { PROFILE_KEYS } from "../../../server/users/profile";
import { cloudEvent, deliver, DOMAIN, prng, setEventsEnv, tables, type T } from "./eventsFixtures";

const modules = import.meta.glob("../../../convex/**/*.*s");

const SLOTS = 30;
const SEEDS = [1, 7, 42, 2024, 31337];
const RUNS_PER_SEED = 3;
const PROVIDERS = ["auth0", "google-oauth2", "samlp|acme"] as const;
const HOUR = 3_600_000;
/** How far ahead a forged update's updated_at lies; the last is an absolute year-9999 date. */
const FORGED_LEADS = [HOUR, 24 * HOUR, "9999-12-31T00:00:00.000Z"] as const;

beforeEach(() => {
  setEventsEnv();
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

/** Profile attributes as Auth0 sends them: present, null, or left out. */
const attr = <V>(values: fc.Arbitrary<V>) =>
  fc.option(fc.option(values, { nil: null }), { nil: undefined, freq: 4 });
const profileArb = fc.record({
  email: attr(fc.constantFrom("a@example.com", "b@example.org", "")),
  email_verified: attr(fc.boolean()),
  name: attr(fc.constantFrom("Ada Lovelace", "Grace Hopper", "")),
  nickname: attr(fc.constantFrom("ada", "grace", "alan")),
  given_name: attr(fc.constantFrom("Ada", "Grace")),
  family_name: attr(fc.constantFrom("Lovelace", "Hopper")),
  picture: attr(fc.constantFrom("https://cdn.example.com/1.png", "https://cdn.example.com/2.png")),
});
type ValueOf<A> = A extends fc.Arbitrary<infer V> ? V : never;
type Profile = ValueOf<typeof profileArb>;

const opArb = fc.record({
  slot: fc.nat(SLOTS - 1),
  /** For a live user: delete instead of update (about one in five). */
  remove: fc.nat(4).map((n) => n === 0),
  /** For a re-creation on a social connection: reuse the old user_id. */
  sameId: fc.boolean(),
  gapMs: fc.integer({ min: 1, max: 5000 }),
  profile: profileArb,
  /** Also take a reconcile-style read of this user's profile at this point. */
  snapshot: fc.nat(9).map((n) => n === 0),
  /** Also deliver a forged update of this user dated in the future. */
  forge: fc.nat(9).map((n) => n === 0),
  forgedLead: fc.constantFrom(...FORGED_LEADS),
  /** For a deletion: date it (deleted_at and the envelope's time) in the future. */
  futureDeletion: fc.nat(3).map((n) => n === 0),
});
const historyArb = fc.record({
  ops: fc.array(opArb, { minLength: 300, maxLength: 400 }),
  shuffleSeed: fc.integer(),
});

type Delivery =
  | { kind: "event"; event: Record<string, unknown> }
  | { kind: "reconcile"; auth0UserId: string; profile: Profile; updatedAt: number };

interface Expected {
  email?: string;
  emailVerified?: boolean;
  name?: string;
  nickname?: string;
  givenName?: string;
  familyName?: string;
  avatarUrl?: string;
  auth0UpdatedAt: number;
}

/** What a row must hold for a profile, written independently of server/users/auth0Profile.ts. */
function expectedRow(p: Profile, updatedAt: number): Expected {
  const s = (x: string | null | undefined) => (typeof x === "string" && x !== "" ? x : undefined);
  const row: Expected = { auth0UpdatedAt: updatedAt };
  const set = <K extends keyof Expected>(k: K, value: Expected[K] | undefined) => {
    if (value !== undefined) row[k] = value;
  };
  set("email", s(p.email));
  set("emailVerified", typeof p.email_verified === "boolean" ? p.email_verified : undefined);
  set("name", s(p.name) ?? s(p.nickname));
  set("nickname", s(p.nickname));
  set("givenName", s(p.given_name));
  set("familyName", s(p.family_name));
  set("avatarUrl", s(p.picture));
  return row;
}

function actualRow(row: Doc<"users">): Expected {
  const out: Expected = { auth0UpdatedAt: row.auth0UpdatedAt! };
  for (const k of PROFILE_KEYS) {
    if (row[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = row[k];
  }
  return out;
}

/** Plays the history in Auth0's order and returns the events and the final state by user_id. */
function buildHistory(ops: ValueOf<typeof opArb>[]) {
  const iso = (ms: number) => new Date(ms).toISOString();
  let time = Date.now() - 3 * 60 * 60 * 1000; // within the retention
  let eventNo = 0;
  const slots = Array.from({ length: SLOTS }, () => ({
    live: null as null | { id: string; profile: Profile; updatedAt: number },
    lastId: null as null | string,
    /** The last deletion was dated in the future: its id is not reused. */
    lastDeletionFuture: false,
    generation: 0,
  }));
  const deliveries: Delivery[] = [];
  const stats = {
    deletes: 0,
    sameIdRecreates: 0,
    newIdRecreates: 0,
    forged: 0,
    futureDeletions: 0,
  };
  const finalState = new Map<string, Expected | "deleted">();
  const forgedIds = new Set<string>();
  const event = (type: string, object: Record<string, unknown>, at = time) =>
    cloudEvent({
      type,
      time: at,
      object,
      id: `evt_${(++eventNo).toString().padStart(16, "0")}`,
    });

  for (const op of ops) {
    time += op.gapMs;
    const slot = slots[op.slot];
    const provider = PROVIDERS[op.slot % PROVIDERS.length];
    if (slot.live && op.remove) {
      const { id, profile, updatedAt } = slot.live;
      // A deletion dated in the future: Auth0's clock (or a forger) ahead of ours.
      const deletedAt = op.futureDeletion ? Date.now() + 24 * HOUR : time;
      deliveries.push({
        kind: "event",
        event: event(
          "user.deleted",
          { ...profile, user_id: id, updated_at: iso(updatedAt), deleted_at: iso(deletedAt) },
          deletedAt,
        ),
      });
      finalState.set(id, "deleted");
      stats.deletes++;
      if (op.futureDeletion) stats.futureDeletions++;
      slot.lastDeletionFuture = op.futureDeletion;
      slot.live = null;
      continue;
    }
    let type = "user.updated";
    let id = slot.live?.id;
    if (!id) {
      type = "user.created";
      const social = provider !== "auth0";
      const reuse = slot.lastId !== null && social && op.sameId && !slot.lastDeletionFuture;
      if (slot.lastId !== null) stats[reuse ? "sameIdRecreates" : "newIdRecreates"]++;
      id = reuse ? slot.lastId! : `${provider}|s${op.slot}g${slot.generation++}`;
    }
    slot.live = { id, profile: op.profile, updatedAt: time };
    slot.lastId = id;
    deliveries.push({
      kind: "event",
      event: event(type, { ...op.profile, user_id: id, updated_at: iso(time) }),
    });
    finalState.set(id, expectedRow(op.profile, time));
    if (op.forge) {
      const lead = op.forgedLead;
      // Ahead of the receiver's clock (the history itself lies in the past).
      const forgedAt = typeof lead === "number" ? iso(Date.now() + lead) : lead;
      const forged = event("user.updated", {
        user_id: id,
        email: "mallory@evil.example",
        name: "Forged",
        updated_at: forgedAt,
      });
      forgedIds.add(forged.id as string);
      deliveries.push({ kind: "event", event: forged });
      stats.forged++;
    }
    if (op.snapshot) {
      deliveries.push({ kind: "reconcile", auth0UserId: id, profile: op.profile, updatedAt: time });
    }
  }
  // Events this receiver acknowledges and ignores.
  deliveries.push({
    kind: "event",
    event: { ...event("user.created", { user_id: "auth0|test" }), a0purpose: "test" },
  });
  deliveries.push({ kind: "event", event: event("connection.created", { id: "con_1" }) });
  return { deliveries, finalState, eventCount: eventNo, stats, forgedIds };
}

/** Shuffles and duplicates about 15% of the deliveries, as an at-least-once stream may. */
function deliveryOrder(deliveries: Delivery[], seed: number): Delivery[] {
  const rand = prng(seed);
  const out = [...deliveries];
  for (const d of deliveries) if (d.kind === "event" && rand() < 0.15) out.push(d);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function run(t: T, order: Delivery[]) {
  for (const d of order) {
    if (d.kind === "event") {
      const res = await deliver(t, d.event);
      if (res.status !== 200) throw new Error(`delivery answered ${res.status}: ${res.text}`);
      continue;
    }
    // A reconcile that read Auth0 at that point: it may find the user deleted since.
    const p = d.profile;
    const nul = <V>(x: V | undefined) => (x === undefined ? null : x);
    const nonEmpty = (x: string | null | undefined) => (x ? x : null);
    try {
      await t.mutation(internal.auth0.upsertFromAuth0, {
        tokenIdentifier: tokenIdentifier(DOMAIN, d.auth0UserId),
        email: nonEmpty(p.email),
        emailVerified: nul(p.email_verified),
        name: nonEmpty(p.name) ?? nonEmpty(p.nickname),
        nickname: nonEmpty(p.nickname),
        givenName: nonEmpty(p.given_name),
        familyName: nonEmpty(p.family_name),
        avatarUrl: nonEmpty(p.picture),
        auth0UpdatedAt: d.updatedAt,
      });
    } catch (err) {
      if (!String(err).includes("deleted")) throw err;
    }
  }
}

test.each(SEEDS)(
  "seed %i: shuffled, duplicated delivery ends in the history's final users table",
  async (seed) => {
    let checkedEvents = 0;
    const totals = {
      deletes: 0,
      sameIdRecreates: 0,
      newIdRecreates: 0,
      superseded: 0,
      forged: 0,
      futureDeletions: 0,
    };
    await fc.assert(
      fc.asyncProperty(historyArb, async ({ ops, shuffleSeed }) => {
        const { deliveries, finalState, eventCount, stats, forgedIds } = buildHistory(ops);
        const order = deliveryOrder(deliveries, shuffleSeed);
        const t: T = convexTest({ schema, modules, transactionLimits: true });
        await run(t, order);
        checkedEvents += order.filter((d) => d.kind === "event").length;

        const { users, events } = await tables(t);
        const expected = [...finalState.entries()]
          .filter((e): e is [string, Expected] => e[1] !== "deleted")
          .sort(([a], [b]) => a.localeCompare(b));
        const actual = [...users]
          .sort((a, b) => a.auth0UserId.localeCompare(b.auth0UserId))
          .map((row) => [row.auth0UserId, actualRow(row)] as const);
        expect(actual).toEqual(expected);
        for (const row of users) {
          expect(row.tokenIdentifier).toBe(tokenIdentifier(DOMAIN, row.auth0UserId));
        }
        // Every distinct event id is recorded exactly once.
        expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
        expect(events.length).toBe(eventCount);
        // Exactly the forged updates failed, each for its date.
        const failed = events.filter((e) => e.outcome === "failed");
        expect(new Set(failed.map((e) => e.eventId))).toEqual(forgedIds);
        for (const e of failed) expect(e.detail).toMatch(/future/);
        totals.forged += stats.forged;
        totals.futureDeletions += stats.futureDeletions;
        totals.deletes += stats.deletes;
        totals.sameIdRecreates += stats.sameIdRecreates;
        totals.newIdRecreates += stats.newIdRecreates;
        totals.superseded += events.filter((e) => e.outcome === "superseded").length;
      }),
      { seed, numRuns: RUNS_PER_SEED, endOnFailure: true },
    );
    // The histories did exercise what this test is about.
    expect(checkedEvents).toBeGreaterThanOrEqual(300 * RUNS_PER_SEED);
    expect(totals.deletes).toBeGreaterThan(10);
    expect(totals.sameIdRecreates).toBeGreaterThan(0);
    expect(totals.newIdRecreates).toBeGreaterThan(0);
    expect(totals.superseded).toBeGreaterThan(10);
    expect(totals.forged).toBeGreaterThan(10);
    expect(totals.futureDeletions).toBeGreaterThan(0);
    if (process.env.EVENTS_PROPERTY_STATS) console.info(`seed ${seed}`, checkedEvents, totals);
  },
  60_000,
);
