import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BacktestResult, backtest } from '../../../shared/calibrate/backtest.js';
import { type Outcome, parseOutcomes } from '../../../shared/calibrate/outcomes.js';
import { replayWorkerEntry } from '../../../shared/calibrate/parallel-replay.js';
import type { Model } from '../../../shared/domain/model/schema.js';
import { closePools, poolThreadIds } from '../../../shared/files/worker-pool.js';
import { model } from '../../support/engine.js';

// A backtest replayed by worker threads over byte ranges of the file must equal the one-thread replay exactly:
// raw scores per (entity, as-of), presence, first/last event, invalid lines and their numbers, dedupe.

const signals = [
  { name: 'logins', event: 'login', weight: 1 },
  { name: 'minutes', event: 'session', aggregate: 'sum' as const, property: 'minutes', weight: 0.5, cap: 50 },
  { name: 'days', event: '*', aggregate: 'distinctDays' as const, weight: 2 },
];
const penalties = [{ name: 'inactive', inactiveDays: 5, points: -5 }];
const userModel = model({ name: 'users', level: 'user', windowDays: 7, signals, penalties });
const accountModel = model({
  name: 'accounts',
  level: 'account',
  windowDays: 7,
  signals: [...signals, { name: 'people', event: '*', aggregate: 'distinctUsers' as const, weight: 3 }],
  penalties,
});

const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00Z');

let dir: string;
let fileNo = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pulse-backtest-threads-'));
});
afterAll(async () => {
  await closePools();
  rmSync(dir, { recursive: true, force: true });
});

