import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  drainArrayPool,
  float64Array,
  giveBack,
  int32Array,
  MAX_POOLED_BYTES,
  pooledByteCount,
  uint8Array,
} from '../../../shared/domain/engine/array-pool.js';
import { ScoringRun } from '../../../shared/domain/engine/index.js';
import { seededRandom } from '../../../shared/domain/random.js';
import { scoreJsonlFile } from '../../../shared/files/score-jsonl.js';
import { closePools } from '../../../shared/files/worker-pool.js';
import { event, model, sessionMinutes } from '../../support/engine.js';

const T = Date.parse('2026-11-25T00:00:00Z');
const DAY_MS = 86_400_000;
const KIB = 1024;

const dir = mkdtempSync(join(tmpdir(), 'pulse-pool-'));
afterAll(async () => {
  await closePools();
  drainArrayPool();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => drainArrayPool());

describe('array pool: memory a released run gave back, for the next run', () => {
  it('gives an array of the same byte length back, zeroed, on the same memory', () => {
    const first = float64Array(16 * KIB);
    first.fill(7.5);
    giveBack([first]);

    const again = float64Array(16 * KIB);
    const asInts = int32Array(32 * KIB); // the same byte length, nothing left for it

    expect(again.buffer).toBe(first.buffer);
    expect(again.every((x) => x === 0)).toBe(true);
    expect(asInts.buffer).not.toBe(first.buffer);
    expect(pooledByteCount()).toBe(0);
  });

  it('leaves bytes as they were only when asked (a caller that writes before it reads)', () => {
    const bytes = uint8Array(128 * KIB);
    bytes.fill(9);
    giveBack([bytes]);
    expect(uint8Array(128 * KIB, false)[100]).toBe(9);

    bytes.fill(9);
    giveBack([bytes]);
    expect(uint8Array(128 * KIB)[100]).toBe(0);
  });

  it('keeps no small array, no part of a buffer, no shared or moved memory, and each buffer once', () => {
    const shared = new Int32Array(new SharedArrayBuffer(256 * KIB));
    const part = new Float64Array(new ArrayBuffer(256 * KIB), 8, 1000);
    const moved = new Uint8Array(256 * KIB);
    structuredClone(moved.buffer, { transfer: [moved.buffer] });
    const kept = new Uint8Array(256 * KIB);

    giveBack([new Uint8Array(4 * KIB), shared, part, moved, kept, kept]);
    giveBack([kept]);

    expect(pooledByteCount()).toBe(256 * KIB);
  });

  it('holds at most MAX_POOLED_BYTES', () => {
    const arrays = Array.from({ length: MAX_POOLED_BYTES / (32 * 2 ** 20) + 3 }, () => new Uint8Array(32 * 2 ** 20));

    giveBack(arrays);

    expect(pooledByteCount()).toBe(MAX_POOLED_BYTES);
  });
});

const M = model({
  name: 'pooled-runs',
  signals: [
    { name: 'logins', event: 'login', weight: 1, capPerDay: 2 },
    sessionMinutes('minutes', 0.1),
    { name: 'days', event: '*', aggregate: 'distinctDays', weight: 2 },
  ],
});

/** Lines of `users` users over 40 days, a tenth repeating an earlier event id. */
function writeEvents(name: string, seed: number, users: number, count: number): string {
  const r = seededRandom(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const e = {
      eventId: `e${i}`,
      name: r() < 0.5 ? 'login' : 'session_ended',
      userId: `u${Math.floor(r() * users)}`,
      timestamp: T - Math.floor(r() * 40 * DAY_MS),
      properties: { minutes: Math.floor(r() * 90) },
    };
    // A repeat: an earlier line's user and id, with another time and name (the first one counts).
    const earlier = i > 0 && r() < 0.1 ? (JSON.parse(lines[Math.floor(r() * i)]!) as typeof e) : undefined;
    if (earlier !== undefined) {
      e.eventId = earlier.eventId;
      e.userId = earlier.userId;
    }
    lines.push(JSON.stringify(e));
  }
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('ScoringRun.release: its memory serves the next run, which scores exactly as a fresh one', () => {
  it.each([1, 2])('on %i thread(s), with and without dedupe, after a run over other data', async (threads) => {
    const other = writeEvents('other.jsonl', 1, 9000, 60_000);
    const file = writeEvents('file.jsonl', 2, 7000, 50_000);
    const score = async (f: string, dedupe: boolean) => {
      const run = await scoreJsonlFile(f, M, { asOf: T, dedupe, threads });
      return { run, scores: run.finish(), stats: { ...run.stats } };
    };
    for (const dedupe of [true, false]) {
      drainArrayPool();
      const fresh = await score(file, dedupe);
      const before = await score(other, dedupe);
      before.run.release();
      const given = pooledByteCount();

      const again = await score(file, dedupe);

      expect(given).toBeGreaterThan(MIN_EXPECTED_BYTES);
      expect(pooledByteCount()).toBeLessThan(given); // memory was taken from the pool
      expect(again.scores).toEqual(fresh.scores);
      expect(again.stats).toEqual(fresh.stats);
      if (dedupe) expect(fresh.stats.duplicates).toBeGreaterThan(1000);
    }
  });

  it('a released run refuses every further use, and releasing twice gives nothing twice', () => {
    const run = new ScoringRun(M, { asOf: T });
    run.add([event('login', T - DAY_MS, { userId: 'u1' })]);
    run.release();
    const given = pooledByteCount();

    run.release();

    expect(pooledByteCount()).toBe(given);
    expect(() => run.add([event('login', T - DAY_MS)])).toThrow(/released/);
    expect(() => run.finish()).toThrow(/released/);
    expect(() => run.exportState()).toThrow(/released/);
    expect(() => run.takeEventIds()).toThrow(/released/);
  });
});

/** At least a state chunk of the model and a dedupe set's tables (a file of 50,000 lines). */
const MIN_EXPECTED_BYTES = 256 * KIB;
