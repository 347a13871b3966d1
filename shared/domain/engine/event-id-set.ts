import { eventIdentity } from '../event.js';
import { mixHash, rehashedPairs } from './string-index.js';

/**
 * The exact set of event identities (user id and event id, eventIdentity) a run has counted: its dedupe set.
 *
 * A `Set` of a million identity strings costs one concatenated string per event (built, flattened to be hashed,
 * then kept: every one survives to the old generation, which is most of the garbage collector's work on a file),
 * and a cache miss per lookup on the stored string. Here an identity is hashed from its two parts as they are, and
 * kept as UTF-16 code units in one growing array: an open-addressing table of Int32 pairs holds each identity's
 * hash next to its offset, so a lookup touches one cache line and compares code units only when the hashes are
 * equal. A match is always exact, never decided by a hash alone. No string is kept per identity.
 *
 * Readers that scan bytes add ASCII identities straight from the bytes (`addAscii`): the same code units, the same
 * hash, the same set, so ids read either way meet. Crafted ids that share a hash only lengthen probe runs; past
 * `maxProbes` the set moves to a `Set` of identity strings, so the worst case stays that of a Set.
 */
export class EventIdSet {
  /** Pairs [hash, offset of the identity in `units`]: hashes are odd (0 marks a free slot). */
  private table: Int32Array;
  private mask: number;
  /** Each identity: user id length (2 units, low first), event id length (2 units), then both ids' code units. */
  private units: Uint16Array;
  private used = 0;
  private count = 0;
  /** Set once probe runs get long (see above); from then on it holds every identity. */
  private fallback: Set<string> | null = null;
  private readonly maxProbes: number;
  /** Slots the last `slotOf` looked at past the first before it found a free one. */
  private probes = 0;

  constructor(options: { initialCapacity?: number | undefined; maxProbes?: number | undefined } = {}) {
    let capacity = 16;
    while (capacity < (options.initialCapacity ?? 1024)) capacity *= 2;
    this.table = new Int32Array(2 * capacity);
    this.mask = capacity - 1;
    this.units = new Uint16Array(8 * capacity);
    this.maxProbes = options.maxProbes ?? 128;
  }

  get size(): number {
    return this.fallback?.size ?? this.count;
  }

  /** Add the identity of (userId, eventId); true if it is new, false if the set already held it. */
  add(userId: string, eventId: string): boolean {
    if (this.fallback !== null) return this.addToFallback(userId, eventId);
    return this.commit(this.stageStrings(userId, eventId), this.used);
  }

  /**
   * `add` for ids given as ASCII bytes (every byte < 0x80, the caller checked): user id bytes [userStart, userEnd)
   * and event id bytes [idStart, idEnd) of `b`. The same identity, hash and answer as `add` of the decoded strings.
   */
  addAscii(b: Uint8Array, userStart: number, userEnd: number, idStart: number, idEnd: number): boolean {
    if (this.fallback !== null) return this.addToFallback(latin1(b, userStart, userEnd), latin1(b, idStart, idEnd));
    const at = this.stage(userEnd - userStart, idEnd - idStart);
    const units = this.units;
    let k = at + 4;
    for (let i = userStart; i < userEnd; i++) units[k++] = b[i]!;
    for (let i = idStart; i < idEnd; i++) units[k++] = b[i]!;
    return this.commit(this.hashAt(at), at);
  }

  /** Whether the set holds the identity of (userId, eventId). */
  has(userId: string, eventId: string): boolean {
    if (this.fallback !== null) return this.fallback.has(eventIdentity({ userId, eventId }));
    return this.slotOf(this.stageStrings(userId, eventId), this.units, this.used) >= 0;
  }

  /**
   * The set as data: typed arrays (pass `eventIdSetTransferables` as a postMessage transfer list to move them)
   * and, past the fallback, the identity strings. `EventIdSet.from` makes it a set again; this set is then empty.
   */
  export(): EventIdSetExport {
    const data: EventIdSetExport = {
      table: this.table,
      units: this.units.subarray(0, this.used),
      count: this.count,
      fallback: this.fallback === null ? null : [...this.fallback],
    };
    this.table = new Int32Array(32);
    this.mask = 15;
    this.units = new Uint16Array(256);
    this.used = 0;
    this.count = 0;
    this.fallback = null;
    return data;
  }