function writeLines(lines: readonly string[]): string {
  const file = join(dir, `events-${fileNo++}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Everything a caller reads from a backtest (or its error), without how many threads replayed it. */
async function replayed(m: Model, eventsFile: string, outcomes: Outcome[], threads: number) {
  let result: BacktestResult;
  try {
    result = await backtest({ model: m, eventsFile, outcomes, horizonDays: 2, unknownEntities: 'skip', threads });
  } catch (error) {
    return { outcome: { error: (error as Error).message }, threads: 0 };
  }
  const { threads: used, ...rest } = result;
  return { outcome: rest, threads: used ?? 1 };
}

// Lines: valid events (some sharing ids, some without accountId, some outside every window), invalid lines.
const line = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record({
        name: fc.constantFrom('login', 'session', 'view'),
        user: fc.integer({ min: 0, max: 5 }),
        account: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
        id: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        day: fc.integer({ min: 0, max: 19 }),
        minutes: fc.integer({ min: 0, max: 30 }),
      })
      // `omit`: events may lack accountId (their account then comes from earlier lines); else only u5's do.
      .map(({ name, user, account, id, day, minutes }) => (omit: boolean) => {
        const accountId = user === 5 ? undefined : account === undefined && !omit ? user % 3 : account;
        return JSON.stringify({
          ...(id === undefined ? {} : { eventId: `e${id}` }),
          name,
          userId: `u${user}`,
          // u5 never names an account: its events stay unattributed whatever the split.
          ...(accountId === undefined ? {} : { accountId: `a${accountId}` }),
          timestamp: new Date(START + day * DAY + minutes * 60_000).toISOString(),
          properties: { minutes },
        });
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('not json', '{"name":"login"}', '', '{"name":"x","userId":"u1","timestamp":"2026-02-31T00:00:00Z"}')
      .map((text) => (_omit: boolean) => text),
  },
);

const outcomesFor = (level: 'user' | 'account', days: number[]): Outcome[] => {
  const ids = level === 'user' ? ['u0', 'u1', 'u2', 'u3', 'u5', 'ghost'] : ['a0', 'a1', 'a2', 'ghost'];
  const rows = ids.flatMap((id, i) => {
    const day = days[i % days.length]!;
    return [`${level},${id},${i % 2 === 0 ? 'churned' : 'renewed'},2026-03-${String(day).padStart(2, '0')}`];
  });
  return parseOutcomes(['entity_type,entity_id,outcome,outcome_date', ...rows].join('\n'), 'o.csv');
};

describe('backtest on worker threads', () => {
  it('equals the one-thread replay on generated files (user and account level, 2 and 3 threads)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 30, maxLength: 80 }),
        fc.constantFrom<'user' | 'account'>('user', 'account'),
        fc.boolean(),
        fc.array(fc.integer({ min: 5, max: 22 }), { minLength: 1, maxLength: 3 }),
        async (lines, level, omit, days) => {
          // Events on the first and last day keep every as-of inside the file's time range (else both throw).
          const anchor = (day: number) =>
            JSON.stringify({ name: 'view', userId: 'u4', timestamp: new Date(START + day * DAY).toISOString() });
          const file = writeLines([anchor(0), ...lines.map((write) => write(omit)), anchor(19)]);
          const m = level === 'user' ? userModel : accountModel;
          const outcomes = outcomesFor(level, days);
          const one = await replayed(m, file, outcomes, 1);
          for (const threads of [2, 3])
            expect((await replayed(m, file, outcomes, threads)).outcome).toEqual(one.outcome);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('replays of one process on 2 threads share a worker kept warm between them, exactly as one thread', async () => {
    // Arrange: a pool with no worker yet.
    await closePools();
    const at = (day: number, minute: number) => new Date(START + day * DAY + minute * 60_000).toISOString();
    const file = writeLines(
      Array.from({ length: 200 }, (_, i) =>
        JSON.stringify({
          eventId: `e${i % 150}`,
          name: i % 3 === 0 ? 'session' : 'login',
          userId: `u${i % 6}`,
          timestamp: at(i % 20, i),
          properties: { minutes: i % 17 },
        }),
      ),
    );
    const outcomes = outcomesFor('user', [6, 12]);
    const one = await replayed(userModel, file, outcomes, 1);

    // Act
    const first = await replayed(userModel, file, outcomes, 2);
    const workersAfterFirst = poolThreadIds(replayWorkerEntry());
    const second = await replayed(userModel, file, outcomes, 2);
    const workersAfterSecond = poolThreadIds(replayWorkerEntry());

    // Assert
    expect(one.outcome).not.toHaveProperty('error');
    expect([first.threads, second.threads]).toEqual([2, 2]);
    expect(first.outcome).toEqual(one.outcome);
    expect(second.outcome).toEqual(one.outcome);
    expect(workersAfterFirst).toHaveLength(1);
    expect(workersAfterSecond).toEqual(workersAfterFirst);
  });

  it('dedupes across parts: the first occurrence in file order counts, later repeats do not', async () => {
    // Arrange: the same id in the first and last third of the file, with different content; the first counts.
    const at = (day: number) => new Date(START + day * DAY).toISOString();
    const filler = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ eventId: `f${i}`, name: 'view', userId: 'u9', timestamp: at(1) }),
    );
    const lines = [
      JSON.stringify({ eventId: 'dup', name: 'session', userId: 'u1', timestamp: at(3), properties: { minutes: 10 } }),
      ...filler,
      JSON.stringify({ eventId: 'dup', name: 'session', userId: 'u1', timestamp: at(3), properties: { minutes: 30 } }),
      'not json',
    ];
    const file = writeLines(lines);
    const outcomes = outcomesFor('user', [6]).filter((o) => o.entityId === 'u1' || o.entityId === 'u0');

    // Act
    const one = await replayed(
      userModel,
      file,
      outcomes.filter((o) => o.entityId === 'u1'),
      1,
    );
    const three = await replayed(
      userModel,
      file,
      outcomes.filter((o) => o.entityId === 'u1'),
      3,
    );

    // Assert
    expect(three.outcome).not.toHaveProperty('error');
    expect(three.threads).toBe(3);
    expect(three.outcome).toEqual(one.outcome);
    const rows = (three.outcome as BacktestResult).rows;
    expect(rows.map((r) => r.raw.contributions.find((c) => c.signal === 'minutes')?.value)).toEqual([10]);
    expect((three.outcome as BacktestResult).events).toMatchObject({
      lines: 33,
      invalid: 1,
      invalidSamples: [{ line: 33, message: 'not JSON' }],
    });
  });

  it('account level: stays parallel when every account is named in its part; one thread when a later part needs an earlier one', async () => {
    const at = (day: number, minute: number) => new Date(START + day * DAY + minute * 60_000).toISOString();
    const named = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ name: 'login', userId: `u${i % 4}`, accountId: `a${i % 3}`, timestamp: at(2 + (i % 4), i) }),
    );
    const outcomes = outcomesFor('account', [8]);

    // Every event names its account (and an orphan user never does): exact on parts.
    const allNamed = writeLines([...named, JSON.stringify({ name: 'login', userId: 'orphan', timestamp: at(3, 0) })]);
    const one = await replayed(accountModel, allNamed, outcomes, 1);
    const two = await replayed(accountModel, allNamed, outcomes, 2);
    expect(two.threads).toBe(2);
    expect(two.outcome).toEqual(one.outcome);

    // u0's last lines carry no accountId: their account comes from the first part. An invalid line in each part:
    // each is reported once, with its line number in the whole file, though the parts were replayed apart first.
    const inherited = writeLines([
      'not json',
      ...named,
      ...Array.from({ length: 40 }, (_, i) => JSON.stringify({ name: 'login', userId: 'u0', timestamp: at(4, i) })),
      '{"name":"login"}',
    ]);
    const oneInherited = await replayed(accountModel, inherited, outcomes, 1);
    const twoInherited = await replayed(accountModel, inherited, outcomes, 2);
    expect(twoInherited.threads).toBe(1);
    expect(twoInherited.outcome).toEqual(oneInherited.outcome);
    expect((twoInherited.outcome as BacktestResult).events).toMatchObject({
      lines: 82,
      invalid: 2,
      invalidSamples: [{ line: 1 }, { line: 82 }],
    });
    // The inherited logins count: a0 (u0's account) has more logins than on the all-named file.
    const logins = (r: typeof one, id: string) =>
      (r.outcome as BacktestResult).rows
        .find((row) => row.outcome.entityId === id)
        ?.raw.contributions.find((c) => c.signal === 'logins')?.value;
    expect(logins(oneInherited, 'a0')).toBeGreaterThan(logins(one, 'a0') ?? 0);
  });
});
