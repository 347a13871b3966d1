import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ScoringRun, type ScoringRunOptions } from '../../../shared/domain/engine/index.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import type { Model, Traits } from '../../../shared/domain/model/schema.js';
import { seededRandom } from '../../../shared/domain/random.js';
import { type JsonlReadIssue, parseEventLine } from '../../../shared/files/jsonl-events.js';
import {
  type ScoreJsonlOptions,
  scoreJsonlFile,
  scorePart,
  scoreWorkerEntry,
  splitAtLines,
} from '../../../shared/files/score-jsonl.js';
import { closePools, poolThreadIds, WorkerTaskError } from '../../../shared/files/worker-pool.js';
import { activeDaysTiers, model, sessionMinutes } from '../../support/engine.js';

const T = Date.parse('2026-11-25T00:00:00Z');
const DAY_MS = 86_400_000;

/** A user model with every signal kind: count, sum, decay, capPerDay, distinctDays/Weeks, tiers, where, cap, penalties. */
const USER_FULL = model({
  name: 'user-full',
  timezone: 'Europe/Berlin',
  signals: [
    { name: 'projects', event: 'project_created', weight: 4 },
    { name: 'invites', event: 'teammate_invited', weight: 5, cap: 6 },
    { name: 'core', event: 'core_used', weight: 5, capPerDay: 2, decay: { halfLifeDays: 7 } },
    sessionMinutes('minutes-capped', 0.1, { capPerDay: 2 }),
    sessionMinutes('minutes', 0.3),
    { name: 'decayed', event: 'login', weight: 1.7, decay: { halfLifeDays: 3 } },
    { name: 'weeks', event: 'login', aggregate: 'distinctWeeks', weight: 2 },
    { name: 'premium', event: 'feature_used', where: { tier: ['premium', 'gold'] }, weight: 10 },
    activeDaysTiers('days', [
      [0, 0],
      [3, 5],
      [8, 12],
    ]),
    { name: 'tickets', event: 'ticket_opened', weight: 0 },
  ],
  penalties: [
    { name: 'no-report', absent: 'report_exported', points: -20 },
    { name: 'inactive', inactiveDays: 10, points: -15 },
    { name: 'backlog', signal: 'tickets', above: 2, points: -10 },
  ],
});

const ACCOUNT_SIGNALS = [
  { name: 'projects', event: 'project_created', weight: 4 },
  sessionMinutes('minutes', 0.1),
  { name: 'core', event: 'core_used', weight: 3, capPerDay: 2 },
  { name: 'days', event: '*', aggregate: 'distinctDays' as const, weight: 1 },
];
const POOLED = model({
  name: 'pooled',
  level: 'account',
  signals: [...ACCOUNT_SIGNALS, { name: 'users', event: '*', aggregate: 'distinctUsers', weight: 3 }],
  penalties: [{ name: 'no-report', absent: 'report_exported', points: -5 }],
});
const MEAN = model({
  name: 'mean',
  level: 'account',
  rollup: 'mean',
  signals: ACCOUNT_SIGNALS,
  penalties: [{ name: 'few', signal: 'projects', below: 2, points: -6 }],
});
const MAX = model({ name: 'max', level: 'account', rollup: 'max', signals: ACCOUNT_SIGNALS });
const BREAKDOWN = model({
  name: 'breakdown',
  level: 'account',
  breakdown: { trait: 'role' },
  signals: [...ACCOUNT_SIGNALS, { name: 'users', event: '*', aggregate: 'distinctUsers', weight: 1 }],
});

const NAMES = [
  'project_created',
  'teammate_invited',
  'core_used',
  'session_ended',
  'login',
  'feature_used',
  'ticket_opened',
  'report_exported',
  'other',
];

/**
 * Lines of a random file: users moving between accounts (equal timestamps too), events out of range, sums as
 * numbers, strings and junk, repeated ids anywhere in the file (often with other content), lines without an id,
 * repeated whole lines, blank, CRLF and invalid lines.
 */
