import { gunzipSync, gzipSync } from 'node:zlib';
import type { PreviousScore, RawScore } from '../domain/engine/types.js';
import type { PriorScore } from '../ports/score-store.js';

/** What a worker hands to finalise for one shard: counts first, then one row per scored entity. */
export interface ShardHeader {
  runId: string;
  shard: number;
  entities: number;
  /** Events read from the store for this shard. */
  events: number;
  /** Entities scored but not written: their id cannot be a key (see worker.ts, skippedRow). */
  skipped?: number | undefined;
}

export interface ShardRow {
  raw: RawScore;
  previous: PreviousScore | null;
  /** Whether this run's score replaces the entity's current score (T ≥ its as-of). */
  current: boolean;
  /** The current score it replaces (absent for a first score and on rows of workers before history runs). */
  prior?: PriorScore | undefined;
}

export interface ShardRows {
  header: ShardHeader;
  rows: ShardRow[];
}

/** Rows gzipped per chunk (concatenated gzip members are one valid gzip stream), so no shard-sized string is built. */
const CHUNK_ROWS = 2000;

/** Gzipped JSON lines: small enough to pass through S3 at any scale, never through the state machine. */
export function encodeShardRows(header: ShardHeader, rows: readonly ShardRow[]): Uint8Array {
  const parts: Buffer[] = [gzipSync(`${JSON.stringify(header)}\n`, { level: 1 })];
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    let text = '';
    const end = Math.min(rows.length, i + CHUNK_ROWS);
    for (let j = i; j < end; j++) text += `${JSON.stringify(rows[j])}\n`;
    parts.push(gzipSync(text, { level: 1 }));
  }
  return Buffer.concat(parts);
}

export function decodeShardRows(body: Uint8Array): ShardRows {
  const text = gunzipSync(body).toString('utf8');
  let start = text.indexOf('\n');
  const header = JSON.parse(text.slice(0, start)) as ShardHeader;
  const rows: ShardRow[] = [];
  for (;;) {
    const end = text.indexOf('\n', start + 1);
    if (end < 0) break;
    if (end > start + 1) rows.push(JSON.parse(text.slice(start + 1, end)) as ShardRow);
    start = end;
  }
  return { header, rows };
}

/** Raw score numbers as little-endian float64 (what a percentile normaliser needs of a shard). */
export function encodeNumbers(values: ArrayLike<number>): Uint8Array {
  const array = Float64Array.from(values);
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

export function decodeNumbers(body: Uint8Array): Float64Array {
  // Copy: the body's offset need not be 8-byte aligned.
  const copy = new Uint8Array(body.byteLength);
  copy.set(body);
  return new Float64Array(copy.buffer);
}
