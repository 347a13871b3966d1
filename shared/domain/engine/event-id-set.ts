import { eventIdentity } from '../event.js';
import { giveBack, int32Array, uint8Array } from './array-pool.js';
import { mixHash } from './string-index.js';

/**
 * The exact set of event identities (user id and event id, eventIdentity) a run has counted: its dedupe set.
 *
 * A `Set` of a million identity strings costs one concatenated string per event (built, flattened to be hashed,
 * then kept: every one survives to the old generation, which is most of the garbage collector's work on a file),
 * and a cache miss per lookup on the stored string. Here an identity is hashed from its two parts as they are, and
 * kept as bytes in one growing array, written in order. The only memory a lookup reads at random is a table of
 * 4-byte slots, each the offset of an identity's bytes and 8 bits of its hash (its tag): one cache line, in a table
 * a quarter the size of one holding hash and offset pairs at half load. Bytes are compared only when the tags are
 * equal, so a match is always exact, never decided by a hash alone. No string is kept per identity.
 *
 * Memory is this set's cost on a large file: one random read per event in the table, which misses the cache and the
 * TLB more the larger it is (measured on a file of a million events: about 25 ms per MB of table), and the first
 * touch of every fresh page (about 5 ms per MB on a virtual machine), hence bytes and slots only.
 *
 * The bytes of an identity: the byte lengths of its user id and event id (7 bits a byte, the high bit saying
 * another byte follows), then each id's code units, one byte for ASCII and two or three for any other unit (as
 * UTF-8 writes a code point below 0x10000; a surrogate is written alone). So ASCII ids take a byte per character,
 * half what UTF-16 code units take, and any string, lone surrogates included, has one encoding that decodes back to
 * it.
 *
 * Readers that scan bytes add ASCII identities straight from the bytes (`addAscii`): the same bytes, the same
 * hash, the same set, so ids read either way meet. Crafted ids that share a hash only lengthen probe runs; past
 * `maxProbes` the set moves to a `Set` of identity strings, so the worst case stays that of a Set.
 */
export class EventIdSet {
  /**
   * Linear probing over identities: a slot holds (offset + 1) << tagBits | the tag (hash bits 1 … tagBits); 0
   * marks a free slot. A slot is chosen by the hash's high bits (multiplied down to `slots.length`, any length).
   */
  private slots: Int32Array;
  /** How many bits of a slot are its tag: fewer once offsets need more (past 16 MiB of bytes), see `commit`. */
  private tagBits = 8;
  /** 2^(32 − tagBits) − 1: an offset + 1 past it needs another bit. */
  private offsetLimit = 2 ** 24 - 1;
  /** Each identity's bytes (see above), back to back. */
  private bytes: Uint8Array;
  private used = 0;
  private count = 0;
  /** Set once probe runs get long (see above); from then on it holds every identity. */
  private fallback: Set<string> | null = null;
  private readonly maxProbes: number;
  /** Slots the last `slotOf` looked at past the first before it found a free one. */
  private probes = 0;
  /** The sum of the slots read ahead: kept only so that those reads are made. */
  readAhead = 0;

  /**
   * `initialCapacity`: how many identities it holds before its table first grows. `tagBits` (tests): start with
   * more tag bits than 8, so that offsets outgrow their bits after a few bytes instead of 16 MiB.
   */
  constructor(
    options: {
      initialCapacity?: number | undefined;
      maxProbes?: number | undefined;
      tagBits?: number | undefined;
    } = {},
  ) {
    if (options.tagBits !== undefined) this.useTagBits(options.tagBits);
    const identities = Math.max(16, options.initialCapacity ?? 1024);
    this.slots = int32Array(Math.ceil(identities / MAX_LOAD));
    // Room enough that a file of ASCII ids never grows it (a grow copies every byte); pages never written cost nothing.
    // Written before read: not zeroed when it comes from the pool.
    this.bytes = uint8Array(32 * identities, false);
    this.maxProbes = options.maxProbes ?? 128;
  }

  get size(): number {
    return this.fallback?.size ?? this.count;
  }

