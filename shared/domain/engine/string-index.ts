/** Radix digits of 13 bits: four passes cover a prefix of up to 52 bits (indicesInOrder's are 49 or 48). */
const DIGIT_BITS = 13;
const DIGIT_MASK = (1 << DIGIT_BITS) - 1;
const LOW_BITS = 2 * DIGIT_BITS;

/**
 * The indices 0 … n − 1 ordered by `prefixes` (whole numbers below 2^52), equal prefixes in index order: a least
 * significant digit first radix sort, four passes of counting and placing (a comparison sort of a hundred thousand
 * indices calls its comparator two million times).
 */
function sortedByPrefix(prefixes: Float64Array): Uint32Array {
  const n = prefixes.length;
  const low = new Int32Array(n);
  const high = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const prefix = prefixes[i]!;
    low[i] = prefix % 2 ** LOW_BITS;
    high[i] = Math.floor(prefix / 2 ** LOW_BITS);
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Uint32Array(n);
  const counts = new Int32Array(DIGIT_MASK + 2);
  for (let pass = 0; pass < 4; pass++) {
    const words = pass < 2 ? low : high;
    const shift = (pass % 2) * DIGIT_BITS;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((words[i]! >>> shift) & DIGIT_MASK) + 1]!++;
    for (let d = 1; d < counts.length; d++) counts[d]! += counts[d - 1]!;
    for (let i = 0; i < n; i++) {
      const index = order[i]!;
      next[counts[(words[index]! >>> shift) & DIGIT_MASK]!++] = index;
    }
    [order, next] = [next, order];
  }
  return order;
}

/**
 * An exact set of strings, each with its insertion index: what the engine keeps per event id (dedupe) and per
 * entity id. A `Set<string>` of a million fresh strings spends most of its time on cache misses: its buckets,
 * chained entries, and the stored key strings it reads to compare hashes. Here one open-addressing table of
 * Int32 pairs holds a 32-bit hash of each string next to its index, so a lookup touches one cache line and
 * reads a stored string only when the hashes are equal, to compare it in full: a match is always exact, never
 * decided by a hash alone.
 *
 * Crafted ids that share a hash only lengthen probe runs; past `maxProbes` the index moves its lookups to a
 * `Map`, so the worst case stays that of a Map and never goes quadratic.
 */
export class StringIndex {
  /** The strings in insertion order: `keys[i]` has index i. */
  readonly keys: string[] = [];
  /** Pairs [hash, index]: hashes are odd (0 marks a free slot); a string's first slot comes from its other bits. */
  private table: Int32Array;
  private mask: number;
  /** Set once probe runs get long (see above); from then on it answers every lookup. */
  private fallback: Map<string, number> | null = null;
  /**
   * How many of `keys` the table (or the fallback) holds: strings appended as new (`appendNew`) go in only when a
   * lookup next needs them.
   */
  private indexed = 0;
  /**
   * With `packed`, a copy of every string's UTF-16 code units, back to back (length first), at `offsets[index]`:
   * a lookup that finds its string (the common case for entity ids) compares against this compact copy instead
   * of the stored string, which sits wherever its page of events was allocated (a cache miss of its own).
   */
  private chars: Uint16Array | null = null;
  private used = 0;
  private offsets: Int32Array | null = null;
  /** Probe run length at which the table gives way to a Map (random hashes at load ≤ 1/2 almost never get near). */
  private readonly maxProbes: number;