  /** A set from `export()` data (its arrays are taken over, not copied). */
  static from(data: EventIdSetExport, options: { maxProbes?: number | undefined } = {}): EventIdSet {
    const set = new EventIdSet({ initialCapacity: 16, maxProbes: options.maxProbes });
    if (data.fallback !== null) {
      set.table = new Int32Array(0);
      set.units = new Uint16Array(0);
      set.fallback = new Set(data.fallback);
      return set;
    }
    set.table = data.table;
    set.mask = data.table.length / 2 - 1;
    set.units = data.units;
    set.used = data.units.length;
    set.count = data.count;
    return set;
  }

  /** The identities of `other` this set holds, as [userId, eventId]; neither set changes. */
  heldOf(other: EventIdSet): [string, string][] {
    const held: [string, string][] = [];
    if (this.fallback !== null || other.fallback !== null) {
      for (const [userId, eventId] of other.entries()) if (this.has(userId, eventId)) held.push([userId, eventId]);
      return held;
    }
    other.eachSlot((h, offset) => {
      if (this.slotOf(h, other.units, offset) >= 0) held.push(other.identityAt(offset));
    });
    return held;
  }

  /** Add every identity of `other` (each one's hash is reused, not computed again). */
  addAll(other: EventIdSet): void {
    if (this.fallback !== null || other.fallback !== null) {
      for (const [userId, eventId] of other.entries()) this.add(userId, eventId);
      return;
    }
    if (this.count === 0) {
      // Nothing to merge with: take the other set's arrays as they are.
      this.table = other.table.slice();
      this.mask = other.mask;
      this.units = other.units.slice(0, other.used);
      this.used = other.used;
      this.count = other.count;
      return;
    }
    other.eachSlot((h, offset) => {
      if (this.fallback !== null) {
        this.add(...other.identityAt(offset));
        return;
      }
      const from = other.units;
      const length = extentAt(from, offset);
      const at = this.stage(0, length - 4);
      this.units.set(from.subarray(offset, offset + length), at);
      this.commit(h, at);
    });
  }

  /** Each used slot's hash and identity offset. */
  private eachSlot(fn: (h: number, offset: number) => void): void {
    const table = this.table;
    for (let i = 0; i < table.length; i += 2) if (table[i] !== 0) fn(table[i]!, table[i + 1]!);
  }

  /**
   * The slot holding the identity stored at `offset` of `units` (hash `h`), or −1 − the free slot where it would
   * go; `probes` says how many slots were looked at past the first.
   */
  private slotOf(h: number, units: Uint16Array, offset: number): number {
    const table = this.table;
    const mask = this.mask;
    let at = (h >>> 1) & mask;
    for (let probes = 0; ; probes++) {
      const stored = table[2 * at]!;
      if (stored === 0) {
        this.probes = probes;
        return -1 - at;
      }
      if (stored === h && this.equalsUnits(table[2 * at + 1]!, units, offset)) return at;
      at = (at + 1) & mask;
    }
  }

  private equalsUnits(offset: number, units: Uint16Array, otherOffset: number): boolean {
    const mine = this.units;
    const length = extentAt(mine, offset);
    for (let i = 0; i < length; i++) if (mine[offset + i] !== units[otherOffset + i]) return false;
    return true;
  }

  private identityAt(offset: number): [string, string] {
    const units = this.units;
    const userLength = units[offset]! | (units[offset + 1]! << 16);
    const idLength = units[offset + 2]! | (units[offset + 3]! << 16);
    const userStart = offset + 4;
    const idStart = userStart + userLength;
    return [codeUnits(units, userStart, idStart), codeUnits(units, idStart, idStart + idLength)];
  }

  /** Every identity as [userId, eventId], first added first. */
  *entries(): Generator<[string, string]> {
    if (this.fallback !== null) {
      for (const identity of this.fallback) yield splitEventIdentity(identity);
      return;
    }
    const units = this.units;
    for (let at = 0; at < this.used; ) {
      yield this.identityAt(at);
      at += extentAt(units, at);
    }
  }

