import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ScoringRun } from '../../../shared/domain/engine/index.js';
import { contentEventId, NativeEventSchema, type ScoringEvent, toEpochMillis } from '../../../shared/domain/event.js';
import { FIELDS_BATCH, readJsonlFieldBatches, readJsonlFields } from '../../../shared/files/jsonl-events.js';
import { scoreJsonlFile } from '../../../shared/files/score-jsonl.js';
import { activeDaysTiers, model, sessionMinutes } from '../../support/engine.js';

/**
 * Scoring a file through the reader's fields (readJsonlFields → ScoringRun.addFields: dense keys for rows and
 * names, dedupe straight from the bytes, checks cached per interned string) against scoring the events the
 * validating path makes of the same lines (JSON.parse + the schema → ScoringRun.add). The lines draw on small
 * pools, so users, accounts, names and event ids repeat, and each string is written plainly or with escapes, so
 * the same id often comes once through the byte reader and once through the validating path (which must meet in
 * the same row and the same dedupe set).
 */

const T = Date.parse('2026-11-25T00:00:00Z');
const DAY_MS = 86_400_000;

const USER = model({
  name: 'user',
  signals: [
    { name: 'logins', event: 'login', weight: 1, decay: { halfLifeDays: 5 } },
    { name: 'premium', event: 'feature_used', where: { tier: 'premium' }, weight: 10 },
    sessionMinutes('minutes', 0.1, { capPerDay: 2 }),
    activeDaysTiers('days', [
      [0, 0],
      [2, 5],
    ]),
    { name: 'weeks', event: '*', aggregate: 'distinctWeeks', weight: 2 },
  ],
  penalties: [{ name: 'no-report', absent: 'report_exported', points: -5 }],
});
const POOLED = model({
  name: 'pooled',
  level: 'account',
  signals: [sessionMinutes('minutes', 0.1), { name: 'users', event: '*', aggregate: 'distinctUsers', weight: 3 }],
});
const MEAN = model({
  name: 'mean',
  level: 'account',
  rollup: 'mean',
  signals: [{ name: 'logins', event: 'login', weight: 1 }, sessionMinutes('minutes', 0.1)],
});

/**
 * Small pools, so strings repeat; each with a value or two the schema refuses (spaces around, DEL, empty). Pairs
 * of the same FNV-1a hash (the interner's) of up to 8 bytes, over 8 bytes with the same first 8 and over 8 bytes
 * with other first 8, and lengths either side of 8: the interner keeps the first 8 bytes in its table.
 */
const USERS = ['u1', 'u2', 'u10', 'ü3', 'u-😀', 'u 4', 'u00mf9r', 'u01ab3a', 'u00046wu', 'u000bwfa', 'u00046wux'];
const ACCOUNTS = ['a1', 'a2', 'ä3', 'acct000105wzx', 'acct00010c6cd', 'x000001pfs', 'x00000ivja'];
const NAMES = ['login', 'feature_used', 'session_ended', 'report_exported', 'other', 'lögin'];
const EVENT_IDS = ['e1', 'e2', 'e3', 'é4', 'e5', 'e-6'];
const REFUSED = [' u', 'e ', 'e\u007f', ''];
const pool = (values: string[]) =>
  fc.oneof({ arbitrary: fc.constantFrom(...values), weight: 12 }, fc.constantFrom(...REFUSED));
const ACCOUNT_OF = new Map([
  ['u1', 'a1'],
  ['u2', 'a2'],
  ['ü3', 'a1'],
]);