  /** `packed` suits strings that are mostly found (entity ids); a set that mostly adds (event ids) does without. */
  constructor(
    options: {
      initialCapacity?: number | undefined;
      maxProbes?: number | undefined;
      packed?: boolean | undefined;
    } = {},
  ) {
    let capacity = 16;
    while (capacity < (options.initialCapacity ?? 1024)) capacity *= 2;
    this.table = new Int32Array(2 * capacity);
    this.mask = capacity - 1;
    this.maxProbes = options.maxProbes ?? 128;
    if (options.packed) {
      this.chars = new Uint16Array(16 * capacity);
      this.offsets = new Int32Array(capacity);
    }
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * Every index, ordered by its string as `<` orders strings (code unit by code unit, a prefix first). Sorting
   * by the strings alone compares long shared prefixes (`user-1…`) again and again: each string's first code units
   * are packed into one number that orders as they do (7 units of 7 bits when they are all ASCII, else 3 of 16,
   * both exact in a double), and the strings are compared only where those numbers tie.
   */
  indicesInOrder(): Uint32Array {
    const keys = this.keys;
    const n = keys.length;
    // Units every string starts with (`user-000…`) order nothing: the prefixes start after them.
    const first = keys[0] ?? '';
    let skip = first.length;
    for (let i = 1; i < n && skip > 0; i++) {
      const key = keys[i]!;
      let j = 0;
      while (j < skip && j < key.length && key.charCodeAt(j) === first.charCodeAt(j)) j++;
      skip = j;
    }
    let ascii = true;
    for (let i = 0; i < n && ascii; i++) {
      const key = keys[i]!;
      for (let j = skip; j < skip + 7 && j < key.length; j++) if (key.charCodeAt(j) >= 128) ascii = false;
    }
    const units = ascii ? 7 : 3;
    const radix = ascii ? 128 : 65536;
    const prefixes = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      let prefix = 0;
      // A missing unit counts as 0, below every unit: a string sorts no later than the strings it is a prefix of.
      for (let j = skip; j < skip + units; j++) prefix = prefix * radix + (j < key.length ? key.charCodeAt(j) : 0);
      prefixes[i] = prefix;
    }
    const order = sortedByPrefix(prefixes);
    // Equal prefixes (strings longer than the prefix, or with NUL units) are ordered by the strings themselves.
    const byString = (a: number, b: number) => {
      const ka = keys[a]!;
      const kb = keys[b]!;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    };
    for (let start = 0; start < n; ) {
      let end = start + 1;
      while (end < n && prefixes[order[end]!] === prefixes[order[start]!]) end++;
      if (end - start > 1) order.subarray(start, end).sort(byString);
      start = end;
    }
    return order;
  }

  /**
   * Add `s`, which the caller knows is not here yet (e.g. an id a reader numbered as new), and return its index:
   * no hash, no lookup. It is put in the table when a lookup next needs it, so a run whose every entity came this
   * way never builds the table at all.
   */
  appendNew(s: string): number {
    const index = this.keys.length;
    this.keys.push(s);
    return index;
  }

  /** The index of `s`, or −1. */
  indexOf(s: string): number {
    if (this.indexed < this.keys.length) this.catchUp();
    if (this.fallback !== null) return this.fallback.get(s) ?? -1;
    const h = hashOf(s);
    const table = this.table;
    const mask = this.mask;
    const keys = this.keys;
    for (let at = (h >>> 1) & mask; ; at = (at + 1) & mask) {
      const stored = table[2 * at]!;
      if (stored === 0) return -1;
      if (stored === h) {
        const index = table[2 * at + 1]!;
        if (this.chars === null ? keys[index] === s : this.packedEquals(index, s)) return index;
      }
    }
  }

  /** The index of `s`, adding it first when new (a new string gets index `size − 1`). */
  add(s: string): number {
    if (this.indexed < this.keys.length) this.catchUp();
    if (this.fallback !== null) return this.addToFallback(s);
    const h = hashOf(s);
    const table = this.table;
    const mask = this.mask;
    const keys = this.keys;
    let at = (h >>> 1) & mask;
    for (let probes = 0; ; probes++) {
      const stored = table[2 * at]!;
      if (stored === 0) break;
      if (stored === h) {
        const index = table[2 * at + 1]!;
        if (this.chars === null ? keys[index] === s : this.packedEquals(index, s)) return index;
      }
      if (probes === this.maxProbes) {
        this.useFallback();
        return this.addToFallback(s);
      }
      at = (at + 1) & mask;
    }
    const index = keys.length;
    keys.push(s);
    this.indexed = keys.length;
    table[2 * at] = h;
    table[2 * at + 1] = index;
    if (this.chars !== null) this.pack(index, s);
    if (2 * keys.length > mask) this.grow();
    return index;
  }

