import { gunzipSync, gzipSync } from 'node:zlib';
import type { PreviousScore, RawScore } from '../domain/engine/types.js';

/** What a worker hands to finalise for one shard: counts first, then one row per scored entity. */
export interface ShardHeader {
  runId: string;
  shard: number;
  entities: number;
  /** Events read from the store for this shard. */
  events: number;
}

export interface ShardRow {
  raw: RawScore;
  previous: PreviousScore | null;
  /** Whether this run's score replaces the entity's current score (T ≥ its as-of). */
  current: boolean;
}

export interface ShardRows {
  header: ShardHeader;
  rows: ShardRow[];
}

/** Gzipped JSON lines: small enough to pass through S3 at any scale, never through the state machine. */
export function encodeShardRows(header: ShardHeader, rows: readonly ShardRow[]): Uint8Array {
  const lines = new Array<string>(rows.length + 1);
  lines[0] = JSON.stringify(header);
  for (let i = 0; i < rows.length; i++) lines[i + 1] = JSON.stringify(rows[i]);
  return gzipSync(`${lines.join('\n')}\n`, { level: 1 });
}

export function decodeShardRows(body: Uint8Array): ShardRows {
  const text = gunzipSync(body).toString('utf8');
  const lines = text.split('\n');
  const header = JSON.parse(lines[0]!) as ShardHeader;
  const rows: ShardRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > 0) rows.push(JSON.parse(line) as ShardRow);
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
