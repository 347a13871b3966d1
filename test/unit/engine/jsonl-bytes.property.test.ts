import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { contentEventId, NativeEventSchema, type ScoringEvent, toEpochMillis } from '../../../shared/domain/event.js';
import { type JsonlReadIssue, readJsonlEvents } from '../../../shared/files/jsonl-events.js';

/**
 * The byte-level reader against the validating path it must equal: the file decoded as UTF-8, split into lines
 * at \n, \r\n and lone \r, each line JSON.parse'd and checked by the zod schema alone. Generated files mix valid events
 * written with every JSON spelling (escapes, \u sequences, unicode, every number form, nested properties, odd
 * whitespace), events the schema rejects, malformed lines and invalid UTF-8, with any line ends, blank lines, a
 * byte order mark or none, and a missing final newline; they are read in chunks as small as a few bytes.
 */

const dir = mkdtempSync(join(tmpdir(), 'pulse-jsonl-bytes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

/** A JSON number's text, any form the grammar allows: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,17}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,6}$/)),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,3}$/))),
  )
  .map(
    ([negative, int, frac, exp]) =>
      `${negative ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : exp.join('')}`,
  );

/** A JSON value held with the exact text of its numbers. */
class RawNumber {
  constructor(readonly text: string) {}
}

type Json = null | boolean | string | RawNumber | Json[] | { [key: string]: Json };

const jsonString = fc.oneof(
  { arbitrary: fc.constantFrom('login', 'premium', 'u-1', 'a'.repeat(30)), weight: 3 },
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('', ' padded ', 'quote " back \\ slash /', 'tab\tnew\nline', '\u2028\u2029', 'ü€😀', '\ud800'),
);

const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    jsonString,
    numberText.map((t) => new RawNumber(t)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(jsonString, tie('value'), { maxKeys: 3 }),
  ),
})).value;

/**
 * JSON text with varied spelling: each string character escaped or not (\uXXXX, or the short escape), spaces and
 * tabs between tokens. `choice` gives the decisions (0..1).
 */
function write(value: Json, choice: () => number): string {
  const space = () => ['', '', ' ', '\t', '  '][Math.floor(choice() * 5)]!;
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return writeString(value, choice);
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value))
    return `[${space()}${value.map((v) => write(v, choice)).join(`${space()},${space()}`)}${space()}]`;
  const entries = Object.entries(value).map(
    ([k, v]) => `${space()}${writeString(k, choice)}${space()}:${space()}${write(v, choice)}${space()}`,
  );
  return `{${entries.join(',')}}`;
}

function writeString(s: string, choice: () => number): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    const must = code < 0x20 || ch === '"' || ch === '\\';
    const r = choice();
    if (code > 0xffff) {
      // Astral characters: raw, or as a \u surrogate pair.
      out += r < 0.3 ? toUnicodeEscapes(ch) : ch;
    } else if (must || r < 0.15) {
      out += r < 0.5 && JSON.stringify(ch).length === 4 ? JSON.stringify(ch).slice(1, -1) : toUnicodeEscapes(ch);
    } else if (ch === '/' && r < 0.5) out += '\\/';
    else out += ch;
  }
  return `${out}"`;
}

function toUnicodeEscapes(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) {
    const hex = ch.charCodeAt(i).toString(16).padStart(4, '0');
    out += `\\u${i % 2 === 0 ? hex : hex.toUpperCase()}`;
  }
  return out;
}

const isoInstant = fc
  .tuple(
    fc.date({ min: new Date('1960-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
    fc.constantFrom('ms', 's', 'offset', 'odd'),
  )
  .map(([d, form]) => {
    const iso = d.toISOString();
    if (form === 'ms') return iso;
    if (form === 's') return `${iso.slice(0, 19)}Z`;
    if (form === 'offset') return `${iso.slice(0, 19)}+02:00`;
    return `${iso.slice(0, 10)} ${iso.slice(11)}`; // not ISO 8601 with a T: rejected
  });

const timestamp: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: isoInstant, weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 2 ** 45 }).map((n) => new RawNumber(String(n))), weight: 2 },
  numberText.map((t) => new RawNumber(t)),
  fc.constantFrom('2026-02-31T10:00:00Z', '2026-11-20T24:00:00Z', '2026-11-20T10:00:00.1234Z', 'yesterday', ''),
);