function randomLines(seed: number, count: number): string[] {
  const r = seededRandom(seed);
  const pick = <V>(xs: readonly V[]): V => xs[Math.floor(r() * xs.length)]!;
  const lines: string[] = [];
  const ids: string[] = [];
  const stamps = Array.from({ length: 12 }, () => T - Math.floor(r() * 45 * DAY_MS));
  for (let i = 0; i < count; i++) {
    const roll = r();
    if (roll < 0.02) {
      lines.push(roll < 0.01 ? '' : '{"name": "login", "userId": }');
      continue;
    }
    if (roll < 0.06 && lines.length > 0) {
      lines.push(pick(lines));
      continue;
    }
    const e: Record<string, unknown> = { name: pick(NAMES), userId: `u${Math.floor(r() * 40)}` };
    if (r() < 0.8) e.accountId = `a${Math.floor(r() * 6)}`;
    e.timestamp = r() < 0.2 ? pick(stamps) : T + DAY_MS - Math.floor(r() * 50 * DAY_MS);
    if (r() < 0.5) e.timestamp = new Date(e.timestamp as number).toISOString();
    const p = r();
    e.properties =
      p < 0.5
        ? { minutes: Math.round(r() * 1000) / 7, tier: pick(['premium', 'gold', 'basic']) }
        : p < 0.6
          ? { minutes: String(Math.round(r() * 100)) }
          : p < 0.7
            ? { minutes: 'n/a' }
            : undefined;
    const idRoll = r();
    if (idRoll < 0.15 && ids.length > 0) {
      // A resend: identity is (userId, eventId), so most repeats carry their user too; some reuse the id only.
      const [eventId, userId] = pick(ids).split('|') as [string, string];
      e.eventId = eventId;
      if (idRoll < 0.12) e.userId = userId;
    } else if (idRoll < 0.9) {
      e.eventId = `e${i}`;
      ids.push(`${e.eventId}|${e.userId}`);
    }
    lines.push(JSON.stringify(e) + (r() < 0.05 ? '\r' : ''));
  }
  return lines;
}

const dir = mkdtempSync(join(tmpdir(), 'pulse-parallel-'));
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

const ROLES = new Map<string, Traits>(
  Array.from({ length: 40 }, (_, i) => [`u${i}`, { role: ['admin', 'dev', 'ops'][i % 4] }]),
);
const ACCOUNTS = new Map<string, string>(Array.from({ length: 40 }, (_, i) => [`u${i}`, `a${i % 7}`]));

async function scoreBoth(file: string, m: Model, options: Omit<ScoreJsonlOptions, 'asOf' | 'onIssue'>, threads = 2) {
  const issues1: JsonlReadIssue[] = [];
  const issuesN: JsonlReadIssue[] = [];
  const one = await scoreJsonlFile(file, m, { ...options, asOf: T, threads: 1, onIssue: (i) => issues1.push(i) });
  const many = await scoreJsonlFile(file, m, { ...options, asOf: T, threads, onIssue: (i) => issuesN.push(i) });
  return { one, many, issues1, issuesN };
}

describe('scoreJsonlFile: threads > 1 gives exactly the raw scores of one thread', () => {
  it('user model with every signal kind, dedupe on, ids repeated across the file (2 and 3 threads)', async () => {
    const file = writeLines(randomLines(1, 3000));

    const two = await scoreBoth(file, USER_FULL, { dedupe: true, accounts: ACCOUNTS });
    const three = await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 3, dedupe: true, accounts: ACCOUNTS });

    const expected = two.one.finish();
    expect(expected.length).toBeGreaterThan(30);
    expect(two.many.finish()).toEqual(expected);
    expect(three.finish()).toEqual(expected);
    expect(two.many.stats).toEqual(two.one.stats);
    expect(three.stats).toEqual(two.one.stats);
    expect(two.one.stats.duplicates).toBeGreaterThan(100);
    expect(two.issuesN).toEqual(two.issues1);
    expect(two.issues1.length).toBeGreaterThan(10);
  });

  it('user model, dedupe off', async () => {
    const file = writeLines(randomLines(2, 2000));

    const { one, many } = await scoreBoth(file, USER_FULL, { dedupe: false });

    expect(many.finish()).toEqual(one.finish());
    expect(many.stats).toEqual(one.stats);
    expect(one.stats.duplicates).toBe(0);
  });

  it.each([
    ['pooled with distinctUsers', POOLED],
    ['rollup mean', MEAN],
    ['rollup max', MAX],
    ['breakdown', BREAKDOWN],
  ])('account model, %s, dedupe on', async (_label, m) => {
    const file = writeLines(randomLines(3, 2000));

    const { one, many } = await scoreBoth(file, m, { dedupe: true, accounts: ACCOUNTS, traits: { user: ROLES } });

    const expected = one.finish();
    expect(expected.length).toBe(7);
    expect(many.finish()).toEqual(expected);
    expect(many.stats).toEqual(one.stats);
  });

  it('a worker that replies while this thread still scores its own part is heard', async () => {
    // Arrange: an invalid line early in part 0; reporting it holds this thread for 3 s, long enough for the worker
    // to score part 1 and reply before this thread listens for it.
    const lines = randomLines(5, 400);
    lines[3] = '{"name": "login", "userId": }';
    const file = writeLines(lines);
    const one = await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 1 });
    // A first threaded run gets the worker's script ready: the next one starts its worker at once.
    await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 2 });
    let held = false;
    const hold = (issue: JsonlReadIssue) => {
      if (held || issue.line !== 4) return;
      held = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
    };

    // Act
    const two = await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 2, onIssue: hold });

    // Assert
    expect(held).toBe(true);
    expect(two.finish()).toEqual(one.finish());
    expect(two.stats).toEqual(one.stats);
  });

  it('more threads than lines, an empty file and a file without a final newline', async () => {
    const small = join(dir, 'small.jsonl');
    writeFileSync(small, randomLines(4, 3).join('\n'));
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');

    const { one, many } = await scoreBoth(small, USER_FULL, { dedupe: true }, 4);
    const none = await scoreJsonlFile(empty, USER_FULL, { asOf: T, threads: 2 });

    expect(many.finish()).toEqual(one.finish());
    expect(none.finish()).toEqual([]);
  });
});