  /** Add the identity of (userId, eventId); true if it is new, false if the set already held it. */
  add(userId: string, eventId: string): boolean {
    if (this.fallback !== null) return this.addToFallback(userId, eventId);
    const at = this.stageStrings(userId, eventId);
    return this.commit(this.hashAt(at, stagedEnd), at, stagedEnd);
  }

  /**
   * `add` for ids given as ASCII bytes (every byte < 0x80, the caller checked): user id bytes [userStart, userEnd)
   * and event id bytes [idStart, idEnd) of `b`. The same identity, hash and answer as `add` of the decoded strings.
   */
  addAscii(b: Uint8Array, userStart: number, userEnd: number, idStart: number, idEnd: number): boolean {
    return this.addAsciiHashed(b, userStart, userEnd, idStart, idEnd, hashAscii(b, userStart, userEnd, idStart, idEnd));
  }

  /** `addAscii` with the identity's hash already computed (hashAscii), for a batch that reads its slots ahead. */
  addAsciiHashed(
    b: Uint8Array,
    userStart: number,
    userEnd: number,
    idStart: number,
    idEnd: number,
    h: number,
  ): boolean {
    if (this.fallback !== null) return this.addToFallback(latin1(b, userStart, userEnd), latin1(b, idStart, idEnd));
    const at = this.stage(userEnd - userStart, idEnd - idStart);
    const bytes = this.bytes;
    let k = payloadAt;
    for (let i = userStart; i < userEnd; i++) bytes[k++] = b[i]!;
    for (let i = idStart; i < idEnd; i++) bytes[k++] = b[i]!;
    return this.commit(h, at, k);
  }

  /** The first slot of hash `h`, read (its value means nothing): a batch reads its events' slots ahead, overlapped. */
  touch(h: number): number {
    const slots = this.slots;
    return slots[Math.floor((h >>> 0) * (slots.length / 4294967296))]!;
  }

  /** Give the arrays' memory back for later sets (array-pool.ts): the set is empty after. */
  release(): void {
    giveBack([this.slots, this.bytes]);
    this.empty();
  }

  /** Hold nothing, in small arrays of its own (after its arrays went elsewhere). */
  private empty(): void {
    this.slots = new Int32Array(32);
    this.useTagBits(8);
    this.bytes = new Uint8Array(256);
    this.used = 0;
    this.count = 0;
    this.fallback = null;
  }

  /** Whether the set holds the identity of (userId, eventId). */
  has(userId: string, eventId: string): boolean {
    if (this.fallback !== null) return this.fallback.has(eventIdentity({ userId, eventId }));
    const at = this.stageStrings(userId, eventId);
    return this.slotOf(this.hashAt(at, stagedEnd), this.bytes, at, stagedEnd) >= 0;
  }

  /**
   * The set as data: typed arrays (pass `eventIdSetTransferables` as a postMessage transfer list to move them)
   * and, past the fallback, the identity strings. `EventIdSet.from` makes it a set again; this set is then empty.
   */
  export(): EventIdSetExport {
    const data: EventIdSetExport = {
      slots: this.slots,
      tagBits: this.tagBits,
      bytes: this.bytes,
      count: this.count,
      used: this.used,
      fallback: this.fallback === null ? null : [...this.fallback],
    };
    this.empty();
    return data;
  }

  /** A set from `export()` data (its arrays are taken over, not copied). */
  static from(data: EventIdSetExport, options: { maxProbes?: number | undefined } = {}): EventIdSet {
    const set = new EventIdSet({ initialCapacity: 16, maxProbes: options.maxProbes });
    if (data.fallback !== null) {
      set.fallback = new Set(data.fallback);
      return set;
    }
    set.slots = data.slots;
    set.useTagBits(data.tagBits);
    set.bytes = data.bytes;
    set.used = data.used;
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
    // In runs of 32 identities: each run's first slots read ahead, overlapped (see touch), then looked up.
    const starts = new Int32Array(33);
    const hashes = new Int32Array(32);
    for (let at = 0; at < other.used; ) {
      let n = 0;
      for (; n < 32 && at < other.used; n++) {
        starts[n] = at;
        at = extentEnd(other.bytes, at);
        hashes[n] = other.hashAt(starts[n]!, at);
      }
      starts[n] = at;
      let touched = 0;
      for (let j = 0; j < n; j++) touched += this.touch(hashes[j]!);
      this.readAhead = touched;
      for (let j = 0; j < n; j++) {
        if (this.slotOf(hashes[j]!, other.bytes, starts[j]!, starts[j + 1]!) >= 0)
          held.push(other.identityAt(starts[j]!));
      }
    }
    return held;
  }