const id = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,14}$/), weight: 5 },
  jsonString,
  fc.string({ minLength: 250, maxLength: 260 }),
);

/** An event object as entries (so keys can repeat or come in any order). */
const eventEntries = fc
  .record(
    {
      eventId: id,
      name: fc.oneof({ arbitrary: fc.constantFrom('login', 'feature_used', 'session_ended'), weight: 5 }, id),
      userId: id,
      accountId: id,
      timestamp,
      properties: fc.oneof(
        {
          arbitrary: fc.dictionary(
            fc.oneof(fc.constantFrom('minutes', 'tier', 'plan'), jsonString),
            fc.oneof({ arbitrary: numberText.map((t) => new RawNumber(t)), weight: 2 }, json),
            { maxKeys: 5 },
          ),
          weight: 6,
        },
        json,
      ),
      extra: json,
    },
    { requiredKeys: [] },
  )
  .chain((event) =>
    fc
      .tuple(
        fc.shuffledSubarray(Object.keys(event), { minLength: Object.keys(event).length }),
        fc.option(fc.constantFrom(...Object.keys(event).concat('name')), { freq: 10 }),
      )
      .map(([order, repeated]) => {
        const entries: [string, Json][] = order.map((k) => [k, (event as Record<string, Json>)[k]!]);
        if (repeated !== null) entries.push([repeated, 'again']);
        return entries;
      }),
  );

/** A mostly valid event: the required fields, usually no extra key. */
const validish = fc
  .record({
    entries: eventEntries,
    required: fc.record({ name: fc.constantFrom('login', 'feature_used'), userId: id, timestamp: isoInstant }),
  })
  .map(({ entries, required }) => {
    const keys = new Set(entries.map(([k]) => k));
    const out = entries.filter(([k]) => k !== 'extra');
    for (const [k, v] of Object.entries(required)) if (!keys.has(k)) out.push([k, v]);
    return out;
  });

function writeObject(entries: [string, Json][], choice: () => number): string {
  const space = () => ['', '', ' ', '\t'][Math.floor(choice() * 4)]!;
  return `${space()}{${entries.map(([k, v]) => `${space()}${writeString(k, choice)}${space()}:${space()}${write(v, choice)}${space()}`).join(',')}}${space()}`;
}

/** A seeded stream of decisions in [0, 1). */
function chooser(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

type Line = { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Buffer };

const lineOf: fc.Arbitrary<Line> = fc
  .tuple(
    fc.oneof(
      { arbitrary: validish, weight: 16 },
      { arbitrary: eventEntries, weight: 3 },
      { arbitrary: fc.constant(null), weight: 2 },
    ),
    fc.integer(),
    fc.constantFrom('whole', 'whole', 'whole', 'whole', 'truncated', 'corrupt', 'corrupt', 'garbage', 'bytes', 'blank'),
  )
  .map(([entries, seed, mode]): Line => {
    const choice = chooser(seed);
    if (mode === 'blank') return { kind: 'text', text: ['', ' ', '\t', '  \t'][seed & 3]! };
    if (entries === null || mode === 'garbage')
      return { kind: 'text', text: ['x', '[]', '"s"', '1', 'null', '{', '{"name":', '{}', '{"name":"a",}'][seed & 7]! };
    const text = writeObject(entries, choice);
    if (mode === 'corrupt') {
      // One stray token somewhere: usually invalid JSON that only a strict scan notices (an escape, a comma, ...).
      // Half the time just inside a string (after a quote), where only escapes and control characters are checked.
      const quotes = [...text.matchAll(/"/g)].map((m) => m.index + 1);
      const at =
        choice() < 0.5 && quotes.length > 0
          ? quotes[Math.floor(choice() * quotes.length)]!
          : Math.floor(choice() * text.length);
      const stray = ['\\x', '\\', ',', ']', '}', '0', '-', '.', 'e', '"', '\u0001', ' ', ':', 'tru', '[1,]'];
      return { kind: 'text', text: text.slice(0, at) + stray[Math.floor(choice() * stray.length)] + text.slice(at) };
    }
    if (mode === 'truncated') return { kind: 'text', text: text.slice(0, Math.floor(choice() * text.length)) };
    if (mode === 'bytes') {
      // Invalid UTF-8 inside a string value or outside any string.
      const bytes = Buffer.from(text, 'utf8');
      const at = bytes.indexOf(0x22, bytes.indexOf(0x3a)) + 1; // just inside the first value's quote, if a string
      const bad = Buffer.from([[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80]][(seed % 5) >>> 0] ?? [0xff]);
      return { kind: 'bytes', bytes: Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)]) };
    }
    return { kind: 'text', text };
  });

