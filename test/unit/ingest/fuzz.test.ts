import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryAlertStore } from '../../../shared/adapters/memory/alert-sink.js';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { InMemoryOverrideStore } from '../../../shared/adapters/memory/override-store.js';
import { InMemoryRunStore } from '../../../shared/adapters/memory/run-store.js';
import { InMemoryScoreStore } from '../../../shared/adapters/memory/score-store.js';
import { type LoadedModel, modelContentHash } from '../../../shared/domain/model/load.js';
import { apiRoutes } from '../../../shared/http/api-routes.js';
import { API_MAX_BODY_BYTES, createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';
import { model } from '../../support/engine.js';

/**
 * 10,000 malformed and hostile requests against the in-process app (ingest and the scores API): never a 5xx or a
 * crash, and every rejection names where it is. Hostile shapes (docs/api.md#limits): ids past 256 UTF-8 bytes, lone
 * surrogates and control characters, nesting up to 5,000 deep, trait growth past the entity limits, impossible
 * dates, crafted cursors, oversized bodies.
 */
const NOW = Date.UTC(2026, 10, 1, 12);
const ROUTES = ['/v1/events', '/v1/batch', '/v1/track', '/v1/identify', '/v1/group', '/v1/page', '/v1/screen'];
const API_BODY_ROUTES: [string, string][] = [
  ['POST', '/v1/runs'],
  ['PUT', '/v1/overrides/user/u1'],
  ['POST', '/v1/models/activity/shadow'],
];
const TOKEN = 'fuzz-token';

const activity = model({
  name: 'activity',
  signals: [{ name: 'logins', event: 'login', weight: 10 }],
  bands: [{ name: 'low' }, { name: 'high', min: 50 }],
});
const models: LoadedModel[] = [{ model: activity, file: 'activity.yaml', contentHash: modelContentHash(activity) }];

const unexpected: unknown[] = [];
const entities = new InMemoryEntityStore();
const app = createApp({
  ingest: {
    events: new InMemoryEventStore(),
    entities,
    writeKeys: staticWriteKeys(['k']),
    clock: () => NOW,
    telemetry: { record: () => {} },
  },
  apiRoutes: apiRoutes({
    auth: { mode: 'token', token: TOKEN },
    models: () => models,
    scores: new InMemoryScoreStore(),
    runs: new InMemoryRunStore(() => NOW),
    alerts: new InMemoryAlertStore(),
    entities,
    overrides: new InMemoryOverrideStore(),
    // Accepts what the route lets through: the fuzz is about what reaches it, not about running it.
    launcher: { start: async () => ({ runId: 'fuzz-run', status: 'queued' }) },
    clock: () => NOW,
  }),
  logger: { error: (...args: unknown[]) => unexpected.push(args), warn: () => {} },
});
const headers = { authorization: `Basic ${Buffer.from('k:').toString('base64')}`, 'content-type': 'application/json' };
const bearer = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function send(route: string, body: string | Uint8Array, method = 'POST', auth = headers): Promise<Answer> {
  const res = await app.request(route, { method, headers: auth, ...(method === 'GET' ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

function assertWellFormed(answer: Answer, total?: number): void {
  expect([200, 202, 204, 400, 404, 413]).toContain(answer.status);
  if (answer.status === 204) return;
  if (answer.status === 200) {
    expect(answer.body).toEqual({ success: true });
    return;
  }
  const rejected = (answer.body.rejected ?? []) as { index: number; errors: { path: string; message: string }[] }[];
  for (const r of rejected) {
    expect(Number.isInteger(r.index)).toBe(true);
    expect(r.errors.length).toBeGreaterThan(0);
    for (const e of r.errors) expect(typeof e.path === 'string' && e.message.length > 0).toBe(true);
  }
  if (answer.status === 202) {
    if (total !== undefined) {
      const counted = (answer.body.accepted as number) + (answer.body.duplicates as number) + rejected.length;
      expect(counted).toBe(total);
    }
    return;
  }
  // A problem: every error names a field (a non-empty path) and says why.
  const errors = answer.body.errors as { path: string; message: string }[];
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    expect(e.path.length).toBeGreaterThan(0);
    expect(e.message.length).toBeGreaterThan(0);
  }
}

const anyValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
/** Ids past the byte limits, multibyte at the limit, lone surrogates, control characters. */
const hostileId = fc.oneof(
  fc.constantFrom(
    '😀'.repeat(64),
    '😀'.repeat(65),
    '😀'.repeat(256),
    'é'.repeat(128),
    'é'.repeat(129),
    'a#b',
    'x'.repeat(257),
  ),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => `u${String.fromCharCode(c)}`),
  fc
    .integer({ min: 0, max: 0x9f })
    .filter((c) => c < 0x20 || c >= 0x7f)
    .map((c) => `u${String.fromCharCode(c)}`),
  fc.string({ unit: 'binary', maxLength: 80 }),
);
/** A stand-in for a value nested `levels` deep, spliced in as text (building it would recurse that deep). */
class Deep {
  constructor(readonly levels: number) {}
}
const deepValue = fc.integer({ min: 1, max: 5_000 }).map((n) => new Deep(n));
const deepJson = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
/** JSON text of a value that may hold Deep stand-ins. */
function toJson(value: unknown): string {
  const deep: number[] = [];
  const text = JSON.stringify(value, (_, v) => {
    if (!(v instanceof Deep)) return v;
    deep.push(v.levels);
    return `__deep_${deep.length - 1}__`;
  });
  return text.replace(/"__deep_(\d+)__"/g, (_, i: string) => deepJson(deep[Number(i)]!));
}
/** Many traits at once: past 256 in one call, or growing an entity past it over several. */
const manyTraits = fc
  .tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 300 }), fc.string({ maxLength: 3 }))
  .map(([n, size, prefix]) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v'.repeat(size)])),
  );

