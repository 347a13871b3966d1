import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';

/** Thousands of malformed bodies and events: never a 5xx or a crash, and every rejection names where it is. */
const NOW = Date.UTC(2026, 10, 1, 12);
const ROUTES = ['/v1/events', '/v1/batch', '/v1/track', '/v1/identify', '/v1/group', '/v1/page', '/v1/screen'];

const unexpected: unknown[] = [];
const app = createApp({
  ingest: {
    events: new InMemoryEventStore(),
    entities: new InMemoryEntityStore(),
    writeKeys: staticWriteKeys(['k']),
    clock: () => NOW,
    telemetry: { record: () => {} },
  },
  logger: { error: (...args: unknown[]) => unexpected.push(args), warn: () => {} },
});
const headers = { authorization: `Basic ${Buffer.from('k:').toString('base64')}`, 'content-type': 'application/json' };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function send(route: string, body: string | Uint8Array): Promise<Answer> {
  const res = await app.request(route, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}

function assertWellFormed(answer: Answer, total?: number): void {
  expect([200, 202, 400, 413]).toContain(answer.status);
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
const timestamp = fc.oneof(
  fc.integer({ min: NOW - 500 * 86_400_000, max: NOW + 3_600_000 }),
  fc.integer({ min: NOW - 500 * 86_400_000, max: NOW + 3_600_000 }).map((t) => new Date(t).toISOString()),
  anyValue,
);
/** Event-shaped objects where any field may be missing, of the wrong type, or unexpected. */
const eventLike = fc.record(
  {
    eventId: fc.oneof(fc.string({ maxLength: 300 }), anyValue),
    name: fc.oneof(fc.constantFrom('login', 'project_created', ''), anyValue),
    userId: fc.oneof(fc.constantFrom('u1', 'u2', ' '), anyValue),
    accountId: fc.oneof(fc.constantFrom('a1'), anyValue),
    timestamp,
    properties: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), anyValue),
    type: fc.oneof(fc.constantFrom('track', 'identify', 'group', 'page', 'screen', 'alias'), anyValue),
    event: fc.oneof(fc.constantFrom('login'), anyValue),
    messageId: fc.oneof(fc.string({ maxLength: 10 }), anyValue),
    groupId: fc.oneof(fc.constantFrom('a1'), anyValue),
    traits: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), anyValue),
    context: fc.oneof(fc.record({ groupId: anyValue, traits: anyValue }, { requiredKeys: [] }), anyValue),
    junk: anyValue,
  },
  { requiredKeys: [] },
);

describe('ingest fuzzing', () => {
  it('never answers 5xx to arbitrary bodies on any route, and names the field of every rejection', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc.uint8Array({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v).slice(0, -1)),
        ),
        async (route, body) => assertWellFormed(await send(route, body)),
      ),
      { numRuns: 1000 },
    );
    expect(unexpected).toEqual([]);
  });

  it('counts every event of a fuzzed batch exactly once: accepted, duplicate or rejected by index and field', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/events', '/v1/batch'),
        fc.array(eventLike, { minLength: 1, maxLength: 8 }),
        async (route, items) => {
          const body = route === '/v1/events' ? { events: items } : { batch: items };
          const answer = await send(route, JSON.stringify(body));
          assertWellFormed(answer, route === '/v1/events' ? items.length : undefined);
        },
      ),
      { numRuns: 1000 },
    );
    expect(unexpected).toEqual([]);
  });
});