const fileOf = fc.record({
  lines: fc.array(lineOf, { maxLength: 12 }),
  ends: fc.array(fc.constantFrom('\n', '\n', '\n', '\r\n', '\r'), { minLength: 12, maxLength: 12 }),
  finalNewline: fc.boolean(),
  bom: fc.boolean(),
  chunkSize: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(4 << 20)),
});

function assemble(file: { lines: Line[]; ends: string[]; finalNewline: boolean; bom: boolean }): Buffer {
  const parts: Buffer[] = file.bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
  file.lines.forEach((line, i) => {
    parts.push(line.kind === 'text' ? Buffer.from(line.text, 'utf8') : line.bytes);
    if (i < file.lines.length - 1 || file.finalNewline) parts.push(Buffer.from(file.ends[i]!, 'utf8'));
  });
  return Buffer.concat(parts);
}

/** JSON value → event through the schema alone (no fast path of any kind). */
function schemaOnly(value: unknown): ScoringEvent | string {
  const parsed = NativeEventSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `${issue.path.join('.') || '(event)'}: ${issue.message}`;
  }
  const { eventId, name, userId, accountId, timestamp, properties } = parsed.data;
  const content = { name, userId, accountId, timestamp: toEpochMillis(timestamp), properties };
  return { eventId: eventId ?? contentEventId(content), ...content };
}

/** The validating path over the same bytes: decode, split lines, JSON.parse + schema. */
function reference(bytes: Buffer): { events: ScoringEvent[]; issues: JsonlReadIssue[] } {
  let text = new TextDecoder('utf-8').decode(bytes); // strips a leading BOM, replaces invalid sequences
  if (text.endsWith('\r\n')) text = text.slice(0, -2);
  else if (text.endsWith('\n') || text.endsWith('\r')) text = text.slice(0, -1);
  const events: ScoringEvent[] = [];
  const issues: JsonlReadIssue[] = [];
  text.split(/\r\n|\n|\r/).forEach((line, i) => {
    if (line === '') return;
    let result: ScoringEvent | string;
    try {
      result = schemaOnly(JSON.parse(line));
    } catch (error) {
      result = `not JSON: ${(error as Error).message}`;
    }
    if (typeof result === 'string') {
      if (line.trim() !== '') issues.push({ line: i + 1, message: result });
    } else events.push(result);
  });
  return { events, issues };
}

async function readAll(path: string, options: { chunkSize: number; propertyKeys?: ReadonlySet<string> }) {
  const issues: JsonlReadIssue[] = [];
  const events: ScoringEvent[] = [];
  for await (const page of readJsonlEvents(path, { ...options, pageSize: 3, onIssue: (i) => issues.push(i) }))
    events.push(...page);
  return { events, issues };
}

function projected(events: ScoringEvent[], keep: ReadonlySet<string>): ScoringEvent[] {
  return events.map((e) => {
    if (e.properties === undefined) return e;
    const properties: Record<string, unknown> = {};
    for (const key of keep) if (Object.hasOwn(e.properties, key)) properties[key] = e.properties[key];
    return { ...e, properties };
  });
}

