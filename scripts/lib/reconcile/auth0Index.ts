/**
 * The Auth0 side of the comparison at a small fixed cost per user, whatever the profiles hold:
 * the user id, a 48-bit fingerprint per compared fact and the profile's `updated_at`: about 70
 * bytes per user plus the id's own bytes, in typed arrays outside the JavaScript heap (~90 MB for
 * a million users). The profiles themselves are never kept (a repair reads the listing again for
 * the users that differ: run.ts).
 *
 * The compared facts are those the deployment says it takes from Auth0 (its field rules, from
 * `/auth0/sync/status`): the profile fields the app does not own, then each app field mapped
 * from Auth0 metadata (the mapped value as canonical JSON, or "not compared" where the
 * deployment keeps the stored value whatever Auth0 holds), 6 bytes each.
 *
 * A fingerprint covers a value's type and content (absent, a string, a boolean, null, anything
 * else), so two facts have the same fingerprint when the comparison would call them equal, and
 * different ones otherwise but for a 2^-48 chance per differing fact (a million users with 1%
 * drifted: about one wrong report in 10^10 runs). The hash is seeded per run: no value can be
 * chosen ahead to collide with another.
 */
import { randomBytes } from "node:crypto";
import {
  parseMetadataPath,
  profileFromAuth0User,
  valueAtPath,
  type Auth0Profile,
  type Auth0UserLike,
} from "../../../server/users/auth0Profile";
import type { UserFieldRules } from "../../../server/reconcile/sync";
import { canonicalJson } from "../../../server/users/metadata";
import { PROFILE_KEYS, type ProfileKey } from "../../../server/users/profile";
import { ReconcileError } from "./errors";

/** The deployment's field rules (`/auth0/sync/status`); none: every profile fact is Auth0's. */
export const NO_FIELD_RULES: UserFieldRules = { appOwned: [], metadata: [] };

/** A mapped field the comparison leaves alone for a user (see {@link mappedWants}). */
export const NOT_COMPARED = Symbol("not compared");

/**
 * What each of `rules.metadata` should hold for a listed profile (carrying the mapped paths'
 * metadata, profileFromAuth0User's `metadataJson`): the value as canonical JSON (undefined: no
 * value), or {@link NOT_COMPARED} where the profile lacks the path's source, or where a required
 * field's key is missing in Auth0 (the deployment keeps the stored value on every path).
 */
export function mappedWants(
  profile: Auth0Profile,
  rules: UserFieldRules,
): (string | undefined | typeof NOT_COMPARED)[] {
  const carried =
    profile.metadataJson === undefined
      ? undefined
      : (JSON.parse(profile.metadataJson) as Record<string, unknown>);
  return rules.metadata.map(({ from, optional }) => {
    const path = parseMetadataPath(from);
    if (!carried || !path || carried[path.source] === undefined) return NOT_COMPARED;
    const want = canonicalJson(valueAtPath(carried[path.source], path.keys));
    return want === undefined && !optional ? NOT_COMPARED : want;
  });
}

/** Slots per chunk: storage grows a chunk at a time, never copied. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
/** 16-bit words per compared fact: a 48-bit fingerprint. */
const PER_FACT = 3;

/**
 * Writes the 48-bit fingerprint of `value` at `out[at..at + 2]`: zeros when it is undefined (no
 * value), else 48 bits of cyrb53's two 32-bit lanes over a type tag and the value's text, never
 * all zeros nor all ones (which marks a fact {@link NOT_COMPARED}).
 */
