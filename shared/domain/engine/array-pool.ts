/**
 * Memory of typed arrays a released run (ScoringRun#release) or a finished reader gave back, kept by byte length
 * for the next run in the same process (docs/architecture.md#memory). A fresh array's pages are mapped on first
 * touch, one page fault per 4 KiB (4–15 µs each on a virtual machine): a run over a million events touches 50–100 MB
 * of fresh memory, a fifth of its time. A process that scores again (a warm worker, the local server's next run, a
 * benchmark) takes these instead, already mapped, and pays a memset. Arrays come back as the same lengths recur (a
 * model's state chunks, a dedupe set sized for the same file); at most MAX_POOLED_BYTES are kept.
 */
const pool = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;

/** What the pool keeps at most (a process that never scores again holds this much longer than it needs). */
export const MAX_POOLED_BYTES = 256 * 2 ** 20;
/** Arrays smaller than this are not worth keeping (a page or two). */
const MIN_POOLED_BYTES = 64 * 1024;

function take(bytes: number): ArrayBuffer | undefined {
  if (bytes < MIN_POOLED_BYTES) return undefined;
  const buffer = pool.get(bytes)?.pop();
  if (buffer !== undefined) pooledBytes -= bytes;
  return buffer;
}

/** A Float64Array of `length` zeros. */
export function float64Array(length: number): Float64Array {
  const buffer = take(length * 8);
  return buffer === undefined ? new Float64Array(length) : new Float64Array(buffer).fill(0);
}

/** An Int32Array of `length` zeros. */
export function int32Array(length: number): Int32Array {
  const buffer = take(length * 4);
  return buffer === undefined ? new Int32Array(length) : new Int32Array(buffer).fill(0);
}

/** A Uint8Array of `length` bytes, zeros unless `zeroed` is false (a caller that writes before it reads). */
export function uint8Array(length: number, zeroed = true): Uint8Array {
  const buffer = take(length);
  if (buffer === undefined) return new Uint8Array(length);
  const array = new Uint8Array(buffer);
  return zeroed ? array.fill(0) : array;
}

/**
 * Keep these arrays' memory for later runs. The caller owns them and uses them no more (a view of part of a
 * buffer, a shared or moved buffer is left alone).
 */
export function giveBack(arrays: readonly ArrayBufferView[]): void {
  for (const array of arrays) {
    const buffer = array.buffer;
    const bytes = buffer.byteLength;
    if (!(buffer instanceof ArrayBuffer) || bytes < MIN_POOLED_BYTES) continue;
    if (array.byteOffset !== 0 || array.byteLength !== bytes) continue;
    if (pooledBytes + bytes > MAX_POOLED_BYTES) continue;
    let list = pool.get(bytes);
    if (list === undefined) {
      list = [];
      pool.set(bytes, list);
    }
    if (list.includes(buffer)) continue;
    list.push(buffer);
    pooledBytes += bytes;
  }
}

/** Bytes the pool holds (tests). */
export function pooledByteCount(): number {
  return pooledBytes;
}

/** Let go of everything the pool holds (tests). */
export function drainArrayPool(): void {
  pool.clear();
  pooledBytes = 0;
}