describe('readJsonlEvents (byte-level) agrees with JSON.parse + the schema', () => {
  it('on generated files: the same events, the same rejections at the same line numbers', async () => {
    let valid = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(fileOf, async (spec) => {
        const bytes = assemble(spec);
        const path = join(dir, `f-${++fileCount}.jsonl`);
        writeFileSync(path, bytes);
        const expected = reference(bytes);
        valid += expected.events.length;
        rejected += expected.issues.length;

        const all = await readAll(path, { chunkSize: spec.chunkSize });
        expect(all.issues).toEqual(expected.issues);
        expect(all.events).toEqual(expected.events);

        const keep = new Set(['minutes', 'tier']);
        const some = await readAll(path, { chunkSize: spec.chunkSize, propertyKeys: keep });
        expect(some.issues).toEqual(expected.issues);
        expect(some.events).toEqual(projected(expected.events, keep));
      }),
      { numRuns: 400 },
    );
    // Both kinds are common enough for the comparison to mean something.
    expect(valid).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it('on one stray token inside properties, where the scan checks syntax without building values', async () => {
    const stray = [
      '\\x',
      '\\u12',
      '\\',
      ',',
      ']',
      '}',
      '0',
      '-',
      '.',
      'e',
      '+',
      '"',
      '\u0001',
      ':',
      'tru',
      '[1,]',
      '{}',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(jsonString, json, { minKeys: 1, maxKeys: 4 }),
        fc.integer(),
        fc.nat(stray.length - 1),
        async (properties, seed, which) => {
          const choice = chooser(seed);
          const text = write(properties, choice);
          const quotes = [...text.matchAll(/"/g)].map((m) => m.index + 1);
          const at =
            choice() < 0.6 && quotes.length > 0
              ? quotes[Math.floor(choice() * quotes.length)]!
              : Math.floor(choice() * text.length);
          const line = `{"name":"a","userId":"u","timestamp":1000,"properties":${text.slice(0, at)}${stray[which]}${text.slice(at)}}`;
          const path = join(dir, `stray-${++fileCount}.jsonl`);
          writeFileSync(path, line);
          const expected = reference(Buffer.from(line));
          for (const keep of [undefined, new Set(['tier'])]) {
            const got = await readAll(path, { chunkSize: 1 << 16, propertyKeys: keep });
            expect(got.issues).toEqual(expected.issues);
            expect(got.events).toEqual(keep ? projected(expected.events, keep) : expected.events);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    [
      'numbers in every form',
      '{"name":"a","userId":"u","timestamp":1000,"properties":{"a":-0,"b":1E400,"c":0.1e-2,"d":12345678901234567890,"e":-0.0e+0}}',
    ],
    [
      'escaped ids and keys',
      '{"name":"log\\u0069n","userId":"\\ud83d\\ude00","timestamp":1000,"properties":{"t\\/ier":"pre\\"mium"}}',
    ],
    [
      'a repeated property key',
      '{"name":"a","userId":"u","timestamp":1000,"properties":{"tier":"x","plan":1,"tier":"y"}}',
    ],
    [
      '__proto__ as a property',
      '{"name":"a","userId":"u","timestamp":1000,"properties":{"__proto__":{"tier":"x"},"tier":"y"}}',
    ],
    [
      'deep nesting',
      `{"name":"a","userId":"u","timestamp":1000,"properties":{"deep":${'['.repeat(100)}${']'.repeat(100)}}}`,
    ],
    ['an invalid escape', '{"name":"a","userId":"u","timestamp":1000,"properties":{"k":"\\x41"}}'],
    ['a leading zero', '{"name":"a","userId":"u","timestamp":1000,"properties":{"k":01}}'],
    ['a trailing comma inside properties', '{"name":"a","userId":"u","timestamp":1000,"properties":{"k":[1,]}}'],
    [
      'an event without an id',
      '{"name":"a","userId":"u","timestamp":1000,"properties":{"tier":"x","other":{"n":[1,2]}}}',
    ],
  ])('%s', async (_what, line) => {
    const path = join(dir, `case-${++fileCount}.jsonl`);
    writeFileSync(path, `${line}\n`);
    const expected = reference(Buffer.from(`${line}\n`));
    for (const chunkSize of [3, 4 << 20]) {
      const all = await readAll(path, { chunkSize });
      expect(all).toEqual(expected);
      const keep = new Set(['tier']);
      const some = await readAll(path, { chunkSize, propertyKeys: keep });
      expect(some).toEqual({ events: projected(expected.events, keep), issues: expected.issues });
    }
  });
});