export function fingerprint(
  value: unknown,
  seeds: Uint32Array,
  out: Uint16Array,
  at: number,
): void {
  if (value === undefined) {
    out[at] = 0;
    out[at + 1] = 0;
    out[at + 2] = 0;
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
  out[at] = h1;
  out[at + 1] = h1 >>> 16;
  out[at + 2] = h2;
  if (out[at] === 0 && out[at + 1] === 0 && out[at + 2] === 0) out[at] = 1;
  if (out[at] === 0xffff && out[at + 1] === 0xffff && out[at + 2] === 0xffff) out[at] = 0xfffe;
}

/** Marks the fact at `out[at..at + 2]` as not compared: all ones, which no fingerprint is. */
function markNotCompared(out: Uint16Array, at: number): void {
  out[at] = 0xffff;
  out[at + 1] = 0xffff;
  out[at + 2] = 0xffff;
}

const seedsOf = (bytes: Buffer) => new Uint32Array([bytes.readUInt32LE(0), bytes.readUInt32LE(4)]);

/** Bytes per chunk of the ids' storage (UTF-8, one after another). */
const ID_CHUNK_BITS = 20;
const ID_CHUNK_BYTES = 1 << ID_CHUNK_BITS;

/** A 32-bit hash of a string's UTF-16 code units (to find its slot; equality is checked). */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Every Auth0 user of a listing, by id, with the fingerprints of its compared facts. Everything
 * lives in typed arrays, outside the JavaScript heap: the ids (UTF-8, in chunks), an
 * open-addressing table from id to slot, and per slot the facts. The garbage collector never
 * walks them, and the heap stays small whatever the number of users, so it does not grow in
 * proportion either.
 */
export class Auth0Index {
  /** The compared facts, in the order a drift report names them: the profile fields Auth0
   * owns, then the app's metadata-mapped fields. */
  readonly fields: readonly string[];
  private readonly owned: readonly ProfileKey[];
  private readonly words: number;
  /** The mapped paths, for profileFromAuth0User; undefined when the app maps none. */
  private readonly paths: readonly string[] | undefined;
  private count = 0;
  /** Per slot, in chunks of {@link CHUNK} slots. */
  private readonly facts: Uint16Array[] = [];
  private readonly updatedAt: Float64Array[] = [];
  private readonly seen: Uint8Array[] = [];
  private readonly idHash: Uint32Array[] = [];
  /** Where each id's bytes start (chunk * ID_CHUNK_BYTES + offset), and how many. */
  private readonly idStart: Uint32Array[] = [];
  private readonly idLength: Uint16Array[] = [];
  private readonly idBytes: Uint8Array[] = [];
  private idUsed = ID_CHUNK_BYTES;
  /** Slot + 1 at each position (0: empty); at most half full. */
  private table = new Int32Array(1 << 10);
  private readonly seeds = seedsOf(randomBytes(8));
  private readonly scratch = new Uint16Array(PER_FACT);
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private encoded = new Uint8Array(1024);
  private encodedLength = 0;

  /** `rules`: the deployment's field rules, which decide what is compared. */
  constructor(private readonly rules: UserFieldRules = NO_FIELD_RULES) {
    this.owned = PROFILE_KEYS.filter((key) => !rules.appOwned.includes(key));
    this.fields = [...this.owned, ...rules.metadata.map((m) => m.field)];
    this.words = this.fields.length * PER_FACT;
    this.paths = rules.metadata.length > 0 ? rules.metadata.map((m) => m.from) : undefined;
  }

  /** Users indexed. */
  get size(): number {
    return this.count;
  }

  /**
   * Indexes one user of the listing (an export line or a search result), mapped as the Action
   * and the events map it. A user listed twice makes the listing unusable: it throws.
   */
  add(user: Record<string, unknown>): void {
    const id = user.user_id as string;
    const hash = hashId(id);
    const at = this.find(id, hash);
    if (this.table[at] !== 0) throw new ReconcileError(`the users listing lists ${id} twice`);
    const slot = this.count++;
    const chunk = slot >>> CHUNK_BITS;
    if (chunk === this.facts.length) {
      this.facts.push(new Uint16Array(CHUNK * this.words));
      this.updatedAt.push(new Float64Array(CHUNK));
      this.seen.push(new Uint8Array(CHUNK));
      this.idHash.push(new Uint32Array(CHUNK));
      this.idStart.push(new Uint32Array(CHUNK));
      this.idLength.push(new Uint16Array(CHUNK));
    }
    const i = slot & (CHUNK - 1);
    this.storeId(chunk, i, hash);
    // Mapped as sync writes it (run.ts), metadata cut to the mapped paths.
    const profile = profileFromAuth0User(user as unknown as Auth0UserLike, this.paths);
    const facts = this.facts[chunk];
    const base = i * this.words;
    const owned = this.owned;
    for (let k = 0; k < owned.length; k++) {
      // Absent and null are the same on this side: no value.
      fingerprint(profile[owned[k]] ?? undefined, this.seeds, facts, base + PER_FACT * k);
    }
    if (this.paths) {
      const wants = mappedWants(profile, this.rules);
      for (let m = 0; m < wants.length; m++) {
        const at = base + PER_FACT * (owned.length + m);
        const want = wants[m];
        if (want === NOT_COMPARED) markNotCompared(facts, at);
        else fingerprint(want, this.seeds, facts, at);
      }
    }
    this.updatedAt[chunk][i] = profile.auth0UpdatedAt ?? NaN;
    // Growing places every slot again, this one included.
    if (2 * this.count > this.table.length) this.grow();
    else this.table[at] = slot + 1;
  }

  /** The slot of a user id, or undefined when the listing does not hold it. */
  slotOf(id: string): number | undefined {
    const entry = this.table[this.find(id, hashId(id))];
    return entry === 0 ? undefined : entry - 1;
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
   * Writes into `into` the positions (in {@link fields}) of the facts where `row`'s value differs
   * from the listed profile's, in order, and returns how many; 0 when every fact matches. A
   * mapped field is compared as canonical JSON; one not compared never differs.
   */
  differingFacts(slot: number, row: Readonly<Record<string, unknown>>, into: Uint16Array): number {
    const facts = this.facts[slot >>> CHUNK_BITS];
    const base = (slot & (CHUNK - 1)) * this.words;
    const owned = this.owned;
    let n = 0;
    for (let k = 0; k < this.fields.length; k++) {
      const at = base + PER_FACT * k;
      let value: unknown;
      if (k < owned.length) value = row[owned[k]];
      else if (facts[at] === 0xffff && facts[at + 1] === 0xffff && facts[at + 2] === 0xffff) {
        continue;
      } else value = canonicalJson(row[this.fields[k]]);
      fingerprint(value, this.seeds, this.scratch, 0);
      if (
        this.scratch[0] !== facts[at] ||
        this.scratch[1] !== facts[at + 1] ||
        this.scratch[2] !== facts[at + 2]
      ) {
        into[n++] = k;
      }
    }
    return n;
  }

  /** The ids of users never marked seen, in listing order. */
  *unseen(): Generator<string> {
    for (let slot = 0; slot < this.count; slot++) {
      if (this.seen[slot >>> CHUNK_BITS][slot & (CHUNK - 1)] === 0) yield this.idOf(slot);
    }
  }

  /** The id stored at `slot`. */
  private idOf(slot: number): string {
    const chunk = slot >>> CHUNK_BITS;
    const i = slot & (CHUNK - 1);
    const start = this.idStart[chunk][i];
    const bytes = this.idBytes[start >>> ID_CHUNK_BITS];
    const from = start & (ID_CHUNK_BYTES - 1);
    return this.decoder.decode(bytes.subarray(from, from + this.idLength[chunk][i]));
  }

  /** Encodes `id` into {@link encoded}. */
  private encode(id: string): void {
    if (id.length * 3 > this.encoded.length) this.encoded = new Uint8Array(id.length * 3);
    this.encodedLength = this.encoder.encodeInto(id, this.encoded).written;
  }

  /** The table position holding `id`, or the empty one where it would go. */
  private find(id: string, hash: number): number {
    this.encode(id);
    const mask = this.table.length - 1;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const entry = this.table[at];
      if (entry === 0 || this.holds(entry - 1, hash)) return at;
    }
  }

  /** Whether `slot` holds the id last encoded, whose hash is `hash`. */
  private holds(slot: number, hash: number): boolean {
    const chunk = slot >>> CHUNK_BITS;
    const i = slot & (CHUNK - 1);
    const length = this.idLength[chunk][i];
    if (this.idHash[chunk][i] !== hash || length !== this.encodedLength) return false;
    const start = this.idStart[chunk][i];
    const bytes = this.idBytes[start >>> ID_CHUNK_BITS];
    const from = start & (ID_CHUNK_BYTES - 1);
    for (let j = 0; j < length; j++) if (bytes[from + j] !== this.encoded[j]) return false;
    return true;
  }

  /** Stores the id last encoded for the slot at (`chunk`, `i`). */
  private storeId(chunk: number, i: number, hash: number): void {
    const length = this.encodedLength;
    if (length > 0xffff) throw new ReconcileError("the users listing holds a user id over 64 KB");
    if (this.idUsed + length > ID_CHUNK_BYTES) {
      if (this.idBytes.length === 1 << (32 - ID_CHUNK_BITS)) {
        throw new ReconcileError("the users listing's ids pass 4 GB: more than this command holds");
      }
      this.idBytes.push(new Uint8Array(ID_CHUNK_BYTES));
      this.idUsed = 0;
    }
    const last = this.idBytes.length - 1;
    this.idBytes[last].set(this.encoded.subarray(0, length), this.idUsed);
    this.idStart[chunk][i] = last * ID_CHUNK_BYTES + this.idUsed;
    this.idLength[chunk][i] = length;
    this.idHash[chunk][i] = hash;
    this.idUsed += length;
  }

  /** Doubles the table, placing every slot again by its stored hash. */
  private grow(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let slot = 0; slot < this.count; slot++) {
      let at = this.idHash[slot >>> CHUNK_BITS][slot & (CHUNK - 1)] & mask;
      while (table[at] !== 0) at = (at + 1) & mask;
      table[at] = slot + 1;
    }
    this.table = table;
  }
}
