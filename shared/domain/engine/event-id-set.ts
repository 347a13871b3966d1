import { eventIdentity } from '../event.js';

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
    let h = mixLengths(userId.length, eventId.length);
    for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193);
    for (let i = 0; i < eventId.length; i++) h = Math.imul(h ^ eventId.charCodeAt(i), 0x01000193);
    h = finish(h);
    const table = this.table;
    const mask = this.mask;
    let at = (h >>> 1) & mask;
    for (let probes = 0; ; probes++) {
      const stored = table[2 * at]!;
      if (stored === 0) break;
      if (stored === h && this.equalsStrings(table[2 * at + 1]!, userId, eventId)) return false;
      if (probes === this.maxProbes) {
        this.useFallback();
        return this.addToFallback(userId, eventId);
      }
      at = (at + 1) & mask;
    }
    const start = this.reserve(userId.length, eventId.length);
    let k = start;
    const units = this.units;
    for (let i = 0; i < userId.length; i++) units[k++] = userId.charCodeAt(i);
    for (let i = 0; i < eventId.length; i++) units[k++] = eventId.charCodeAt(i);
    this.insertAt(at, h, start - 4);
    return true;
  }

  /**
   * `add` for ids given as ASCII bytes (every byte < 0x80, the caller checked): user id bytes [userStart, userEnd)
   * and event id bytes [idStart, idEnd) of `b`. The same identity, hash and answer as `add` of the decoded strings.
   */
  addAscii(b: Uint8Array, userStart: number, userEnd: number, idStart: number, idEnd: number): boolean {
    if (this.fallback !== null) return this.addToFallback(latin1(b, userStart, userEnd), latin1(b, idStart, idEnd));
    const userLength = userEnd - userStart;
    const idLength = idEnd - idStart;
    let h = mixLengths(userLength, idLength);
    for (let i = userStart; i < userEnd; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    for (let i = idStart; i < idEnd; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    h = finish(h);
    const table = this.table;
    const mask = this.mask;
    let at = (h >>> 1) & mask;
    for (let probes = 0; ; probes++) {
      const stored = table[2 * at]!;
      if (stored === 0) break;
      if (stored === h && this.equalsBytes(table[2 * at + 1]!, b, userStart, userEnd, idStart, idEnd)) return false;
      if (probes === this.maxProbes) {
        this.useFallback();
        return this.addToFallback(latin1(b, userStart, userEnd), latin1(b, idStart, idEnd));
      }
      at = (at + 1) & mask;
    }
    const start = this.reserve(userLength, idLength);
    let k = start;
    const units = this.units;
    for (let i = userStart; i < userEnd; i++) units[k++] = b[i]!;
    for (let i = idStart; i < idEnd; i++) units[k++] = b[i]!;
    this.insertAt(at, h, start - 4);
    return true;
  }

  /** Whether the set holds the identity of (userId, eventId). */
  has(userId: string, eventId: string): boolean {
    if (this.fallback !== null) return this.fallback.has(eventIdentity({ userId, eventId }));
    let h = mixLengths(userId.length, eventId.length);
    for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193);
    for (let i = 0; i < eventId.length; i++) h = Math.imul(h ^ eventId.charCodeAt(i), 0x01000193);
    h = finish(h);
    const table = this.table;
    const mask = this.mask;
    for (let at = (h >>> 1) & mask; ; at = (at + 1) & mask) {
      const stored = table[2 * at]!;
      if (stored === 0) return false;
      if (stored === h && this.equalsStrings(table[2 * at + 1]!, userId, eventId)) return true;
    }
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
      if (this.findUnits(h, other.units, offset) >= 0) held.push(other.identityAt(offset));
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
        const [userId, eventId] = other.identityAt(offset);
        this.add(userId, eventId);
        return;
      }
      const at = this.findUnits(h, other.units, offset);
      if (at >= 0) return;
      const from = other.units;
      const length = 4 + (from[offset]! | (from[offset + 1]! << 16)) + (from[offset + 2]! | (from[offset + 3]! << 16));
      const start = this.room(length);
      this.units.set(from.subarray(offset, offset + length), start);
      this.used = start + length;
      this.insertAt(-1 - at, h, start);
    });
  }

  /** Each used slot's hash and identity offset. */
  private eachSlot(fn: (h: number, offset: number) => void): void {
    const table = this.table;
    for (let i = 0; i < table.length; i += 2) if (table[i] !== 0) fn(table[i]!, table[i + 1]!);
  }

  /**
   * The slot holding the identity stored at `offset` of `units` (hash `h`), or −1 − the free slot where it would
   * go. Long probe runs move the set to its fallback (then −1 − 0, and the caller sees `fallback` set).
   */
  private findUnits(h: number, units: Uint16Array, offset: number): number {
    const table = this.table;
    const mask = this.mask;
    let at = (h >>> 1) & mask;
    for (let probes = 0; ; probes++) {
      const stored = table[2 * at]!;
      if (stored === 0) return -1 - at;
      if (stored === h && this.equalsUnits(table[2 * at + 1]!, units, offset)) return at;
      if (probes === this.maxProbes) {
        this.useFallback();
        return -1;
      }
      at = (at + 1) & mask;
    }
  }

  private equalsUnits(offset: number, units: Uint16Array, otherOffset: number): boolean {
    const mine = this.units;
    const length = 4 + (mine[offset]! | (mine[offset + 1]! << 16)) + (mine[offset + 2]! | (mine[offset + 3]! << 16));
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
      at += 4 + (units[at]! | (units[at + 1]! << 16)) + (units[at + 2]! | (units[at + 3]! << 16));
    }
  }

  /** Room for one identity with these lengths, the lengths written; the offset of its code units. */
  private reserve(userLength: number, idLength: number): number {
    const at = this.room(4 + userLength + idLength);
    const end = at + 4 + userLength + idLength;
    const units = this.units;
    units[at] = userLength & 0xffff;
    units[at + 1] = userLength >>> 16;
    units[at + 2] = idLength & 0xffff;
    units[at + 3] = idLength >>> 16;
    this.used = end;
    return at + 4;
  }

  /** Where `length` more code units go (`used`), the array grown if need be. */
  private room(length: number): number {
    const end = this.used + length;
    if (end > this.units.length) {
      const bigger = new Uint16Array(Math.max(2 * this.units.length, end));
      bigger.set(this.units.subarray(0, this.used));
      this.units = bigger;
    }
    return this.used;
  }

  /** Record the identity whose lengths sit at `offset` (its code units follow) in free slot `at`. */
  private insertAt(at: number, h: number, offset: number): void {
    this.table[2 * at] = h;
    this.table[2 * at + 1] = offset;
    if (2 * ++this.count > this.mask) this.grow();
  }

  private equalsStrings(offset: number, userId: string, eventId: string): boolean {
    const units = this.units;
    const userLength = units[offset]! | (units[offset + 1]! << 16);
    const idLength = units[offset + 2]! | (units[offset + 3]! << 16);
    if (userLength !== userId.length || idLength !== eventId.length) return false;
    let k = offset + 4;
    for (let i = 0; i < userLength; i++) if (units[k++] !== userId.charCodeAt(i)) return false;
    for (let i = 0; i < idLength; i++) if (units[k++] !== eventId.charCodeAt(i)) return false;
    return true;
  }

  private equalsBytes(
    offset: number,
    b: Uint8Array,
    userStart: number,
    userEnd: number,
    idStart: number,
    idEnd: number,
  ): boolean {
    const units = this.units;
    const userLength = units[offset]! | (units[offset + 1]! << 16);
    const idLength = units[offset + 2]! | (units[offset + 3]! << 16);
    if (userLength !== userEnd - userStart || idLength !== idEnd - idStart) return false;
    let k = offset + 4;
    for (let i = userStart; i < userEnd; i++) if (units[k++] !== b[i]) return false;
    for (let i = idStart; i < idEnd; i++) if (units[k++] !== b[i]) return false;
    return true;
  }

  private grow(): void {
    const old = this.table;
    const capacity = 2 * (this.mask + 1);
    const mask = capacity - 1;
    const table = new Int32Array(2 * capacity);
    for (let i = 0; i < old.length; i += 2) {
      const h = old[i]!;
      if (h === 0) continue;
      let at = (h >>> 1) & mask;
      while (table[2 * at] !== 0) at = (at + 1) & mask;
      table[2 * at] = h;
      table[2 * at + 1] = old[i + 1]!;
    }
    this.table = table;
    this.mask = mask;
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

/** FNV-1a's offset basis with both lengths mixed in (so "ab"+"c" and "a"+"bc" start apart). */
function mixLengths(userLength: number, idLength: number): number {
  return Math.imul(Math.imul(0x811c9dc5 ^ userLength, 0x01000193) ^ idLength, 0x01000193);
}

/** A murmur3 finaliser so every bit mixes well; odd, so never 0. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 1;
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
