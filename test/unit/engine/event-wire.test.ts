import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventFields } from '../../../shared/domain/engine/event-fields.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import type { Model } from '../../../shared/domain/model/schema.js';
import { seededRandom } from '../../../shared/domain/random.js';
import { WIRE_RECORDS, WireReader, WireWriter, wireMemory } from '../../../shared/files/event-wire.js';
import { type JsonlReadIssue, readJsonlEvents, readJsonlFieldBatches } from '../../../shared/files/jsonl-events.js';
import { scoreJsonlFile } from '../../../shared/files/score-jsonl.js';
import { closePools } from '../../../shared/files/worker-pool.js';
import { model, sessionMinutes } from '../../support/engine.js';

const T = Date.parse('2026-11-25T00:00:00Z');
const DAY_MS = 86_400_000;
const FROM = T - 40 * DAY_MS;

const dir = mkdtempSync(join(tmpdir(), 'pulse-wire-'));
afterAll(async () => {
  await closePools();
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;
function writeLines(lines: string[]): string {
  const file = join(dir, `events-${files++}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Lines with everything the wire carries in its own way: ids that are not ASCII or as long as allowed, events
 * without ids (content ids) and repeated ids, names past the first few hundred and not ASCII, property values of
 * every JSON type (objects and arrays go as messages), strings long enough to fill a block early, events out of
 * range, lines only the validating path reads (escapes in a key, unusual numbers) and invalid ones, CRLF.
 */
function wireLines(seed: number, count: number): string[] {
  const r = seededRandom(seed);
  const pick = <V>(xs: readonly V[]): V => xs[Math.floor(r() * xs.length)]!;
  const lines: string[] = [];
  const long = 'x'.repeat(3000);
  for (let i = 0; i < count; i++) {
    const roll = r();
    if (roll < 0.01) {
      lines.push('{"name": "login", "userId": }');
      continue;
    }
    if (roll < 0.02) {
      lines.push(`{"na\\u006de": "login", "userId": "u1", "timestamp": ${T - DAY_MS}, "eventId": "esc${i}"}`);
      continue;
    }
    if (roll < 0.03) {
      lines.push(`{"name": "login", "userId": "u2", "timestamp": ${T - DAY_MS}, "properties": {"minutes": 1e2}}`);
      continue;
    }
    const user = r();
    const e: Record<string, unknown> = {
      name: r() < 0.1 ? `name_${Math.floor(r() * 400)}` : pick(['login', 'session_ended', 'feature_used', 'café_vu']),
      userId:
        user < 0.1
          ? `ü${Math.floor(r() * 20)}`
          : user < 0.12
            ? `${'u'.repeat(250)}${i % 3}`
            : `u${Math.floor(r() * 300)}`,
    };
    const account = r();
    if (account < 0.6) e.accountId = `a${Math.floor(r() * 9)}`;
    else if (account < 0.7) e.accountId = `ä${Math.floor(r() * 4)}`;
    e.timestamp = T - Math.floor(r() * 50 * DAY_MS);
    if (r() < 0.5) e.timestamp = new Date(e.timestamp as number).toISOString();
    const id = r();
    if (id < 0.7) e.eventId = `e${i}`;
    else if (id < 0.8) e.eventId = `é${i}`;
    else if (id < 0.85) e.eventId = `e${Math.floor(r() * i)}`;
    else if (id < 0.87) e.eventId = 'i'.repeat(256);
    const p = r();
    if (p < 0.4) e.properties = { minutes: Math.round(r() * 1000) / 7, tier: pick(['premium', 'gold', 'basic']) };
    else if (p < 0.5) e.properties = { minutes: NEGATIVE_ZERO, tier: pick([true, false, null]), other: 1 };
    else if (p < 0.55) e.properties = { tier: { nested: [1, 'two'] } };
    else if (p < 0.6) e.properties = { tier: [1, 2], minutes: '12' };
    else if (p < 0.7) e.properties = { tier: `${long}${i % 5}` };
    else if (p < 0.72) e.properties = { tier: 'y'.repeat(5000) };
    else if (p < 0.8) e.properties = { other: 'not kept' };
    lines.push(JSON.stringify(e).replace(`"${NEGATIVE_ZERO}"`, '-0') + (r() < 0.05 ? '\r' : ''));
  }
  return lines;
}

/** Written as `-0` in a line (JSON.stringify writes -0 as 0). */
const NEGATIVE_ZERO = 'negative-zero';

/** An event as the counting side would see it: everything, or only the timestamp of one outside the range. */
function seen(fields: EventFields | ScoringEvent, inRange: boolean): unknown {
  if (!inRange) return { timestamp: fields.timestamp };
  const eventId = 'eventIdText' in fields ? fields.eventIdText() : fields.eventId;
  return {
    name: fields.name,
    userId: fields.userId,
    accountId: fields.accountId,
    timestamp: fields.timestamp,
    eventId,
    properties: fields.properties === undefined ? undefined : { ...fields.properties },
  };
}

const KEPT = ['minutes', 'tier'];

describe('event wire: what the reading side writes, the counting side reads, in file order', () => {
  it('every field of every event, messages in their place, over several blocks (in one thread)', async () => {
    // Arrange: more lines than three blocks hold, fewer than four (the writer waits for a free slot past that).
    const lines = wireLines(1, Math.floor(2.5 * WIRE_RECORDS));
    const file = writeLines(lines);
    const memory = wireMemory();
    const { port1, port2 } = new MessageChannel();
    const writer = new WireWriter(memory, port2, KEPT, FROM, T, true);
    const reader = new WireReader(memory, port1, KEPT, 64);
    const expected: unknown[] = [];
    // Pages of one event: each issue then comes in its place among the events.
    const options = { pageSize: 1, propertyKeys: new Set(KEPT), onIssue: (i: JsonlReadIssue) => expected.push(i) };
    for await (const page of readJsonlEvents(file, options))
      for (const event of page) expected.push(seen(event, event.timestamp >= FROM && event.timestamp < T));

    // Act
    await readJsonlFieldBatches(
      file,
      { propertyKeys: new Set(KEPT), onIssue: (issue) => writer.addIssue(issue) },
      (batch, count) => writer.addBatch(batch, count),
      (event) => writer.addEvent(event),
    );
    writer.end();
    const got: unknown[] = [];
    let outside = 0;
    let outsideThrows = 0;
    await reader.readAll(
      {
        batch: (batch, count) => {
          for (let j = 0; j < count; j++) {
            const fields = batch[j]!;
            const inRange = fields.timestamp >= FROM && fields.timestamp < T;
            got.push(seen(fields, inRange));
            if (inRange) continue;
            outside++;
            try {
              void fields.userId;
            } catch {
              outsideThrows++;
            }
          }
        },
        event: (event) => got.push(seen(event, true)),
        issue: (issue) => got.push(issue),
      },
      new Promise(() => undefined),
    );
    port1.close();

    // Assert
    expect(got).toEqual(expected);
    expect(got.length).toBeGreaterThan(2 * WIRE_RECORDS);
    expect(outside).toBeGreaterThan(100);
    expect(outsideThrows).toBe(outside);
    // -0 is carried as it is (a number), not as 0.
    expect(got.some((e) => Object.is((e as { properties?: { minutes?: number } }).properties?.minutes, -0))).toBe(true);
  });

  it('an event too large for any block goes whole as a message', async () => {
    // Arrange: 300 kept string properties of 4,000 characters (1.2 MB), then 9,000 kept numbers (more values than a
    // block holds), between ordinary events.
    const keys = Array.from({ length: 9000 }, (_, k) => `k${k}`);
    const big = Object.fromEntries(keys.slice(0, 300).map((k) => [k, 'z'.repeat(4000)]));
    const many = Object.fromEntries(keys.map((k, n) => [k, n]));
    const at = T - DAY_MS;
    const lines = [
      { name: 'login', userId: 'u1', timestamp: at, eventId: 'e1' },
      { name: 'login', userId: 'u2', timestamp: at, eventId: 'e2', properties: big },
      { name: 'login', userId: 'u3', timestamp: at, eventId: 'e3', properties: many },
      { name: 'login', userId: 'u1', timestamp: at, eventId: 'e4' },
    ].map((e) => JSON.stringify(e));
    const file = writeLines(lines);
    const memory = wireMemory();
    const { port1, port2 } = new MessageChannel();
    const writer = new WireWriter(memory, port2, keys, FROM, T, true);
    const reader = new WireReader(memory, port1, keys, 64);
    const expected: unknown[] = [];
    for await (const page of readJsonlEvents(file, { propertyKeys: new Set(keys) }))
      for (const event of page) expected.push(seen(event, true));

    // Act
    await readJsonlFieldBatches(
      file,
      { propertyKeys: new Set(keys) },
      (batch, count) => writer.addBatch(batch, count),
      (event) => writer.addEvent(event),
    );
    writer.end();
    const got: unknown[] = [];
    const asEvents: string[] = [];
    await reader.readAll(
      {
        batch: (batch, count) => {
          for (let j = 0; j < count; j++) got.push(seen(batch[j]!, true));
        },
        event: (event) => {
          asEvents.push(event.eventId);
          got.push(seen(event, true));
        },
        issue: () => undefined,
      },
      new Promise(() => undefined),
    );
    port1.close();

    // Assert
    expect(got).toEqual(expected);
    expect(asEvents).toEqual(['e2', 'e3']);
  });

  it('a reading side that fails ends the counting side with its error', async () => {
    const memory = wireMemory();
    const { port1, port2 } = new MessageChannel();
    const writer = new WireWriter(memory, port2, KEPT, FROM, T, true);
    const reader = new WireReader(memory, port1, KEPT, 64);
    const failure = new Error('disk gone');
    const stopped = Promise.reject(failure);
    stopped.catch(() => undefined);

    writer.fail();

    await expect(
      reader.readAll({ batch: () => undefined, event: () => undefined, issue: () => undefined }, stopped),
    ).rejects.toBe(failure);
    port1.close();
  });
});

const USER_MODEL = model({
  name: 'wire-user',
  timezone: 'Europe/Berlin',
  signals: [
    sessionMinutes('minutes', 0.3),
    { name: 'premium', event: 'feature_used', where: { tier: ['premium', 'gold', 'true'] }, weight: 10 },
    { name: 'logins', event: 'login', weight: 1, capPerDay: 2 },
    { name: 'cafe', event: 'café_vu', weight: 2 },
    { name: 'days', event: '*', aggregate: 'distinctDays', weight: 1 },
  ],
  penalties: [{ name: 'inactive', inactiveDays: 10, points: -5 }],
});
const ACCOUNT_MODEL = model({
  name: 'wire-account',
  level: 'account',
  signals: [
    sessionMinutes('minutes', 0.1),
    { name: 'users', event: '*', aggregate: 'distinctUsers', weight: 3 },
    { name: 'premium', event: 'feature_used', where: { tier: 'premium' }, weight: 4 },
  ],
});

async function oneAndTwo(file: string, m: Model, dedupe: boolean) {
  const issues1: JsonlReadIssue[] = [];
  const issues2: JsonlReadIssue[] = [];
  const one = await scoreJsonlFile(file, m, { asOf: T, threads: 1, dedupe, onIssue: (i) => issues1.push(i) });
  const two = await scoreJsonlFile(file, m, { asOf: T, threads: 2, dedupe, onIssue: (i) => issues2.push(i) });
  return { one, two, issues1, issues2 };
}

describe('scoreJsonlFile on 2 threads (a reading worker, this thread counting) gives exactly one thread’s result', () => {
  it.each([
    ['user model, dedupe on', USER_MODEL, true],
    ['user model, dedupe off', USER_MODEL, false],
    ['account model, dedupe on', ACCOUNT_MODEL, true],
  ] as const)('%s, on a file of every kind of line', async (_label, m, dedupe) => {
    const file = writeLines(wireLines(2, 3 * WIRE_RECORDS + 100));

    const { one, two, issues1, issues2 } = await oneAndTwo(file, m, dedupe);

    const expected = one.finish();
    expect(expected.length).toBeGreaterThan(m.level === 'user' ? 300 : 10);
    expect(two.finish()).toEqual(expected);
    expect(two.stats).toEqual(one.stats);
    expect(issues2).toEqual(issues1);
    expect(issues1.length).toBeGreaterThan(20);
    if (dedupe) expect(one.stats.duplicates).toBeGreaterThan(50);
  });

  it('a call whose counting fails stops its reading worker; the next call works', async () => {
    const file = writeLines(wireLines(3, 5 * WIRE_RECORDS));
    const one = await scoreJsonlFile(file, USER_MODEL, { asOf: T, threads: 1 });
    const boom = new Error('caller failed');

    const failed = scoreJsonlFile(file, USER_MODEL, {
      asOf: T,
      threads: 2,
      onIssue: () => {
        throw boom;
      },
    });

    await expect(failed).rejects.toBe(boom);
    const after = await scoreJsonlFile(file, USER_MODEL, { asOf: T, threads: 2 });
    expect(after.finish()).toEqual(one.finish());
  });
});
