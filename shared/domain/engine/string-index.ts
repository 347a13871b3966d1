/**
 * An exact set of strings, each with its insertion index: what the engine keeps per event id (dedupe) and per
 * entity id. A `Set<string>` of a million fresh strings spends most of its time on cache misses: its buckets,
 * chained entries, and the stored key strings it reads to compare hashes. Here one open-addressing table of
 * Int32 pairs holds a 32-bit hash of each string next to its index, so a lookup touches one cache line and
 * reads a stored string only when the hashes are equal, to compare it in full: a match is always exact, never
 * decided by a hash alone.
 *
 * Crafted ids that share a hash only lengthen probe runs; past MAX_PROBES the index moves its lookups to a
 * `Map`, so the worst case stays that of a Map and never goes quadratic.
 */
export class StringIndex {
  /** The strings in insertion order: `keys[i]` has index i. */
  readonly keys: string[] = [];
  /** Pairs [hash, index] (hashes are odd; 0 marks a free slot), a string's first slot chosen by its hash's other bits. */
  private table: Int32Array;
  private mask: number;
  /** Set once probe runs get long (see above); from then on it answers every lookup. */
  private fallback: Map<string, number> | null = null;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.table = new Int32Array(2 * capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.keys.length;
  }

  /** The index of `s`, or −1. */
  indexOf(s: string): number {
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
        if (keys[index] === s) return index;
      }
    }
  }

  /** The index of `s`, adding it first when new (a new string gets index `size − 1`). */
  add(s: string): number {
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
        if (keys[index] === s) return index;
      }
      if (probes === MAX_PROBES) {
        this.useFallback();
        return this.addToFallback(s);
      }
      at = (at + 1) & mask;
    }
    const index = keys.length;
    keys.push(s);
    table[2 * at] = h;
    table[2 * at + 1] = index;
    if (2 * keys.length > mask) this.grow();
    return index;
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
    const map = new Map<string, number>();
    for (let i = 0; i < this.keys.length; i++) map.set(this.keys[i]!, i);
    this.fallback = map;
    this.table = new Int32Array(0);
  }

  private addToFallback(s: string): number {
    const map = this.fallback!;
    let index = map.get(s);
    if (index === undefined) {
      index = this.keys.length;
      this.keys.push(s);
      map.set(s, index);
    }
    return index;
  }
}

/** Probe run length at which the table gives way to a Map (random hashes at load ≤ 1/2 almost never get near). */
const MAX_PROBES = 128;

/** FNV-1a over the UTF-16 code units, then a murmur3 finaliser so every bit mixes well; odd, so never 0. */
function hashOf(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 1;
}
