import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { scoreEvents } from '../../../shared/domain/engine/index.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import {
  type JsonlReadIssue,
  parseEventLine,
  parseEventValue,
  parseUtcInstant,
  readJsonlEvents,
} from '../../../shared/files/jsonl-events.js';
import { model } from '../../support/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'pulse-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `events-${++fileCount}.jsonl`);
  writeFileSync(path, content);
  return path;
}

async function readAll(path: string, pageSize?: number) {
  const issues: JsonlReadIssue[] = [];
  const pages: ScoringEvent[][] = [];
  for await (const page of readJsonlEvents(path, { pageSize, onIssue: (i) => issues.push(i) })) pages.push(page);
  return { pages, events: pages.flat(), issues };
}

const line = (e: Record<string, unknown>) => JSON.stringify(e);
const login = (userId: string, extra: Record<string, unknown> = {}) =>
  line({ eventId: `id-${userId}`, name: 'login', userId, timestamp: '2026-11-20T10:00:00Z', ...extra });

describe('readJsonlEvents', () => {
  it('reads events in pages of the requested size', async () => {
    const path = file(`${Array.from({ length: 7 }, (_, i) => login(`u${i}`)).join('\n')}\n`);

    const { pages, events } = await readAll(path, 3);

    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(events[0]).toEqual({
      eventId: 'id-u0',
      name: 'login',
      userId: 'u0',
      accountId: undefined,
      timestamp: Date.parse('2026-11-20T10:00:00Z'),
      properties: undefined,
    });
  });

  it('accepts LF, CRLF and lone CR line ends, blank lines, a BOM and a last line without newline', async () => {
    const path = file(`\uFEFF${login('a')}\r\n\r\n${login('b')}\r${login('c')}\n   \n${login('d')}`);

    const { events, issues } = await readAll(path);

    expect(events.map((e) => e.userId)).toEqual(['a', 'b', 'c', 'd']);
    expect(issues).toEqual([]);
  });

  it('reports bad lines with their line numbers and goes on', async () => {
    const path = file(
      [
        login('a'),
        '{not json',
        '',
        line({ name: 'login', timestamp: 1 }),
        login('b'),
        line({ name: 'x', userId: 'u', timestamp: 'yesterday' }),
      ].join('\n'),
    );

    const { events, issues } = await readAll(path);

    expect(events.map((e) => e.userId)).toEqual(['a', 'b']);
    expect(issues.map((i) => i.line)).toEqual([2, 4, 6]);
    expect(issues[0]?.message).toMatch(/^not JSON/);
    expect(issues[1]?.message).toMatch(/^userId: /);
    expect(issues[2]?.message).toMatch(/^timestamp: /);
  });

  it('keeps multi-byte characters split across read chunks intact', async () => {
    // Reads are 1 MiB: put a 4-byte emoji and accented text across that boundary.
    const filler = login('f');
    const lines: string[] = [];
    let size = 0;
    while (size < (1 << 20) - 40) {
      lines.push(filler);
      size += filler.length + 1;
    }
    lines.push(line({ name: 'emoji', userId: 'ü-😀-user', timestamp: 1, properties: { note: 'é😀'.repeat(20) } }));

    const { events, issues } = await readAll(file(`${lines.join('\n')}\n`));

    expect(issues).toEqual([]);
    expect(events.at(-1)).toMatchObject({ userId: 'ü-😀-user', properties: { note: 'é😀'.repeat(20) } });
  });

  it('feeds scoreEvents page by page', async () => {
    const path = file(
      [login('a'), login('a', { eventId: 'x2' }), login('b'), login('a', { eventId: 'id-a' })].join('\n'),
    );
    const m = model({ signals: [{ name: 'logins', event: 'login', weight: 1 }] });

    const scores = await scoreEvents(m, readJsonlEvents(path, { pageSize: 1 }), { asOf: '2026-11-24' });

    // The repeated id-a is counted once.
    expect(scores.map((s) => [s.entityId, s.rawScore])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });
});

describe('parseEventLine', () => {
  it('derives a content id when the event has none, the same for the same content', () => {
    const a = parseEventLine(line({ name: 'login', userId: 'u1', timestamp: 5, properties: { b: 1, a: 2 } }));
    const b = parseEventLine(line({ properties: { a: 2, b: 1 }, timestamp: 5, userId: 'u1', name: 'login' }));

    expect(typeof a === 'object' && a.eventId).toMatch(/^h-/);
    expect(a).toEqual(b);
  });

  it('trims names and ids as the schema does', () => {
    expect(parseEventLine(line({ name: ' login ', userId: ' u1', timestamp: 5 }))).toMatchObject({
      name: 'login',
      userId: 'u1',
    });
  });

  // The line is read by a hand-written scanner when it has the usual shape; it must give exactly what
  // JSON.parse followed by the general path gives, for any line.
  const text = fc.oneof(
    fc.constantFrom('login', 'u1', 'a-1', ' padded ', '', 'é', '😀', 'tab\there', 'quote"d', 'back\\slash', 'nl\n'),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
    // Any UTF-16, lone surrogates included (text that has no exact UTF-8 form).
    fc.string({ unit: 'binary', maxLength: 4 }),
  );
  const timestamp = fc.oneof(
    {
      arbitrary: fc
        .date({ min: new Date('1960-01-01'), max: new Date('2100-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      weight: 4,
    },
    { arbitrary: fc.integer({ min: 0, max: 2 ** 53 }), weight: 2 },
    { arbitrary: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double()), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        '2026-11-24T10:00:00Z',
        '2026-02-30T10:00:00Z',
        '2026-11-24T24:00:00.000Z',
        '2026-11-24T10:00:60Z',
        '2026-11-24T10:00Z',
        '2026-11-24T10:00:00+01:00',
        '2026-11-24T10:00:00.1234Z',
        '2026-13-01T00:00:00Z',
        '1969-12-31T23:59:59.999Z',
        '2026-11-24 10:00:00Z',
        'soon',
      ),
      weight: 2,
    },
  );
  const value = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const properties = fc.oneof(
    { arbitrary: fc.dictionary(text, value, { maxKeys: 4 }), weight: 4 },
    {
      arbitrary: fc.dictionary(
        fc.constantFrom('__proto__', 'a', '1'),
        fc.oneof(value, fc.array(value, { maxLength: 2 }), fc.dictionary(text, value, { maxKeys: 2 })),
        { maxKeys: 3 },
      ),
      weight: 2,
    },
    { arbitrary: value, weight: 1 },
  );
  const simple = fc.constantFrom('login', 'u1', 'feature_used', 'a-1');
  const eventObject = fc.record(
    {
      eventId: fc.oneof(simple, text),
      name: fc.oneof(simple, simple, text),
      userId: fc.oneof(simple, simple, text),
      accountId: fc.oneof(simple, text, fc.constant(null)),
      timestamp,
      properties,
    },
    { requiredKeys: ['name', 'userId', 'timestamp'], noNullPrototype: true },
  );
  const lineOf = fc
    .tuple(eventObject, fc.option(value, { freq: 8 }), fc.constantFrom(0, 1, 2), fc.constantFrom('', ' ', '\t'))
    .map(([e, extra, indent, pad]) => {
      // Sometimes an unknown key (the event is rejected); vary the whitespace JSON allows.
      const object = extra === null ? e : { ...e, extra };
      const json = indent === 0 ? JSON.stringify(object) : JSON.stringify(object, null, indent).replaceAll('\n', ' ');
      return `${pad}${json}${pad}`;
    });

  it('gives exactly what JSON.parse and the general path give, for any line', () => {
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof(lineOf, lineOf, fc.string({ maxLength: 40 })), (l) => {
        let expected: ScoringEvent | string;
        try {
          expected = parseEventValue(JSON.parse(l));
        } catch (error) {
          expected = `not JSON: ${(error as Error).message}`;
        }
        if (typeof expected === 'object') valid++;

        expect(parseEventLine(l)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
    // Enough generated lines are valid events for the comparison to mean something.
    expect(valid).toBeGreaterThan(100);
  });

  it.each([
    '{"name":"a","userId":"u","timestamp":1e3}',
    '{"name":"a","userId":"u","timestamp":1000.0}',
    '{"name":"a","userId":"u","timestamp":0}',
    '{"name":"a","userId":"u","timestamp":-1}',
    '{"name":"a","userId":"u","timestamp":1000,}',
    '{"name":"a","userId":"u","timestamp":1000}x',
    '{"name":"a","name":"b","userId":"u","timestamp":1000}',
    '{"na\\u006de":"a","userId":"u","timestamp":1000}',
    '{"name":"a\\u0062","userId":"u","timestamp":1000,"properties":{"k":"v\\n","n":-0.5e-3,"t":true,"f":false,"z":null}}',
    '{"name":"a","userId":"u","timestamp":1000,"properties":{"k":{"deep":[1,{"x":"}"}]},"s":"]"}}',
    '{"name":"a","userId":"u","timestamp":1000,"properties":{"__proto__":{"polluted":true}}}',
    '{"name":"a","userId":"u","timestamp":1000,"properties":{"k":01}}',
    '{"name":"a","userId":"u","timestamp":1000,"properties":[]}',
    '  {  "name" : "a" , "userId" : "u" , "timestamp" : 1000 , "properties" : { } }  ',
    // Lone surrogates written as they are (not escaped): no UTF-8 form, so the byte reader must not see them.
    '{"name":"a","userId":"u\ud800","timestamp":1000}',
    '{"name":"a\udc00b","userId":"u","timestamp":1000}',
    '{"name":"a","userId":"u","timestamp":1000,"properties":{"k":"\ud83d"}}',
  ])('reads %s as JSON.parse would', (l) => {
    let expected: ScoringEvent | string;
    try {
      expected = parseEventValue(JSON.parse(l));
    } catch (error) {
      expected = `not JSON: ${(error as Error).message}`;
    }

    expect(parseEventLine(l)).toEqual(expected);
  });

  it('reads the common UTC instant forms exactly as Date.parse does, and declines the rest', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }),
        fc.boolean(),
        (d, withMs) => {
          const iso = withMs ? d.toISOString() : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
          const parsed = parseUtcInstant(iso);

          if (d.getUTCFullYear() < 1970) expect(parsed).toBeNaN();
          else expect(parsed).toBe(Date.parse(iso));
        },
      ),
      { numRuns: 1000 },
    );
    // Days past a month's end: the schema rejects them, so the fast path declines them too.
    expect(parseUtcInstant('2024-02-29T10:00:00Z')).toBe(Date.parse('2024-02-29T10:00:00Z'));
    for (const s of ['2026-02-29T10:00:00Z', '2026-02-30T10:00:00Z', '2026-04-31T10:00:00Z', '2100-02-29T00:00:00Z']) {
      expect(parseUtcInstant(s)).toBeNaN();
    }
    for (const s of ['2026-11-24T24:00:00Z', '2026-11-24T10:00:00+00:00', '2026-11-24T10:00Z', '2026-1-24T10:00:00Z']) {
      expect(parseUtcInstant(s)).toBeNaN();
    }
  });
});