describe('scoreJsonlFile: dedupe meets the same ids however they are written and wherever they are', () => {
  it('ids that differ only in escapes are one id, in one part or across parts (1, 2 and 3 threads)', async () => {
    // Arrange: each event is sent twice, the second time with its ids written with \u escapes (so the byte reader
    // hands that line to JSON.parse) or with a non-ASCII id, half of the repeats far down the file (another part).
    const stamp = new Date(T - 2 * DAY_MS).toISOString();
    const line = (userId: string, eventId: string, name: string) =>
      `{"eventId":"${eventId}","name":"${name}","userId":"${userId}","timestamp":"${stamp}"}`;
    const escaped = (id: string) => [...id].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const firsts: string[] = [];
    const repeats: string[] = [];
    for (let i = 0; i < 300; i++) {
      const userId = i % 3 === 0 ? `ü${i % 17}` : `u${i % 17}`;
      firsts.push(line(userId, `e-${i}`, 'login'));
      // The repeat's name differs: were it counted, the scores would show it.
      const repeat =
        i % 2 === 0
          ? line(escaped(userId), `e-${i}`, 'project_created')
          : line(userId, escaped(`e-${i}`), 'project_created');
      (i % 4 < 2 ? firsts : repeats).push(repeat);
    }
    // The same event id under another user is another event.
    firsts.push(line('other', 'e-1', 'login'));
    const file = writeLines([...firsts, ...Array.from({ length: 200 }, () => ''), ...repeats]);

    // Act
    const runs = await Promise.all(
      [1, 2, 3].map((threads) => scoreJsonlFile(file, USER_FULL, { asOf: T, threads, dedupe: true })),
    );

    // Assert
    for (const run of runs) {
      expect(run.stats.duplicates).toBe(300);
      expect(run.stats.counted).toBe(301);
      expect(run.finish()).toEqual(runs[0]!.finish());
      expect(
        run
          .finish()
          .flatMap((r) => r.contributions)
          .find((c) => c.signal === 'projects')?.value ?? 0,
      ).toBe(0);
    }
  });
});