const timestamp = fc.oneof(
  fc.integer({ min: NOW - 500 * 86_400_000, max: NOW + 3_600_000 }),
  fc.integer({ min: NOW - 500 * 86_400_000, max: NOW + 3_600_000 }).map((t) => new Date(t).toISOString()),
  anyValue,
);
/** Event-shaped objects where any field may be missing, of the wrong type, or unexpected. */
const eventLike = fc.record(
  {
    eventId: fc.oneof(fc.string({ maxLength: 300 }), anyValue, hostileId),
    name: fc.oneof(fc.constantFrom('login', 'project_created', ''), anyValue),
    userId: fc.oneof(fc.constantFrom('u1', 'u2', ' '), anyValue, hostileId),
    accountId: fc.oneof(fc.constantFrom('a1'), anyValue, hostileId),
    timestamp,
    properties: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
      anyValue,
      deepValue.map((d) => ({ nested: d })),
    ),
    type: fc.oneof(fc.constantFrom('track', 'identify', 'group', 'page', 'screen', 'alias'), anyValue),
    event: fc.oneof(fc.constantFrom('login'), anyValue),
    messageId: fc.oneof(fc.string({ maxLength: 10 }), anyValue, hostileId),
    groupId: fc.oneof(fc.constantFrom('a1'), anyValue, hostileId),
    traits: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), anyValue, manyTraits),
    context: fc.oneof(fc.record({ groupId: anyValue, traits: anyValue }, { requiredKeys: [] }), anyValue),
    junk: anyValue,
  },
  { requiredKeys: [] },
);

/** Date-like text: real dates, impossible ones (day 0–32, month 0–13, year 0–9999), instants, junk. */
const dateLike = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
    .map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 26 }), fc.integer({ min: 0, max: 61 }))
    .map(
      ([y, h, mi]) =>
        `${String(y).padStart(4, '0')}-02-28T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:00Z`,
    ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ maxLength: 30 }),
);
/** An answer of the scores API: 2xx, or a problem; a 400/413 names each bad parameter. */
function assertApiAnswer(answer: Answer): void {
  expect([200, 202, 204, 400, 404, 413]).toContain(answer.status);
  if (answer.status < 400) return;
  expect(String(answer.body.type)).toMatch(/^urn:pulse:problem:/);
  if (answer.status === 404) return;
  const errors = answer.body.errors as { path: string; message: string }[];
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) expect(e.path.length > 0 && e.message.length > 0).toBe(true);
}

