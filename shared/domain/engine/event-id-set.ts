import { eventIdentity } from '../event.js';
import { mixHash, rehashedPairs } from './string-index.js';

/**
 * The exact set of event identities (user id and event id, eventIdentity) a run has counted: its dedupe set.
 *
 * A `Set` of a million identity strings costs one concatenated string per event (built, flattened to be hashed,
 * then kept: every one survives to the old generation, which is most of the garbage collector's work on a file),
 * and a cache miss per lookup on the stored string. Here an identity is hashed from its two parts as they are, and
 * kept as bytes in one growing array: an open-addressing table of Int32 pairs holds each identity's hash next to
 * its offset, so a lookup touches one cache line and compares bytes only when the hashes are equal. A match is
 * always exact, never decided by a hash alone. No string is kept per identity.
 *
 * The bytes of an identity: the byte lengths of its user id and event id (7 bits a byte, the high bit saying
 * another byte follows), then each id's code units, one byte for ASCII and two or three for any other unit (as
 * UTF-8 writes a code point below 0x10000; a surrogate is written alone). So ASCII ids take a byte per character,
 * half what UTF-16 code units take (fresh memory is much of this set's cost), and any string, lone surrogates
 * included, has one encoding that decodes back to it.
 *
 * Readers that scan bytes add ASCII identities straight from the bytes (`addAscii`): the same bytes, the same
 * hash, the same set, so ids read either way meet. Crafted ids that share a hash only lengthen probe runs; past
 * `maxProbes` the set moves to a `Set` of identity strings, so the worst case stays that of a Set.
 */
export class EventIdSet {
  /** Pairs [hash, offset of the identity in `bytes`]: hashes are odd (0 marks a free slot). */
  private table: Int32Array;
  private mask: number;
  /** Each identity's bytes (see above), back to back. */
  private bytes: Uint8Array;
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
    // Room enough that a file of ASCII ids never grows it (a grow copies every byte); pages never written cost nothing.
    this.bytes = new Uint8Array(32 * capacity);
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
    const bytes = this.bytes;
    let k = payloadAt;
    for (let i = userStart; i < userEnd; i++) bytes[k++] = b[i]!;
    for (let i = idStart; i < idEnd; i++) bytes[k++] = b[i]!;
    return this.commit(this.hashAt(at), at);
  }

  /** Whether the set holds the identity of (userId, eventId). */
  has(userId: string, eventId: string): boolean {
    if (this.fallback !== null) return this.fallback.has(eventIdentity({ userId, eventId }));
    return this.slotOf(this.stageStrings(userId, eventId), this.bytes, this.used) >= 0;
  }

  /**
   * The set as data: typed arrays (pass `eventIdSetTransferables` as a postMessage transfer list to move them)
   * and, past the fallback, the identity strings. `EventIdSet.from` makes it a set again; this set is then empty.
   */
  export(): EventIdSetExport {
    const data: EventIdSetExport = {
      table: this.table,
      bytes: this.bytes.subarray(0, this.used),
      count: this.count,
      fallback: this.fallback === null ? null : [...this.fallback],
    };
    this.table = new Int32Array(32);
    this.mask = 15;
    this.bytes = new Uint8Array(256);
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
      set.bytes = new Uint8Array(0);
      set.fallback = new Set(data.fallback);
      return set;
    }
    set.table = data.table;
    set.mask = data.table.length / 2 - 1;
    set.bytes = data.bytes;
    set.used = data.bytes.length;
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
      if (this.slotOf(h, other.bytes, offset) >= 0) held.push(other.identityAt(offset));
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
      this.bytes = other.bytes.slice(0, other.used);
      this.used = other.used;
      this.count = other.count;
      return;
    }
    other.eachSlot((h, offset) => {
      if (this.fallback !== null) {
        this.add(...other.identityAt(offset));
        return;
      }
      const from = other.bytes;
      const length = extentAt(from, offset);
      const at = this.reserve(length);
      this.bytes.set(from.subarray(offset, offset + length), at);
      this.commit(h, at);
    });
  }

  /** Each used slot's hash and identity offset. */
  private eachSlot(fn: (h: number, offset: number) => void): void {
    const table = this.table;
    for (let i = 0; i < table.length; i += 2) if (table[i] !== 0) fn(table[i]!, table[i + 1]!);
  }

  /**
   * The slot holding the identity stored at `offset` of `bytes` (hash `h`), or −1 − the free slot where it would
   * go; `probes` says how many slots were looked at past the first.
   */
  private slotOf(h: number, bytes: Uint8Array, offset: number): number {
    const table = this.table;
    const mask = this.mask;
    let at = (h >>> 1) & mask;
    for (let probes = 0; ; probes++) {
      const stored = table[2 * at]!;
      if (stored === 0) {
        this.probes = probes;
        return -1 - at;
      }
      if (stored === h && this.equalsBytes(table[2 * at + 1]!, bytes, offset)) return at;
      at = (at + 1) & mask;
    }
  }

  private equalsBytes(offset: number, bytes: Uint8Array, otherOffset: number): boolean {
    const mine = this.bytes;
    const length = extentAt(mine, offset);
    for (let i = 0; i < length; i++) if (mine[offset + i] !== bytes[otherOffset + i]) return false;
    return true;
  }

  private identityAt(offset: number): [string, string] {
    const bytes = this.bytes;
    const userLength = varintAt(bytes, offset);
    const idLength = varintAt(bytes, varintEnd);
    const userStart = varintEnd;
    const idStart = userStart + userLength;
    return [decoded(bytes, userStart, idStart), decoded(bytes, idStart, idStart + idLength)];
  }

  /** Every identity as [userId, eventId], first added first. */
  *entries(): Generator<[string, string]> {
    if (this.fallback !== null) {
      for (const identity of this.fallback) yield splitEventIdentity(identity);
      return;
    }
    const bytes = this.bytes;
    for (let at = 0; at < this.used; ) {
      yield this.identityAt(at);
      at += extentAt(bytes, at);
    }
  }

  /** `length` bytes free at the end of `bytes` (grown if need be), not yet counted as used; their offset (`used`). */
  private reserve(length: number): number {
    const at = this.used;
    if (at + length > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(2 * this.bytes.length, at + length));
      bigger.set(this.bytes.subarray(0, at));
      this.bytes = bigger;
    }
    return at;
  }

  /**
   * Write an identity's lengths (in bytes) at the end of `bytes`, room made for its ids after them (from
   * `payloadAt`), not yet counted as used: `commit` then keeps or drops it. Returns its offset (`used`).
   */
  private stage(userLength: number, idLength: number): number {
    const at = this.reserve(20 + userLength + idLength);
    payloadAt = writeVarint(this.bytes, writeVarint(this.bytes, at, userLength), idLength);
    return at;
  }

  /** Stage (userId, eventId) at `used`; its hash. */
  private stageStrings(userId: string, eventId: string): number {
    const at = this.stage(encodedLength(userId), encodedLength(eventId));
    encodeInto(this.bytes, encodeInto(this.bytes, payloadAt, userId), eventId);
    return this.hashAt(at);
  }

  /** The hash of the identity at `offset`: FNV-1a over its bytes, mixed (odd, never 0). */
  private hashAt(offset: number): number {
    const bytes = this.bytes;
    let h = 0x811c9dc5 | 0;
    const end = offset + extentAt(bytes, offset);
    for (let k = offset; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
    return mixHash(h);
  }

  /** Keep the identity staged at `offset` (hash `h`) unless the set holds it; true if it was new. */
  private commit(h: number, offset: number): boolean {
    const at = this.slotOf(h, this.bytes, offset);
    if (at >= 0) return false;
    if (this.probes > this.maxProbes) {
      const [userId, eventId] = this.identityAt(offset);
      this.useFallback();
      return this.addToFallback(userId, eventId);
    }
    this.used = offset + extentAt(this.bytes, offset);
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
    this.bytes = new Uint8Array(0);
  }

  private addToFallback(userId: string, eventId: string): boolean {
    const set = this.fallback!;
    const size = set.size;
    set.add(eventIdentity({ userId, eventId }));
    return set.size > size;
  }
}