  /**
   * Write an identity's lengths at the end of `units` (grown if need be), not yet counted as used: its code units
   * go after them, then `commit` keeps or drops it. Returns its offset (`used`).
   */
  private stage(userLength: number, idLength: number): number {
    const at = this.used;
    const end = at + 4 + userLength + idLength;
    if (end > this.units.length) {
      const bigger = new Uint16Array(Math.max(2 * this.units.length, end));
      bigger.set(this.units.subarray(0, at));
      this.units = bigger;
    }
    const units = this.units;
    units[at] = userLength & 0xffff;
    units[at + 1] = userLength >>> 16;
    units[at + 2] = idLength & 0xffff;
    units[at + 3] = idLength >>> 16;
    return at;
  }

  /** Stage (userId, eventId) at `used`; its hash. */
  private stageStrings(userId: string, eventId: string): number {
    const at = this.stage(userId.length, eventId.length);
    const units = this.units;
    let k = at + 4;
    for (let i = 0; i < userId.length; i++) units[k++] = userId.charCodeAt(i);
    for (let i = 0; i < eventId.length; i++) units[k++] = eventId.charCodeAt(i);
    return this.hashAt(at);
  }

  /** The hash of the identity at `offset`: FNV-1a over its lengths and code units, mixed (odd, never 0). */
  private hashAt(offset: number): number {
    const units = this.units;
    let h = 0x811c9dc5 | 0;
    const end = offset + extentAt(units, offset);
    for (let k = offset; k < end; k++) h = Math.imul(h ^ units[k]!, 0x01000193);
    return mixHash(h);
  }

  /** Keep the identity staged at `offset` (hash `h`) unless the set holds it; true if it was new. */
  private commit(h: number, offset: number): boolean {
    const at = this.slotOf(h, this.units, offset);
    if (at >= 0) return false;
    if (this.probes > this.maxProbes) {
      const [userId, eventId] = this.identityAt(offset);
      this.useFallback();
      return this.addToFallback(userId, eventId);
    }
    const units = this.units;
    this.used = offset + extentAt(units, offset);
    this.table[2 * (-1 - at)] = h;
    this.table[2 * (-1 - at) + 1] = offset;
    if (2 * ++this.count > this.mask) {
      this.mask = 2 * (this.mask + 1) - 1;
      this.table = rehashedPairs(this.table, this.mask + 1);
    }
    return true;
  }

  private useFallback(): void {
    const set = new Set<string>();
    for (const [userId, eventId] of this.entries()) set.add(eventIdentity({ userId, eventId }));
    this.fallback = set;
    this.table = new Int32Array(0);
    this.units = new Uint16Array(0);
  }

  private addToFallback(userId: string, eventId: string): boolean {
    const set = this.fallback!;
    const size = set.size;
    set.add(eventIdentity({ userId, eventId }));
    return set.size > size;
  }
}

/** Code units the identity at `offset` takes: its two lengths and both ids. */
function extentAt(units: Uint16Array, offset: number): number {
  return 4 + (units[offset]! | (units[offset + 1]! << 16)) + (units[offset + 2]! | (units[offset + 3]! << 16));
}

function codeUnits(units: Uint16Array, start: number, end: number): string {
  let s = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let at = start; at < end; at += 4096) s += String.fromCharCode(...units.subarray(at, Math.min(end, at + 4096)));
  return s;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** eventIdentity's parts back from its text (`<user id length>:<user id><event id>`). */
export function splitEventIdentity(identity: string): [string, string] {
  const colon = identity.indexOf(':');
  const userLength = Number(identity.slice(0, colon));
  return [identity.slice(colon + 1, colon + 1 + userLength), identity.slice(colon + 1 + userLength)];
}

/** An EventIdSet as data (EventIdSet#export). */
export interface EventIdSetExport {
  table: Int32Array;
  units: Uint16Array;
  count: number;
  /** The identity strings (eventIdentity) once the set has moved to its fallback; else null. */
  fallback: string[] | null;
}

/** The typed arrays of an export, for a postMessage transfer list. */
export function eventIdSetTransferables(data: EventIdSetExport): ArrayBuffer[] {
  return [data.table.buffer, data.units.buffer] as ArrayBuffer[];
}