  /** Add every identity of `other`. */
  addAll(other: EventIdSet): void {
    if (this.fallback !== null || other.fallback !== null) {
      for (const [userId, eventId] of other.entries()) this.add(userId, eventId);
      return;
    }
    if (this.count === 0) {
      // Nothing to merge with: take the other set's arrays as they are.
      this.slots = other.slots.slice();
      this.useTagBits(other.tagBits);
      this.bytes = other.bytes.slice(0, Math.max(256, other.used));
      this.used = other.used;
      this.count = other.count;
      return;
    }
    for (let from = 0; from < other.used; ) {
      const end = extentEnd(other.bytes, from);
      if (this.fallback !== null) this.add(...other.identityAt(from));
      else {
        const at = this.reserve(end - from);
        this.bytes.set(other.bytes.subarray(from, end), at);
        this.commit(this.hashAt(at, at + end - from), at, at + end - from);
      }
      from = end;
    }
  }

  /**
   * The slot holding the identity of bytes [offset, end) of `bytes` (hash `h`), or −1 − the free slot where it
   * would go; `probes` says how many slots were looked at past the first.
   */
  private slotOf(h: number, bytes: Uint8Array, offset: number, end: number): number {
    const slots = this.slots;
    const capacity = slots.length;
    const tagBits = this.tagBits;
    const tagMask = (1 << tagBits) - 1;
    const tag = (h >>> 1) & tagMask;
    let at = Math.floor((h >>> 0) * (capacity / 4294967296));
    for (let probes = 0; ; probes++) {
      const slot = slots[at]!;
      if (slot === 0) {
        this.probes = probes;
        return -1 - at;
      }
      if ((slot & tagMask) === tag && this.equalsBytes((slot >>> tagBits) - 1, bytes, offset, end)) return at;
      at = at + 1 === capacity ? 0 : at + 1;
    }
  }

  /** Whether the identity stored at `start` is bytes [offset, end) of `bytes`. */
  private equalsBytes(start: number, bytes: Uint8Array, offset: number, end: number): boolean {
    const mine = this.bytes;
    const length = end - offset;
    if (extentEnd(mine, start) - start !== length) return false;
    for (let i = 0; i < length; i++) if (mine[start + i] !== bytes[offset + i]) return false;
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
    for (let at = 0; at < this.used; at = extentEnd(this.bytes, at)) yield this.identityAt(at);
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
    stagedEnd = payloadAt + userLength + idLength;
    return at;
  }

  /** Stage (userId, eventId) at `used` (ending at `stagedEnd`); its offset. */
  private stageStrings(userId: string, eventId: string): number {
    const at = this.stage(encodedLength(userId), encodedLength(eventId));
    encodeInto(this.bytes, encodeInto(this.bytes, payloadAt, userId), eventId);
    return at;
  }

