/**
 * The Auth0 side of the comparison at a small fixed cost per user, whatever the profiles hold:
 * the user id (a Map key, the slot its value), and per slot, in typed arrays, a 64-bit
 * fingerprint of each compared fact and the profile's `updated_at`. About 100 bytes per user, so
 * a million users fit in ~100 MB; the profiles themselves are never kept (a repair reads the
 * listing again for the users that differ: run.ts).
 *
 * A fingerprint covers a value's type and content (absent, a string, a boolean, null, anything
 * else), so two facts have the same fingerprint exactly when the comparison would call them
 * equal, but for a 2^-64 chance per compared fact. The hash is seeded per run: no value can be
 * chosen ahead to collide with another.
 */
import { randomBytes } from "node:crypto";
import { profileFromAuth0User, type Auth0UserLike } from "../../../server/auth0Profile";
import { PROFILE_KEYS } from "../../../server/userProfile";
import { ReconcileError } from "./errors";

/** Slots per chunk: storage grows a chunk at a time, never copied. */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
/** Two 32-bit words per compared fact. */
const WORDS = PROFILE_KEYS.length * 2;

/**
 * Writes the 64-bit fingerprint of `value` at `out[at]` and `out[at + 1]`: 0, 0 when it is
 * undefined (no value), else cyrb53's two 32-bit lanes over a type tag and the value's text,
 * both kept, never 0, 0.
 */
export function fingerprint(
  value: unknown,
  seeds: Uint32Array,
  out: Uint32Array,
  at: number,
): void {
  if (value === undefined) {
    out[at] = 0;
    out[at + 1] = 0;
    return;
  }
  let tag: number;
  let text: string;
  if (typeof value === "string") {
    tag = 1;
    text = value;
  } else if (typeof value === "boolean") {
    tag = 2;
    text = value ? "1" : "0";
  } else if (value === null) {
    tag = 3;
    text = "";
  } else {
    tag = 4;
    text = JSON.stringify(value) ?? String(value);
  }
  let h1 = (0xdeadbeef ^ seeds[0] ^ tag) | 0;
  let h2 = (0x41c6ce57 ^ seeds[1] ^ Math.imul(tag, 0x9e3779b1)) | 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 ^= text.length;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[at] = h1 === 0 && h2 === 0 ? 1 : h1;
  out[at + 1] = h2;
}

const seedsOf = (bytes: Buffer) => new Uint32Array([bytes.readUInt32LE(0), bytes.readUInt32LE(4)]);

/** Every Auth0 user of a listing, by id, with the fingerprints of its compared facts. */
export class Auth0Index {
  private readonly slots = new Map<string, number>();
  private readonly facts: Uint32Array[] = [];
  private readonly updatedAt: Float64Array[] = [];
  private readonly seen: Uint8Array[] = [];
  private readonly seeds = seedsOf(randomBytes(8));
  private readonly scratch = new Uint32Array(2);

  /** Users indexed. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Indexes one user of the listing (an export line or a search result), mapped as the Action
   * and the events map it. A user listed twice makes the listing unusable: it throws.
   */
  add(user: Record<string, unknown>): void {
    const id = user.user_id as string;
    if (this.slots.has(id)) throw new ReconcileError(`the users listing lists ${id} twice`);
    const slot = this.slots.size;
    const chunk = slot >>> CHUNK_BITS;
    if (chunk === this.facts.length) {
      this.facts.push(new Uint32Array(CHUNK * WORDS));
      this.updatedAt.push(new Float64Array(CHUNK));
      this.seen.push(new Uint8Array(CHUNK));
    }
    const at = slot & (CHUNK - 1);
    const profile = profileFromAuth0User(user as unknown as Auth0UserLike);
    const facts = this.facts[chunk];
    for (let k = 0; k < PROFILE_KEYS.length; k++) {
      // Absent and null are the same on this side: no value.
      fingerprint(profile[PROFILE_KEYS[k]] ?? undefined, this.seeds, facts, at * WORDS + 2 * k);
    }
    this.updatedAt[chunk][at] = profile.auth0UpdatedAt ?? NaN;
    this.slots.set(id, slot);
  }

  /** The slot of a user id, or undefined when the listing does not hold it. */
  slotOf(id: string): number | undefined {
    return this.slots.get(id);
  }

  /** The listed profile's `updated_at` (ms), or undefined when it had none. */
  updatedAtOf(slot: number): number | undefined {
    const ms = this.updatedAt[slot >>> CHUNK_BITS][slot & (CHUNK - 1)];
    return Number.isNaN(ms) ? undefined : ms;
  }

  /** Marks a user as having a row under a trusted issuer (not missing). */
  markSeen(slot: number): void {
    this.seen[slot >>> CHUNK_BITS][slot & (CHUNK - 1)] = 1;
  }

  /**
   * A bit per {@link PROFILE_KEYS} entry (bit k for key k) where `row`'s value differs from the
   * listed profile's; 0 when every fact matches.
   */
  differingFacts(slot: number, row: Readonly<Record<string, unknown>>): number {
    const facts = this.facts[slot >>> CHUNK_BITS];
    const base = (slot & (CHUNK - 1)) * WORDS;
    let mask = 0;
    for (let k = 0; k < PROFILE_KEYS.length; k++) {
      fingerprint(row[PROFILE_KEYS[k]], this.seeds, this.scratch, 0);
      if (this.scratch[0] !== facts[base + 2 * k] || this.scratch[1] !== facts[base + 2 * k + 1]) {
        mask |= 1 << k;
      }
    }
    return mask;
  }

  /** The ids of users never marked seen, in listing order. */
  *unseen(): Generator<string> {
    for (const [id, slot] of this.slots) {
      if (this.seen[slot >>> CHUNK_BITS][slot & (CHUNK - 1)] === 0) yield id;
    }
  }
}