describe('readJsonlEvents with only some property keys', () => {
  it('gives each event its own, changeable properties object, also when none of the keys is there', async () => {
    const path = file(
      `${[
        login('a', { properties: { tier: 'basic' } }),
        login('b', { properties: { tier: 'pro', minutes: 4 } }),
        login('c', { properties: {} }),
        login('d', { properties: { tier: 'basic' } }),
      ].join('\n')}\n`,
    );

    const events: ScoringEvent[] = [];
    for await (const page of readJsonlEvents(path, { propertyKeys: new Set(['minutes']) })) events.push(...page);

    expect(events.map((e) => e.properties)).toEqual([{}, { minutes: 4 }, {}, {}]);
    expect(events[0]!.properties).not.toBe(events[3]!.properties);
    for (const e of events) expect(Object.isFrozen(e.properties)).toBe(false);
  });
});

describe('EventLineScanner past its intern limit', () => {
  it('reads ids it no longer interns as they come, with the same checks', async () => {
    const { EventLineScanner } = await import('../../../shared/files/event-bytes.js');
    const scanner = new EventLineScanner(undefined, { internLimit: 2 });
    const read = (userId: string, accountId?: string) => {
      const bytes = Buffer.from(login(userId, accountId === undefined ? {} : { accountId }));
      return scanner.scanFields(bytes, 0, bytes.length)
        ? { userId: scanner.userId, accountId: scanner.accountId, userKey: scanner.userKey }
        : null;
    };

    const seen = ['a', 'b', 'c', 'ü', 'a', 'c'].map((u, i) => read(u, i % 2 === 0 ? `acct-${u}` : undefined));

    expect(seen.map((s) => [s?.userId, s?.accountId])).toEqual([
      ['a', 'acct-a'],
      ['b', undefined],
      ['c', 'acct-c'],
      ['ü', undefined],
      ['a', 'acct-a'],
      ['c', undefined],
    ]);
    // a and b took the two user keys (ü is not ASCII: never a key); every later user has none.
    expect(seen.map((s) => s?.userKey)).toEqual([0, 1, -1, -1, 0, -1]);
    expect(read('d ')).toBeNull();
    expect(read('e', ' f')).toBeNull();
    expect(read('a', 'acct-a ')).toBeNull();
  });
});

describe('readJsonlEvents timestamps of one day in a row', () => {
  it('reads each as Date.parse does and refuses the invalid ones, whatever came before', async () => {
    const stamps = [
      '2026-11-08T10:00:00Z',
      '2026-11-08T25:00:00Z',
      '2026-11-08T10:00:00.123Z',
      '2026-11-08T10:61:00.123Z',
      '2026-11-08T10:00:00+01:00',
      '2026-11-08T23:59:59.999Z',
      '2026-11-08X10:00:00Z',
      '2026-11-09T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-02-28T00:00:00Z',
    ];
    const path = file(`${stamps.map((timestamp, i) => login(`u${i}`, { timestamp })).join('\n')}\n`);

    const { events, issues } = await readAll(path);

    const valid = stamps.filter((t) => !Number.isNaN(Date.parse(t)) && !t.includes('X') && !t.startsWith('2026-02-30'));
    expect(events.map((e) => e.timestamp)).toEqual(valid.map((t) => Date.parse(t)));
    expect(issues.map((i) => i.line)).toEqual([2, 4, 7, 9]);
  });
});