describe('scoreJsonlFile: workers kept in a pool between calls', () => {
  it('two calls on 2 threads score on the same worker, exactly as one thread (dedupe across parts too)', async () => {
    // Arrange: a pool with no worker yet; ids repeated across the file, so that parts are scored again.
    await closePools();
    const file = writeLines(randomLines(7, 3000));
    const options = { asOf: T, dedupe: true, accounts: ACCOUNTS };
    const one = await scoreJsonlFile(file, USER_FULL, { ...options, threads: 1 });

    // Act
    const first = await scoreJsonlFile(file, USER_FULL, { ...options, threads: 2 });
    const workersAfterFirst = poolThreadIds(scoreWorkerEntry());
    const second = await scoreJsonlFile(file, USER_FULL, { ...options, threads: 2 });
    const workersAfterSecond = poolThreadIds(scoreWorkerEntry());

    // Assert
    expect(workersAfterFirst).toHaveLength(1);
    expect(workersAfterSecond).toEqual(workersAfterFirst);
    expect(one.stats.duplicates).toBeGreaterThan(100);
    const expected = one.finish();
    expect(first.finish()).toEqual(expected);
    expect(second.finish()).toEqual(expected);
    expect(first.stats).toEqual(one.stats);
    expect(second.stats).toEqual(one.stats);
  });

  it('a part its worker cannot score fails with an error naming the worker and the file; the next call works', async () => {
    // Arrange
    const missing = join(dir, 'missing.jsonl');
    const file = writeLines(randomLines(8, 1500));
    const one = await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 1 });

    // Act
    const failed = await scorePart({
      job: { file: missing, model: USER_FULL, start: 0, end: 100, options: { asOf: T } },
    }).catch((error: unknown) => error);
    const after = await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 2 });

    // Assert
    expect(failed).toBeInstanceOf(WorkerTaskError);
    expect((failed as Error).message).toMatch(/^worker score-worker\.(ts|js) failed: /);
    expect((failed as Error).message).toContain(missing);
    expect(after.finish()).toEqual(one.finish());
  });

  it('a call that fails on this thread stops its workers; the next call works', async () => {
    // Arrange: an invalid line in part 0, whose reporter throws.
    const lines = randomLines(9, 3000);
    lines[2] = '{"name": "login", "userId": }';
    const file = writeLines(lines);
    const one = await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 1 });

    // Act
    const failed = scoreJsonlFile(file, USER_FULL, {
      asOf: T,
      threads: 3,
      onIssue: () => {
        throw new Error('reporter failed');
      },
    });
    await expect(failed).rejects.toThrow('reporter failed');
    const after = await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 3 });

    // Assert
    expect(after.finish()).toEqual(one.finish());
    expect(after.stats).toEqual(one.stats);
  });

  it('a process that scores on 2 threads exits by itself when done (idle workers do not hold it)', async () => {
    // Arrange
    const file = writeLines(randomLines(10, 1500));
    const expected = (await scoreJsonlFile(file, USER_FULL, { asOf: T, threads: 1 })).finish().length;
    const url = (path: string) => new URL(path, import.meta.url).href;
    const script = join(dir, 'score-child.mts');
    writeFileSync(
      script,
      `import { scoreJsonlFile, scoreWorkerEntry } from ${JSON.stringify(url('../../../shared/files/score-jsonl.ts'))};
import { poolThreadIds } from ${JSON.stringify(url('../../../shared/files/worker-pool.ts'))};
import { model } from ${JSON.stringify(url('../../support/engine.ts'))};
const m = model({ name: 'child', timezone: 'Europe/Berlin', signals: [{ name: 'all', event: '*', weight: 1 }] });
const run = await scoreJsonlFile(${JSON.stringify(file)}, m, { asOf: ${T}, threads: 2 });
const rows = run.finish().length;
// Its worker still in the pool as the process exits: the process did not wait for the pool to end it.
process.on('exit', () => console.log(JSON.stringify({ rows, workersAtExit: poolThreadIds(scoreWorkerEntry()).length })));
`,
    );

    // Act: a generous limit so that the test cannot hang (the child is killed then, and the exit code says so).
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (exit) => resolve(exit)));

    // Assert
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ rows: expected, workersAtExit: 1 });
  }, 180_000);
});

describe('splitAtLines', () => {
  it('cuts just after newlines, in order, covering the file', () => {
    const file = writeLines(['a', 'bb', 'ccc', 'dddd', 'eeeee']);

    const bounds = splitAtLines(file, 3);

    expect(bounds[0]).toBe(0);
    expect(bounds.at(-1)).toBe(20);
    expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
    expect(bounds.slice(1, -1).every((b) => [2, 5, 9, 14, 20].includes(b))).toBe(true);
  });
});

function parseLines(lines: string[]): ScoringEvent[] {
  return lines.map(parseEventLine).filter((e): e is ScoringEvent => typeof e !== 'string');
}

describe('ScoringRun merge', () => {
  const options = (dedupe: boolean): ScoringRunOptions => ({
    asOf: T,
    dedupe,
    accountOf: (u) => ACCOUNTS.get(u),
    traitsOf: (level, id) => (level === 'user' ? ROLES.get(id) : undefined),
  });

  it('mergeFrom of runs over consecutive parts equals one run over all (any split, any model)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(USER_FULL, POOLED, MEAN, MAX, BREAKDOWN),
        (seed, cuts, m) => {
          // Unique ids (dedupe off): parts never share an event.
          const events = parseLines(randomLines(seed, 400));
          const bounds = [0, ...[...cuts].sort((a, b) => a - b), events.length];
          const one = new ScoringRun(m, options(false));
          one.add(events);
          const merged = new ScoringRun(m, options(false));
          for (let i = 0; i + 1 < bounds.length; i++) {
            const part = new ScoringRun(m, options(false));
            part.add(events.slice(bounds[i], Math.max(bounds[i]!, bounds[i + 1]!)));
            merged.mergeFrom(part);
          }
          expect(merged.finish()).toEqual(one.finish());
          expect(merged.stats).toEqual(one.stats);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('mergeFrom refuses runs that both counted an event id (dedupe)', () => {
    const [e] = parseLines([JSON.stringify({ eventId: 'x', name: 'login', userId: 'u1', timestamp: T - DAY_MS })]);
    const a = new ScoringRun(USER_FULL, { asOf: T });
    const b = new ScoringRun(USER_FULL, { asOf: T });
    a.add([e!]);
    b.add([e!]);

    expect(() => a.mergeFrom(b)).toThrow(/1 event id/);
  });

  it('importState refuses the state of another model', () => {
    const a = new ScoringRun(USER_FULL, { asOf: T });
    const b = new ScoringRun(POOLED, { asOf: T });

    expect(() => a.importState(b.exportState())).toThrow(/another model/);
  });
});