/** A string as JSON text: each character plain or as a \u escape (`escaped` decides per character). */
function jsonText(s: string, escaped: () => boolean): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === '\\' || ch.charCodeAt(0) < 0x20 || escaped()) {
      for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

const eventLine = fc
  .record(
    {
      eventId: pool(EVENT_IDS),
      name: pool(NAMES),
      userId: pool(USERS),
      accountId: pool(ACCOUNTS),
      timestamp: fc.oneof(
        fc.integer({ min: T - 40 * DAY_MS, max: T + DAY_MS }).map((ms) => new Date(ms).toISOString()),
        fc
          .integer({ min: T - 40 * DAY_MS, max: T + DAY_MS })
          .map((ms) => `${new Date(ms).toISOString().slice(0, 19)}Z`),
        fc.integer({ min: T - 40 * DAY_MS, max: T + DAY_MS }),
      ),
      properties: fc.record(
        {
          minutes: fc.oneof(fc.integer({ min: 0, max: 90 }), fc.constantFrom('12', 'n/a', 1.5)),
          tier: fc.constantFrom('premium', 'basic', 'prémium'),
          other: fc.constantFrom('x', 1, null),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['name', 'userId', 'timestamp'] },
  )
  .chain((event) =>
    fc
      .tuple(fc.constant(event), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), fc.nat())
      .map(([e, flags, seed]) => {
        // Escapes in a quarter of the lines (the validating path reads those), plain text in the rest.
        let state = seed;
        const escaped = () => seed % 4 === 0 && flags[state++ % flags.length]!;
        const parts = Object.entries(e).map(([k, v]) => {
          const value =
            typeof v === 'string'
              ? jsonText(v, escaped)
              : typeof v === 'object'
                ? `{${Object.entries(v)
                    .map(
                      ([pk, pv]) =>
                        `${jsonText(pk, escaped)}:${typeof pv === 'string' ? jsonText(pv, escaped) : JSON.stringify(pv)}`,
                    )
                    .join(',')}}`
                : JSON.stringify(v);
          return `"${k}":${value}`;
        });
        return `{${parts.join(',')}}`;
      }),
  );

const fileLines = fc.array(
  fc.oneof({ arbitrary: eventLine, weight: 10 }, fc.constantFrom('', '{"name":"login"}', 'not json')),
  { minLength: 5, maxLength: 60 },
);

/** The validating path alone: JSON.parse + the schema, as event objects. */
function validated(lines: string[]): ScoringEvent[] {
  const events: ScoringEvent[] = [];
  for (const line of lines) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = NativeEventSchema.safeParse(value);
    if (!parsed.success) continue;
    const { eventId, name, userId, accountId, timestamp, properties } = parsed.data;
    const content = { name, userId, accountId, timestamp: toEpochMillis(timestamp), properties };
    events.push({ eventId: eventId ?? contentEventId(content), ...content });
  }
  return events;
}

const dir = mkdtempSync(join(tmpdir(), 'pulse-fields-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describe('scoring through the reader fields (addFields) equals scoring the validating path', () => {
  it('the same raw scores and stats, any model level, dedupe on and off', async () => {
    let throughFields = 0;
    let throughEvents = 0;
    await fc.assert(
      fc.asyncProperty(fileLines, fc.constantFrom(USER, POOLED, MEAN), fc.boolean(), async (lines, m, dedupe) => {
        const file = join(dir, `f-${files++}.jsonl`);
        writeFileSync(file, lines.join('\n'));
        const accounts = ACCOUNT_OF;

        const fromFile = await scoreJsonlFile(file, m, { asOf: T, threads: 1, dedupe, accounts });
        const reference = new ScoringRun(m, { asOf: T, dedupe, accountOf: (u) => accounts.get(u) });
        reference.add(validated(lines));

        expect(fromFile.finish()).toEqual(reference.finish());
        expect(fromFile.stats).toEqual(reference.stats);
        await readJsonlFields(
          file,
          {},
          () => throughFields++,
          () => throughEvents++,
        );
      }),
      { numRuns: 300 },
    );
    // Both ways in are common enough for the comparison to mean something.
    expect(throughFields).toBeGreaterThan(1000);
    expect(throughEvents).toBeGreaterThan(300);
  });

  it('in batches, read in chunks of any size, the same raw scores and stats as line by line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileLines,
        fc.constantFrom(USER, POOLED, MEAN),
        fc.boolean(),
        fc.integer({ min: 1, max: 400 }),
        async (lines, m, dedupe, chunkSize) => {
          const file = join(dir, `b-${files++}.jsonl`);
          writeFileSync(file, lines.join('\n'));
          const options = { asOf: T, dedupe, accountOf: (u: string) => ACCOUNT_OF.get(u) };
          const batched = new ScoringRun(m, options);
          const batchSizes = new Set<number>();
          await readJsonlFieldBatches(
            file,
            { chunkSize },
            (batch, count) => {
              batchSizes.add(count);
              batched.addFieldsBatch(batch, count);
            },
            (event) => batched.add([event]),
          );
          const oneByOne = new ScoringRun(m, options);
          await readJsonlFields(
            file,
            {},
            (fields) => oneByOne.addFields(fields),
            (event) => oneByOne.add([event]),
          );

          expect(batched.finish()).toEqual(oneByOne.finish());
          expect(batched.stats).toEqual(oneByOne.stats);
          for (const size of batchSizes) expect(size).toBeLessThanOrEqual(FIELDS_BATCH);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keys: the same key always carries the same string, one string one key, numbered in the order first asked', async () => {
    await fc.assert(
      fc.asyncProperty(fileLines, async (lines) => {
        const file = join(dir, `k-${files++}.jsonl`);
        writeFileSync(file, lines.join('\n'));
        const names = new Map<number, string>();
        const users = new Map<number, string>();
        const accounts = new Map<number, string>();
        const check = (keys: Map<number, string>, key: number, value: string | undefined, inOrder = true) => {
          if (key < 0 || value === undefined) return;
          // A new id key is the next number: a run may use keys as its rows (ScoringRun.rowOfNewKey).
          if (inOrder && !keys.has(key)) expect(key).toBe(keys.size);
          expect(keys.get(key) ?? value).toBe(value);
          keys.set(key, value);
        };
        await readJsonlFields(
          file,
          {},
          (f) => {
            // Names are numbered as read, also on lines the validating path then takes: not in order.
            check(names, f.nameKey, f.name, false);
            check(users, f.userKey, f.userId);
            check(accounts, f.accountKey, f.accountId);
            expect(f.keySpace).toBeDefined();
          },
          () => undefined,
        );
        expect(new Set(names.values()).size).toBe(names.size);
        expect(new Set(users.values()).size).toBe(users.size);
        expect(new Set(accounts.values()).size).toBe(accounts.size);
      }),
      { numRuns: 100 },
    );
  });
});