/** A path segment for any string: a lone surrogate (no UTF-8 form) is sent as its raw %-escape. */
function pathSegment(id: string): string {
  try {
    return encodeURIComponent(id);
  } catch {
    return [...id]
      .map((ch) => {
        try {
          return encodeURIComponent(ch);
        } catch {
          return '%ED%A0%80';
        }
      })
      .join('');
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Cursors: crafted positions of the score and alert lists, random JSON, random text. */
const cursorLike = fc.oneof(
  fc
    .record({
      m: fc.constantFrom('activity', 'other'),
      f: fc.constantFrom(null, 'low', 'high'),
      b: fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double()),
      a: fc.array(fc.oneof(fc.constant(null), fc.string({ maxLength: 30 })), { maxLength: 10 }),
    })
    .map(b64),
  fc.record({ b: fc.integer(), s: fc.double(), k: fc.string({ maxLength: 10 }) }).map(b64),
  fc.array(fc.oneof(fc.constant(''), fc.constant(null), fc.string({ maxLength: 40 })), { maxLength: 4 }).map(b64),
  fc.jsonValue({ maxDepth: 2 }).map(b64),
  fc.nat({ max: 1e9 }).map((n) => Buffer.from(String(n)).toString('base64url')),
  fc.string({ maxLength: 60 }),
);
const limitLike = fc.oneof(fc.integer({ min: -5, max: 2_000 }).map(String), fc.string({ maxLength: 6 }));
/** GET routes of the scores API with fuzzed query parameters. */
const apiQuery = fc.oneof(
  fc
    .record(
      {
        model: fc.constantFrom('activity', 'nope'),
        band: fc.constantFrom('low', 'high', 'x'),
        limit: limitLike,
        cursor: cursorLike,
      },
      { requiredKeys: [] },
    )
    .map((q) => `/v1/scores?${new URLSearchParams(q)}`),
  fc
    .record(
      { model: fc.constantFrom('activity', 'nope'), since: dateLike, limit: limitLike, cursor: cursorLike },
      { requiredKeys: [] },
    )
    .map((q) => `/v1/alerts?${new URLSearchParams(q)}`),
  fc
    .tuple(
      fc.oneof(fc.constantFrom('u1', 'a1'), hostileId),
      fc.record({ from: dateLike, to: dateLike }, { requiredKeys: [] }),
    )
    .map(([id, q]) => `/v1/scores/user/${pathSegment(id)}/history?${new URLSearchParams(q)}`),
  fc
    .record({ model: fc.constantFrom('activity', 'nope'), limit: limitLike }, { requiredKeys: [] })
    .map((q) => `/v1/runs?${new URLSearchParams(q)}`),
);
/** Bodies of the scores API's write routes: run requests and overrides with fuzzed dates, shadow drafts, junk. */
const apiBody = fc.oneof(
  fc
    .record(
      { model: fc.constantFrom('activity', 'nope'), asOf: dateLike, from: dateLike, to: dateLike },
      { requiredKeys: ['model'] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        model: fc.constantFrom('activity'),
        band: fc.constantFrom('low', 'high', 'x'),
        score: fc.oneof(fc.double(), anyValue),
        reason: fc.string({ maxLength: 10 }),
        expiresAt: dateLike,
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.record({ draft: fc.oneof(anyValue, deepValue), asOf: dateLike }, { requiredKeys: [] }).map(toJson),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 100 }),
  fc.constant(' '.repeat(API_MAX_BODY_BYTES + 1)),
);

/**
 * A fuzz case: `numRuns` runs of `property`, then no error logged on the way (an error log means a 500 was hidden
 * behind a well-formed answer).
 */
function fuzzes<Ts extends [unknown, ...unknown[]]>(title: string, numRuns: number, property: fc.IAsyncProperty<Ts>) {
  it(title, { timeout: 240_000 }, async () => {
    await fc.assert(property, { numRuns });
    expect(unexpected).toEqual([]);
  });
}

describe('ingest and API fuzzing', () => {
  fuzzes(
    'never answers 5xx to arbitrary bodies on any route, and names the field of every rejection',
    3_000,
    fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        fc.uint8Array({ maxLength: 200 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v).slice(0, -1)),
        deepValue.map((d) => toJson({ userId: 'u1', event: 'login', properties: d, traits: d })),
        fc.constant(' '.repeat(600 * 1024)),
      ),
      async (route, body) => assertWellFormed(await send(route, body)),
    ),
  );

  fuzzes(
    'counts every event of a fuzzed batch exactly once: accepted, duplicate or rejected by index and field',
    1_500,
    fc.asyncProperty(
      fc.constantFrom('/v1/events', '/v1/batch'),
      fc.array(eventLike, { minLength: 1, maxLength: 8 }),
      async (route, items) => {
        const body = route === '/v1/events' ? { events: items } : { batch: items };
        const answer = await send(route, toJson(body));
        assertWellFormed(answer, route === '/v1/events' ? items.length : undefined);
      },
    ),
  );

  fuzzes(
    'answers fuzzed API queries (impossible dates, crafted cursors, limits) with 2xx or a 4xx naming the parameter',
    4_000,
    fc.asyncProperty(apiQuery, async (path) => assertApiAnswer(await send(path, '', 'GET', bearer))),
  );

  fuzzes(
    'answers fuzzed API bodies (run requests, overrides, shadow drafts, oversized) with 2xx or a 4xx',
    1_500,
    fc.asyncProperty(fc.constantFrom(...API_BODY_ROUTES), apiBody, async ([method, path], body) =>
      assertApiAnswer(await send(path, body, method, bearer)),
    ),
  );
});