/** Where the ids of the identity being staged start (set by `stage`). */
let payloadAt = 0;
/** Where the varint read by the last `varintAt` ended. */
let varintEnd = 0;

/** Bytes the identity at `offset` takes: its two lengths and both ids. */
function extentAt(bytes: Uint8Array, offset: number): number {
  const userLength = varintAt(bytes, offset);
  const idLength = varintAt(bytes, varintEnd);
  return varintEnd - offset + userLength + idLength;
}

/** The length written at `at` (7 bits a byte, low bits first; a set high bit: another byte follows). */
function varintAt(bytes: Uint8Array, at: number): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  varintEnd = at;
  return value;
}

/** Write `value` at `at` as varintAt reads it; the offset after it. */
function writeVarint(bytes: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    bytes[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  bytes[at++] = value;
  return at;
}

/** Bytes of `s` in this set's encoding: 1 per ASCII unit, 2 below 0x800, else 3 (each UTF-16 unit on its own). */
function encodedLength(s: string): number {
  let length = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) length += c < 0x800 ? 1 : 2;
  }
  return length;
}

/** Write `s` at `at` in this set's encoding; the offset after it. */
function encodeInto(bytes: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes[at++] = c;
    else if (c < 0x800) {
      bytes[at++] = 0xc0 | (c >>> 6);
      bytes[at++] = 0x80 | (c & 0x3f);
    } else {
      bytes[at++] = 0xe0 | (c >>> 12);
      bytes[at++] = 0x80 | ((c >>> 6) & 0x3f);
      bytes[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}

/** The string encoded (encodeInto) in bytes [start, end). */
function decoded(bytes: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let s = '';
  for (let at = start; at < end; ) {
    const lead = bytes[at]!;
    if (lead < 0x80) {
      units.push(lead);
      at += 1;
    } else if (lead < 0xe0) {
      units.push(((lead & 0x1f) << 6) | (bytes[at + 1]! & 0x3f));
      at += 2;
    } else {
      units.push(((lead & 0x0f) << 12) | ((bytes[at + 1]! & 0x3f) << 6) | (bytes[at + 2]! & 0x3f));
      at += 3;
    }
    // In slices: String.fromCharCode takes its arguments on the stack.
    if (units.length === 4096) s += String.fromCharCode(...units.splice(0));
  }
  return s + String.fromCharCode(...units);
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
  bytes: Uint8Array;
  count: number;
  /** The identity strings (eventIdentity) once the set has moved to its fallback; else null. */
  fallback: string[] | null;
}

/** The typed arrays of an export, for a postMessage transfer list. */
export function eventIdSetTransferables(data: EventIdSetExport): ArrayBuffer[] {
  return [data.table.buffer, data.bytes.buffer] as ArrayBuffer[];
}
