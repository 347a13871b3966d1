import { float64Array, giveBack } from './array-pool.js';
import { ACCOUNT_AT_SLOT, FIRST_SEEN_SLOT, LAST_SEEN_SLOT } from './compile.js';

/** The slots of one state table, rows back to back, and its distinctUsers sets (per row, per set). */
export interface StateTableExport {
  count: number;
  data: Float64Array;
  sets: string[][][] | null;
}

/** How a slot merges across runs (see mergeOpsOf in state-export.ts). */
export const MERGE_ADD = 0;
export const MERGE_OR = 1;
export const MERGE_MIN = 2;
export const MERGE_MAX = 3;
export const MERGE_SKIP = 4;

/** Rows are stored in chunks of 4096 (the first one grows from 16), so growing never copies a large array. */
const CHUNK_BITS = 12;
const CHUNK_ROWS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_ROWS - 1;
const FIRST_CHUNK_ROWS = 16;

/**
 * The numeric state of many entities (or users, or groups): `stride` slots a row in chunked Float64Arrays. No
 * object or typed array per entity, so a million entities cost little more than their slots.
 */
export class StateTable {
  readonly chunks: Float64Array[] = [];
  count = 0;
  /** distinctUsers sets per row, when the model has such signals. */
  readonly sets: Set<string>[][] | null;

  constructor(
    readonly stride: number,
    private readonly setCount: number,
  ) {
    this.sets = setCount > 0 ? [] : null;
  }

  /** Append a row and return its index. */
  alloc(): number {
    const row = this.count++;
    const chunk = row >>> CHUNK_BITS;
    const base = (row & CHUNK_MASK) * this.stride;
    let data = this.chunks[chunk];
    if (data === undefined) {
      data = float64Array(this.stride * (chunk === 0 ? FIRST_CHUNK_ROWS : CHUNK_ROWS));
      this.chunks.push(data);
    } else if (base + this.stride > data.length) {
      const grown = float64Array(Math.min(data.length * 2, this.stride * CHUNK_ROWS));
      grown.set(data);
      giveBack([data]);
      this.chunks[chunk] = data = grown;
    }
    data[base + FIRST_SEEN_SLOT] = Number.POSITIVE_INFINITY;
    data[base + LAST_SEEN_SLOT] = Number.NEGATIVE_INFINITY;
    data[base + ACCOUNT_AT_SLOT] = Number.NEGATIVE_INFINITY;
    if (this.sets) this.sets.push(Array.from({ length: this.setCount }, () => new Set<string>()));
    return row;
  }

  /** Give the chunks' memory back for later tables (array-pool.ts): this table is empty and holds no row after. */
  release(): void {
    giveBack(this.chunks);
    this.chunks.length = 0;
    this.count = 0;
  }

  /** The chunk holding a row; its slots start at `baseOf(row)`. */
  dataOf(row: number): Float64Array {
    return this.chunks[row >>> CHUNK_BITS]!;
  }

  baseOf(row: number): number {
    return (row & CHUNK_MASK) * this.stride;
  }

  export(): StateTableExport {
    const data = new Float64Array(this.count * this.stride);
    let at = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(chunk.length, data.length - at);
      data.set(chunk.subarray(0, n), at);
      at += n;
    }
    return {
      count: this.count,
      data,
      sets: this.sets === null ? null : this.sets.map((row) => row.map((s) => [...s])),
    };
  }

  /** Merge row `from` of an exported table into row `row` of this one, slot by slot as `ops` say. */
  mergeRow(row: number, other: StateTableExport, from: number, ops: Uint8Array): void {
    const data = this.dataOf(row);
    const base = this.baseOf(row);
    const src = other.data;
    const at = from * this.stride;
    for (let i = 0; i < ops.length; i++) {
      const v = src[at + i]!;
      const t = base + i;
      switch (ops[i]) {
        case MERGE_ADD:
          data[t]! += v;
          break;
        case MERGE_OR:
          data[t] = (data[t]! | v) >>> 0;
          break;
        case MERGE_MIN:
          if (v < data[t]!) data[t] = v;
          break;
        case MERGE_MAX:
          if (v > data[t]!) data[t] = v;
          break;
      }
    }
    const sets = other.sets?.[from];
    if (sets !== undefined) {
      const own = this.sets![row]!;
      for (let i = 0; i < sets.length; i++) for (const id of sets[i]!) own[i]!.add(id);
    }
  }
}

/** Set bit `bit` of the bitmap that starts at `slot` (32 bits a slot). */
export function setBit(num: Float64Array, slot: number, bit: number): void {
  const word = slot + (bit >>> 5);
  num[word] = (num[word]! | (1 << (bit & 31))) >>> 0;
}

/** Bits set in the `words` slots of a bitmap starting at `slot`. */
export function countBits(num: Float64Array, slot: number, words: number): number {
  let total = 0;
  for (let w = 0; w < words; w++) {
    let v = num[slot + w]! >>> 0;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    total += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return total;
}