  /** Put the strings appended by `appendNew` into the table (or the fallback). */
  private catchUp(): void {
    const keys = this.keys;
    for (let index = this.indexed; index < keys.length; index++) {
      const s = keys[index]!;
      this.indexed = index + 1;
      if (this.fallback !== null) {
        this.fallback.set(s, index);
        continue;
      }
      const h = hashOf(s);
      const table = this.table;
      const mask = this.mask;
      let at = (h >>> 1) & mask;
      for (let probes = 0; table[2 * at] !== 0; probes++) {
        if (probes === this.maxProbes) {
          // useFallback maps every key up to `indexed`, this one included.
          this.useFallback();
          break;
        }
        at = (at + 1) & mask;
      }
      if (this.fallback !== null) continue;
      table[2 * at] = h;
      table[2 * at + 1] = index;
      if (this.chars !== null) this.pack(index, s);
      if (2 * (index + 1) > mask) this.grow();
    }
  }

  /** Whether the packed copy of string `index` equals `s`, code unit by code unit. */
  private packedEquals(index: number, s: string): boolean {
    const chars = this.chars!;
    const at = this.offsets![index]!;
    const n = s.length;
    const length = chars[at]!;
    if (length === 0xffff) return this.keys[index] === s;
    if (length !== n) return false;
    for (let i = 0; i < n; i++) if (chars[at + 1 + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  private pack(index: number, s: string): void {
    let offsets = this.offsets!;
    if (index >= offsets.length) {
      offsets = new Int32Array(2 * offsets.length);
      offsets.set(this.offsets!);
      this.offsets = offsets;
    }
    // Lengths beyond 65,535 do not fit a slot: such a string is compared as a string (see packedEquals).
    const n = Math.min(s.length, 0xffff);
    let chars = this.chars!;
    if (this.used + n + 1 > chars.length) {
      chars = new Uint16Array(Math.max(2 * chars.length, this.used + n + 1));
      chars.set(this.chars!.subarray(0, this.used));
      this.chars = chars;
    }
    let at = this.used;
    offsets[index] = at;
    chars[at++] = n;
    for (let i = 0; i < n; i++) chars[at++] = s.charCodeAt(i);
    this.used = at;
  }

  private grow(): void {
    this.mask = 2 * (this.mask + 1) - 1;
    this.table = rehashedPairs(this.table, this.mask + 1);
  }

  private useFallback(): void {
    const map = new Map<string, number>();
    for (let i = 0; i < this.indexed; i++) map.set(this.keys[i]!, i);
    this.fallback = map;
    this.table = new Int32Array(0);
    this.chars = null;
    this.offsets = null;
  }

  private addToFallback(s: string): number {
    const map = this.fallback!;
    let index = map.get(s);
    if (index === undefined) {
      index = this.keys.length;
      this.keys.push(s);
      this.indexed = this.keys.length;
      map.set(s, index);
    }
    return index;
  }
}

/** FNV-1a over the UTF-16 code units, then finished by `mixHash`; odd, so never 0. */
export function hashOf(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mixHash(h);
}

/** A murmur3 finaliser, so every bit of an FNV-1a hash mixes well; odd, so never 0 (0 marks a free slot). */
export function mixHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 1;
}

/**
 * An open-addressing table of [hash, value] Int32 pairs (hash 0: a free slot; a hash's first slot from its bits
 * above the lowest) moved into a new table of `capacity` slots (a power of two).
 */
export function rehashedPairs(old: Int32Array, capacity: number): Int32Array {
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
  return table;
}