  /** The hash of the identity at [offset, end) of `bytes`: FNV-1a over its bytes, mixed (odd, never 0). */
  private hashAt(offset: number, end: number): number {
    const bytes = this.bytes;
    let h = 0x811c9dc5 | 0;
    for (let k = offset; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
    return mixHash(h);
  }

  /** Keep the identity staged at [offset, end) (hash `h`) unless the set holds it; true if it was new. */
  private commit(h: number, offset: number, end: number): boolean {
    const at = this.slotOf(h, this.bytes, offset, end);
    if (at >= 0) return false;
    if (this.probes > this.maxProbes) {
      const [userId, eventId] = this.identityAt(offset);
      this.useFallback();
      return this.addToFallback(userId, eventId);
    }
    if (offset + 1 > this.offsetLimit) {
      // The offset needs another bit (a slot is 32 bits): one tag bit less, and every slot written again.
      let tagBits = this.tagBits - 1;
      while (tagBits >= 0 && offset + 1 > 2 ** (32 - tagBits) - 1) tagBits--;
      if (tagBits < 0) {
        // 4 GiB of identities: past what a slot can point to.
        const [userId, eventId] = this.identityAt(offset);
        this.useFallback();
        return this.addToFallback(userId, eventId);
      }
      this.rebuild(this.slots.length, tagBits);
      return this.commit(h, offset, end);
    }
    this.used = end;
    this.slots[-1 - at] = ((offset + 1) << this.tagBits) | ((h >>> 1) & ((1 << this.tagBits) - 1));
    if (++this.count > MAX_LOAD * this.slots.length) this.rebuild(2 * this.slots.length, this.tagBits);
    return true;
  }

  /** Every identity put again into a table of `capacity` slots with `tagBits` bits of tag. */
  private rebuild(capacity: number, tagBits: number): void {
    const slots = new Int32Array(capacity);
    const tagMask = (1 << tagBits) - 1;
    this.slots = slots;
    this.useTagBits(tagBits);
    for (let offset = 0; offset < this.used; ) {
      const end = extentEnd(this.bytes, offset);
      const h = this.hashAt(offset, end);
      let at = Math.floor((h >>> 0) * (capacity / 4294967296));
      while (slots[at] !== 0) at = at + 1 === capacity ? 0 : at + 1;
      slots[at] = ((offset + 1) << tagBits) | ((h >>> 1) & tagMask);
      offset = end;
    }
  }

  private useTagBits(tagBits: number): void {
    this.tagBits = tagBits;
    this.offsetLimit = 2 ** (32 - tagBits) - 1;
  }

  private useFallback(): void {
    const set = new Set<string>();
    for (const [userId, eventId] of this.entries()) set.add(eventIdentity({ userId, eventId }));
    this.fallback = set;
    // One slot, never used: `touch` still reads a number.
    this.slots = new Int32Array(1);
    this.bytes = new Uint8Array(0);
    this.count = 0;
    this.used = 0;
  }

  private addToFallback(userId: string, eventId: string): boolean {
    const set = this.fallback!;
    const size = set.size;
    set.add(eventIdentity({ userId, eventId }));
    return set.size > size;
  }
}

/** The most identities per table slot before the table doubles (linear probing stays short below it). */
const MAX_LOAD = 0.7;

/** Where the identity whose bytes start at `offset` ends: after its two lengths and both ids. */
function extentEnd(bytes: Uint8Array, offset: number): number {
  const userLength = varintAt(bytes, offset);
  const idLength = varintAt(bytes, varintEnd);
  return varintEnd + userLength + idLength;
}

/** The hash (EventIdSet#hashAt) of the ASCII identity of user id bytes [userStart, userEnd) and id bytes [idStart, idEnd). */
export function hashAscii(b: Uint8Array, userStart: number, userEnd: number, idStart: number, idEnd: number): number {
  let h = hashVarint(hashVarint(0x811c9dc5 | 0, userEnd - userStart), idEnd - idStart);
  for (let k = userStart; k < userEnd; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
  for (let k = idStart; k < idEnd; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
  return mixHash(h);
}

/** FNV-1a of hash `h` continued over the bytes writeVarint writes for `value`. */
function hashVarint(h: number, value: number): number {
  while (value >= 0x80) {
    h = Math.imul(h ^ ((value & 0x7f) | 0x80), 0x01000193);
    value = Math.floor(value / 128);
  }
  return Math.imul(h ^ value, 0x01000193);
}

/** Where the bytes staged by the last `stage` end. */
let stagedEnd = 0;
/** Where the ids of the identity being staged start (set by `stage`). */
let payloadAt = 0;
/** Where the varint read by the last `varintAt` ended. */
let varintEnd = 0;

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
  slots: Int32Array;
  tagBits: number;
  bytes: Uint8Array;
  count: number;
  used: number;
  /** The identity strings (eventIdentity) once the set has moved to its fallback; else null. */
  fallback: string[] | null;
}

/** The typed arrays of an export, for a postMessage transfer list. */
export function eventIdSetTransferables(data: EventIdSetExport): ArrayBuffer[] {
  return [data.slots.buffer, data.bytes.buffer] as ArrayBuffer[];
}
