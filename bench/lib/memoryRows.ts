/**
 * The `users` table of the in-memory Convex side (memoryConvex.ts), kept cheap at a million rows:
 * each row as its JSON text (a string is one object for the garbage collector, a parsed row a
 * dozen), with its size as Convex counts it (`getDocumentSize`) and its `auth0UpdatedAt`. A page
 * is the rows' texts joined; a row is parsed only when a write reads it.
 */
import { getDocumentSize } from "convex/values";
import type { Doc } from "../../convex/_generated/dataModel";
import { MAX_PAGE_BYTES } from "../../server/limits";

export type UserRow = Doc<"users">;
export type NewRow = Omit<UserRow, "_id" | "_creationTime">;

/** The cursor of the page starting at position `at` of the table. */
const cursorAt = (at: number) => `memory:${at}`;

export class MemoryRows {
  /** Rows by position in creation order; a deleted row leaves a hole, so cursors stay valid. */
  private readonly texts: (string | undefined)[] = [];
  private readonly sizes: number[] = [];
  private readonly updatedAts: number[] = [];
  /** Positions of each user id's rows: the first, and any more (rare: two issuers). */
  private readonly first = new Map<string, number>();
  private readonly more = new Map<string, number[]>();
  private clock = Date.now();
  /** Rows held. */
  count = 0;
  /** What the pages served read: calls, rows, bytes (as Convex counts them), the largest page. */
  readonly reads = { pages: 0, rows: 0, bytes: 0, maxPageBytes: 0, maxPageRows: 0 };

  insert(row: NewRow): UserRow {
    this.clock = Math.max(this.clock + 0.001, Date.now());
    const at = this.texts.length;
    const doc = { ...row, _id: `m${at}`, _creationTime: this.clock } as UserRow;
    this.texts.push(undefined);
    this.sizes.push(0);
    this.updatedAts.push(NaN);
    this.save(doc);
    this.count++;
    if (!this.first.has(doc.auth0UserId)) this.first.set(doc.auth0UserId, at);
    else this.more.set(doc.auth0UserId, [...(this.more.get(doc.auth0UserId) ?? []), at]);
    return doc;
  }

  /** Writes a row read with {@link rowsOf} back, changed. */
  save(doc: UserRow): void {
    const at = position(doc);
    this.texts[at] = JSON.stringify(doc);
    this.sizes[at] = getDocumentSize(doc);
    this.updatedAts[at] = doc.auth0UpdatedAt ?? NaN;
  }

  remove(doc: UserRow): void {
    const at = position(doc);
    this.texts[at] = undefined;
    this.count--;
    const positions = this.positionsOf(doc.auth0UserId).filter((p) => p !== at);
    this.first.delete(doc.auth0UserId);
    this.more.delete(doc.auth0UserId);
    if (positions.length > 0) this.first.set(doc.auth0UserId, positions[0]);
    if (positions.length > 1) this.more.set(doc.auth0UserId, positions.slice(1));
  }

  /** Every row of an Auth0 user id, parsed, in creation order. */
  rowsOf(auth0UserId: string): UserRow[] {
    return this.positionsOf(auth0UserId).map((at) => JSON.parse(this.texts[at]!) as UserRow);
  }

  /**
   * One page as `usersPage` reads it: at most `numItems` rows, stopping after the row that
   * brings the bytes read to MAX_PAGE_BYTES; the JSON of `{ rows, isDone, continueCursor }`.
   * Throws on a cursor this table did not give.
   */
  page(cursor: string | null, numItems: number): string {
    const match = cursor === null ? null : /^memory:(\d+)$/.exec(cursor);
    if (cursor !== null && !match) throw new Error(`invalid cursor ${cursor}`);
    const rows: string[] = [];
    let bytes = 0;
    let at = match ? Number(match[1]) : 0;
    let isDone = true;
    for (; at < this.texts.length; at++) {
      const text = this.texts[at];
      if (text === undefined) continue;
      rows.push(text);
      bytes += this.sizes[at];
      if (bytes >= MAX_PAGE_BYTES) {
        isDone = false;
        break;
      }
      if (rows.length >= numItems) {
        let rest = at + 1;
        while (rest < this.texts.length && this.texts[rest] === undefined) rest++;
        isDone = rest === this.texts.length;
        break;
      }
    }
    this.reads.pages++;
    this.reads.rows += rows.length;
    this.reads.bytes += bytes;
    this.reads.maxPageBytes = Math.max(this.reads.maxPageBytes, bytes);
    this.reads.maxPageRows = Math.max(this.reads.maxPageRows, rows.length);
    const next = cursorAt(isDone ? this.texts.length : at + 1);
    return `{"rows":[${rows.join(",")}],"isDone":${isDone},"continueCursor":${JSON.stringify(next)}}`;
  }

  /** Rows whose `auth0UpdatedAt` is past `horizon`, earliest first, as the index orders them. */
  datedAfter(horizon: number): UserRow[] {
    const positions: number[] = [];
    for (let at = 0; at < this.texts.length; at++) {
      if (this.texts[at] !== undefined && this.updatedAts[at] > horizon) positions.push(at);
    }
    return positions
      .sort((a, b) => this.updatedAts[a] - this.updatedAts[b])
      .map((at) => JSON.parse(this.texts[at]!) as UserRow);
  }

  /** Every row, parsed, in creation order. */
  all(): UserRow[] {
    return this.texts.filter((t) => t !== undefined).map((t) => JSON.parse(t) as UserRow);
  }

  private positionsOf(auth0UserId: string): number[] {
    const first = this.first.get(auth0UserId);
    return first === undefined ? [] : [first, ...(this.more.get(auth0UserId) ?? [])];
  }
}

const position = (doc: UserRow) => Number(doc._id.slice(1));
