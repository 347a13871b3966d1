import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiTarget } from '../../../shared/cli/client.js';
import { ingestCommand } from '../../../shared/cli/commands/ingest.js';
import { capturedIO, runPulseCli } from '../../support/cli.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'pulse-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const buffers = () => capturedIO({ PULSE_DATA_DIR: join(work, 'data') }, ROOT);
const cli = (...args: string[]) => runPulseCli(args, { PULSE_DATA_DIR: join(work, 'data') }, ROOT);

describe('pulse --help', () => {
  it.each([
    ['validate', '<dir|file>'],
    ['ingest', '--write-key'],
    ['run', '--as-of'],
    ['scores', '--band'],
    ['show', '--model'],
    ['alerts', '--since'],
    ['cost', '--events-per-month'],
    ['shadow', '--compare-with'],
    ['calibrate', '--snapshots'],
  ])('%s --help explains its flags and exits 0', async (command, flag) => {
    // Act
    const result = await cli(command, '--help');

    // Assert
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Usage: pulse ${command}`);
    expect(result.out).toContain(flag);
    expect(result.out).toContain('Example');
  });

  it('lists every command, calibrate included', async () => {
    const result = await cli('--help');
    for (const command of ['validate', 'ingest', 'run', 'scores', 'cost', 'shadow', 'calibrate'])
      expect(result.out).toContain(command);
  });

  it('prints the help and exits 2 without a command', async () => {
    const result = await cli();
    expect(result.code).toBe(2);
    expect(result.err).toContain('Usage: pulse');
  });
});

describe('pulse usage errors exit 2 with what to fix', () => {
  it.each([
    [['run'], "missing required argument 'model'"],
    [['run', 'customer', '--as-of', '01/03/2026'], '--as-of must be a calendar date like 2026-03-01'],
    [
      ['run', 'customer', '--as-of', '2026-02-30'],
      '--as-of must be a calendar date like 2026-03-01 (got "2026-02-30")',
    ],
    [['run', 'customer', '--from', '2026-02-30', '--to', '2026-03-02'], '--from must be a calendar date'],
    [['run', 'customer', '--from', '2026-02-01', '--to', '2026-02-29'], '--to must be a calendar date'],
    [['run', 'customer', '--from', '1000-01-01', '--to', '2999-12-31'], 'a backfill covers at most 366 dates'],
    [['alerts', '--since', '2026-02-30'], '--since must be a calendar date like 2026-03-01 or an instant'],
    [['alerts', '--since', '2026-03-01T25:00:00Z'], '--since must be a calendar date'],
    [['run', 'customer', '--as-of', '2026-03-01', '--from', '2026-02-01', '--to', '2026-02-02'], 'not both'],
    [['run', 'customer', '--from', '2026-02-01'], 'needs both --from and --to'],
    [['run', 'customer', '--from', '2026-02-05', '--to', '2026-02-01'], '--from must not be after --to'],
    [['scores', '--limit', '0'], '--limit must be a whole number from 1 to 1,000'],
    [['cost', '--entities', '10'], "required option '--events-per-month <n>'"],
    [['cost', '--events-per-month', 'lots', '--entities', '10'], '--events-per-month must be a whole number'],
    [['ingest', 'events.txt'], 'give a .jsonl'],
    [['ingest', 'missing.jsonl'], 'does not exist'],
    [['validate', 'no/such/dir'], 'does not exist'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['shadow'], "missing required argument 'draft-model-file'"],
    [['shadow', 'models/customer.yaml', '--as-of', 'tomorrow'], '--as-of must be a calendar date like 2026-03-01'],
    [['shadow', 'no/such/draft.yaml'], 'no/such/draft.yaml does not exist'],
    [['calibrate', '--model', 'customer', '--outcomes', 'x.csv', '--horizon-days', 'soon'], '--horizon-days must be'],
    [['calibrate', '--outcomes', 'x.csv', '--bogus'], "unknown option '--bogus'"],
  ])('%j', async (args, message) => {
    // Act
    const result = await cli(...args);

    // Assert
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('pulse validate', () => {
  it('prints file:line: path: reason for a broken model and exits 1', async () => {
    // Act
    const result = await cli('validate', 'test/fixtures/bad-models/broken.yaml');

    // Assert
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^test\/fixtures\/bad-models\/broken\.yaml:5: windowDays: .+/m);
  });

  it('accepts the example models and exits 0', async () => {
    const result = await cli('validate', 'models');
    expect(result.code).toBe(0);
    expect(result.out).toContain('3 models valid');
  });
});

describe('pulse cost', () => {
  it('prints a table of line items and the total', async () => {
    // Act
    const result = await cli('cost', '--events-per-month', '10000000', '--entities', '50000');

    // Assert
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/SERVICE\s+ITEM\s+QUANTITY\s+UNIT\s+USD\/MONTH/);
    expect(result.out).toMatch(/DynamoDB\s+event writes\s+20,000,000/);
    expect(result.out).toMatch(/Total: \$\d+/);
  });

  it('prints JSON with --json', async () => {
    const result = await cli('cost', '--events-per-month', '1000000', '--entities', '1000', '--json');
    expect(JSON.parse(result.out).input).toMatchObject({ eventsPerMonth: 1_000_000, entities: 1000 });
  });
});

/** A target whose ingest endpoint fails (503) on the given request numbers, counting what it receives. */
function fakeTarget(failOn: Set<number>) {
  const received: string[] = [];
  let requests = 0;
  const target: ApiTarget = {
    label: 'fake',
    baseUrl: 'http://fake/',
    writeKey: 'wk',
    close: async () => {},
    fetch: async (request) => {
      requests++;
      if (failOn.has(requests)) return new Response('{"title":"down"}', { status: 503 });
      const { events } = (await request.json()) as { events: { eventId?: string; name?: string }[] };
      const rejected = events.flatMap((e, index) =>
        e.name ? [] : [{ index, errors: [{ path: 'name', message: 'is required' }] }],
      );
      for (const e of events) if (e.name) received.push(e.eventId!);
      return Response.json({ accepted: events.length - rejected.length, duplicates: 0, rejected }, { status: 202 });
    },
  };
  return { target, received, requests: () => requests };
}

/** A JSONL file of `count` login events `e0`, `e1`, …; those for which `lacksName(i)` have no name (rejected). */
function eventsFile(name: string, count: number, lacksName: (i: number) => boolean): string {
  const file = join(work, name);
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify(
      lacksName(i) ? { eventId: `e${i}`, userId: 'u' } : { eventId: `e${i}`, name: 'login', userId: 'u', timestamp: 1 },
    ),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The checkpoint an interrupted ingest of `file` left, once its error said how to resume. */
function checkpointAfter(failed: unknown, file: string) {
  expect(failed).toBeInstanceOf(Error);
  expect((failed as Error).message).toContain('run the same command again to resume');
  return JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8'));
}

/**
 * A resumed ingest that reached the end of `file`: the summary covers the whole file, the first rejected line is
 * named for its missing name, the command fails for the rejected lines, and the checkpoint is gone.
 */
function expectResumedToEnd(
  file: string,
  io: ReturnType<typeof buffers>,
  outcome: unknown,
  [summary, firstRejected, failure]: [summary: string, firstRejectedLine: string, failure: string],
) {
  expect(io.out()).toContain(summary);
  expect(io.err()).toContain(`${firstRejected}: name: is required`);
  expect((outcome as Error).message).toContain(failure);
  expect(existsSync(`${file}.checkpoint.json`)).toBe(false);
}

describe('pulse ingest (resumable)', () => {
  it('batches at most 500 events, keeps a checkpoint when interrupted and resumes after the last acknowledged line', async () => {
    // Arrange: 1100 events, line 1050 lacks a name; the second request fails for good.
    const file = eventsFile('events.jsonl', 1100, (i) => i === 1049);
    const first = fakeTarget(new Set([2]));
    const io = buffers();

    // Act
    const failed = await ingestCommand({ file, attempts: 1, concurrency: 1 }, first.target, io).catch((e: Error) => e);
    const checkpoint = checkpointAfter(failed, file);
    const second = fakeTarget(new Set());
    const io2 = buffers();
    const code = await ingestCommand({ file }, second.target, io2).catch((e: Error) => e);

    // Assert
    expect(checkpoint).toMatchObject({ line: 500, accepted: 500 });
    expect(first.received).toHaveLength(500);
    expect(second.received[0]).toBe('e500');
    expect(second.received).toHaveLength(599);
    expect(second.requests()).toBe(2);
    expectResumedToEnd(file, io2, code, [
      'accepted 1099, duplicates 0, rejected 1',
      'line 1050',
      '1 line was rejected',
    ]);
  });

  it('sends batches concurrently, commits them in file order, and resumes exactly after a failure among them', async () => {
    // Arrange: 40 batches of 25 events answered in a shuffled order (4 in flight); every 10th line lacks a name. The
    // 7th batch (lines 151-175) fails for good, while later ones are answered: a resume must send only what was not
    // acknowledged.
    const file = eventsFile('concurrent.jsonl', 1000, (i) => i % 10 === 9);
    const slowly = (fake: ReturnType<typeof fakeTarget>, delays: number[], failing?: string) => {
      let call = 0;
      return {
        ...fake.target,
        fetch: async (request: Request) => {
          await new Promise((r) => setTimeout(r, delays[call++ % delays.length]));
          const body = (await request.clone().json()) as { events: { eventId: string }[] };
          if (body.events[0]?.eventId === failing) return new Response('{"title":"down"}', { status: 503 });
          return fake.target.fetch(request);
        },
      } as ApiTarget;
    };
    const first = fakeTarget(new Set());
    const second = fakeTarget(new Set());

    // Act
    const failed = await ingestCommand(
      { file, attempts: 1, batchSize: 25, concurrency: 4 },
      slowly(first, [30, 5, 20, 1, 12, 3], 'e150'),
      buffers(),
    ).catch((e: Error) => e);
    const checkpoint = checkpointAfter(failed, file);
    const io = buffers();
    const code = await ingestCommand({ file, batchSize: 25, concurrency: 4 }, slowly(second, [1, 9, 4]), io).catch(
      (e: Error) => e,
    );

    // Assert: the checkpoint stops before the failed batch and lists what was acknowledged after it; together the two
    // runs sent each line once and the summary is the whole file's.
    expect(checkpoint.line).toBe(150);
    expect(checkpoint.acknowledged.length).toBeGreaterThan(0);
    expect(checkpoint.acknowledged.every((r: { from: number }) => r.from > 175)).toBe(true);
    expect(first.received).not.toContain('e150');
    expect(checkpoint.accepted).toBe(first.received.length);
    const sent = [...first.received, ...second.received];
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent).toHaveLength(900);
    expect(second.received).toContain('e150');
    expectResumedToEnd(file, io, code, [
      'accepted 900, duplicates 0, rejected 100',
      'line 160',
      '100 lines were rejected',
    ]);
  });

  it('retries a 503 before giving up', async () => {
    // Arrange
    const file = join(work, 'few.jsonl');
    writeFileSync(file, '{"name":"login","userId":"u","timestamp":1,"eventId":"a"}\n');
    const flaky = fakeTarget(new Set([1]));
    const io = buffers();

    // Act
    const code = await ingestCommand({ file, retryDelayMs: 1 }, flaky.target, io);

    // Assert
    expect(code).toBe(0);
    expect(flaky.requests()).toBe(2);
    expect(io.out()).toContain('accepted 1, duplicates 0, rejected 0');
  });

  it('reads CSV with a header, typed property columns and quoted fields', async () => {
    // Arrange
    const file = join(work, 'events.csv');
    writeFileSync(
      file,
      'eventId,name,userId,accountId,timestamp,minutes,plan\n' +
        'c1,session_ended,u1,acme,2026-03-01T10:00:00Z,42,"pro, annual"\n' +
        'c2,login,u2,,1772359200000,,\n',
    );
    const seen: unknown[] = [];
    const target: ApiTarget = {
      ...fakeTarget(new Set()).target,
      fetch: async (request) => {
        const { events } = (await request.json()) as { events: unknown[] };
        seen.push(...events);
        return Response.json({ accepted: events.length, duplicates: 0, rejected: [] }, { status: 202 });
      },
    };

    // Act
    const code = await ingestCommand({ file }, target, buffers());

    // Assert
    expect(code).toBe(0);
    expect(seen).toEqual([
      {
        eventId: 'c1',
        name: 'session_ended',
        userId: 'u1',
        accountId: 'acme',
        timestamp: '2026-03-01T10:00:00Z',
        properties: { minutes: 42, plan: 'pro, annual' },
      },
      { eventId: 'c2', name: 'login', userId: 'u2', timestamp: 1772359200000 },
    ]);
  });
});

describe('bin/pulse.mjs', () => {
  it('runs the CLI through tsx as the package bin (calibrate --help included)', () => {
    // Act
    const result = spawnSync(process.execPath, [join(ROOT, 'bin/pulse.mjs'), 'calibrate', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });

    // Assert
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--outcomes');
  });
});
