import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';
import type { IngestTelemetry } from '../../../shared/http/ingest-routes.js';
import { StoreUnavailableError } from '../../../shared/ports/errors.js';
import type { EventStore } from '../../../shared/ports/event-store.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const KEY = 'wk_live_123';
const basic = (user: string, password = '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const quietLog = { error: () => {}, warn: () => {} };
/** The fields of ingest answers the assertions look at. */
interface Json {
  type?: string;
  errors: { path: string; message: string }[];
  rejected: { index: number }[];
}
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

function setup(options: { events?: EventStore } = {}) {
  const events = new InMemoryEventStore();
  const entities = new InMemoryEntityStore();
  const recorded: Parameters<IngestTelemetry['record']>[0][] = [];
  const app = createApp({
    ingest: {
      events: options.events ?? events,
      entities,
      writeKeys: staticWriteKeys([KEY, 'second-key']),
      clock: () => NOW,
      telemetry: { record: (entry) => recorded.push(entry) },
    },
    logger: quietLog,
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      headers: { authorization: basic(KEY), 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    });
  return { app, events, entities, recorded, post };
}

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  eventId: `e-${i}`,
  name: 'login',
  userId: `u-${i % 7}`,
  timestamp: NOW - 60_000,
  ...extra,
});

describe('POST /v1/events', () => {
  it('answers 202 with accepted, duplicates and rejected, storing the valid events of a mixed batch', async () => {
    // Arrange
    const { post, events, recorded } = setup();

    // Act
    const first = await post('/v1/events', { events: [event(1), { ...event(2), userId: '' }, event(3)] });
    const again = await post('/v1/events', { events: [event(3), event(1), event(4)] });

    // Assert
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [{ index: 1, errors: [{ path: 'userId', message: 'must not be empty' }] }],
    });
    expect(await again.json()).toEqual({ accepted: 1, duplicates: 2, rejected: [] });
    expect(
      events
        .all()
        .map((e) => e.eventId)
        .sort(),
    ).toEqual(['e-1', 'e-3', 'e-4']);
    expect(recorded.map((r) => [r.route, r.total, r.accepted, r.duplicates, r.rejected.length])).toEqual([
      ['events', 3, 2, 0, 1],
      ['events', 3, 1, 2, 0],
    ]);
  });

  it('answers 400 problem+json with the same counts and absolute field paths when nothing was accepted', async () => {
    // Arrange
    const { post, events } = setup();

    // Act
    const res = await post('/v1/events', { events: [{ ...event(1), timestamp: NOW + 3_600_000 }, 5] });
    const body = await json(res);

    // Assert
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body).toMatchObject({ type: 'urn:pulse:problem:events-rejected', status: 400, accepted: 0, duplicates: 0 });
    expect(body.rejected.map((r) => r.index)).toEqual([0, 1]);
    expect(body.errors).toEqual([
      { path: 'events[0].timestamp', message: expect.stringContaining('in the future') },
      { path: 'events[1]', message: 'must be an object, not a number' },
    ]);
    expect(events.size).toBe(0);
  });

  it('answers 202 (not 400) when a whole batch is resent: duplicates are not rejections', async () => {
    // Arrange
    const { post } = setup();
    await post('/v1/events', { events: [event(1)] });

    // Act
    const res = await post('/v1/events', { events: [event(1)] });

    // Assert
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
  });

  it('answers 400 problem (never 500) for malformed JSON, an empty body and a wrong shape', async () => {
    // Arrange
    const { post } = setup();

    // Act
    const responses = await Promise.all([
      post('/v1/events', '{"events": [1,'),
      post('/v1/events', ''),
      post('/v1/events', '[1,2]'),
      post('/v1/events', { events: 'nope' }),
    ]);

    // Assert
    expect(responses.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    const bodies: Json[] = await Promise.all(responses.map(json));
    expect(bodies.map((b) => b.errors[0]?.path)).toEqual(['(body)', '(body)', '(body)', 'events']);
    expect(bodies[0]?.errors[0]?.message).toMatch(/^is not valid JSON/);
  });

  it('answers 413 past 512 KB (declared or streamed) and past 500 events', async () => {
    // Arrange
    const { post } = setup();
    const big = JSON.stringify({ events: [event(1, { properties: { blob: 'x'.repeat(520 * 1024) } })] });

    // Act
    const tooBig = await post('/v1/events', big);
    const tooMany = await post('/v1/events', { events: Array.from({ length: 501 }, (_, i) => event(i)) });
    const bomb = await post('/v1/events', gzipSync(Buffer.from(big)), { 'content-encoding': 'gzip' });

    // Assert
    expect([tooBig.status, tooMany.status, bomb.status]).toEqual([413, 413, 413]);
    expect((await json(tooMany)).errors).toEqual([
      { path: 'events', message: 'holds 501 events; at most 500 a request' },
    ]);
    expect(tooBig.headers.get('content-type')).toBe('application/problem+json');
  });

  it('reads gzip-compressed bodies', async () => {
    // Arrange
    const { post, events } = setup();

    // Act
    const res = await post('/v1/events', gzipSync(JSON.stringify({ events: [event(9)] })), {
      'content-encoding': 'gzip',
    });

    // Assert
    expect(res.status).toBe(202);
    expect(events.size).toBe(1);
  });

  it('answers 503 with Retry-After and reports nothing accepted when storage stays unavailable', async () => {
    // Arrange
    const failing: EventStore = {
      shardCount: 16,
      putEvents: async () => {
        throw new StoreUnavailableError('storing events: 3 item(s) still unprocessed', 3);
      },
      readShard: async function* (): AsyncIterable<ScoringEvent[]> {},
    };
    const { post, recorded } = setup({ events: failing });

    // Act
    const res = await post('/v1/events', { events: [event(1), event(2), event(3)] });
    const body = await json(res);

    // Assert
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(body).not.toHaveProperty('accepted');
    expect(body.type).toBe('urn:pulse:problem:unavailable');
    expect(recorded).toEqual([]);
  });
});

describe('write-key auth', () => {
  it('answers 401 problem+json for a missing, malformed or unknown key, and accepts any configured key', async () => {
    // Arrange
    const { post } = setup();
    const body = { events: [event(1)] };

    // Act
    const missing = await post('/v1/events', body, { authorization: '' });
    const bearer = await post('/v1/events', body, { authorization: `Bearer ${KEY}` });
    const wrong = await post('/v1/events', body, { authorization: basic('nope') });
    const second = await post('/v1/events', body, { authorization: basic('second-key', 'ignored') });

    // Assert
    expect([missing.status, bearer.status, wrong.status, second.status]).toEqual([401, 401, 401, 202]);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await json(wrong)).type).toBe('urn:pulse:problem:unauthorized');
  });
});

describe('Segment-compatible routes', () => {
  it('answers 200 {"success":true} when every message was accepted, on every call type', async () => {
    // Arrange
    const { post, entities, events } = setup();
    const ts = new Date(NOW - 1000).toISOString();

    // Act
    const responses = [
      await post('/v1/identify', { userId: 'u1', traits: { plan: 'pro' }, timestamp: ts }),
      await post('/v1/group', { userId: 'u1', groupId: 'a1', traits: { seats: 3 }, timestamp: ts }),
      await post('/v1/track', { userId: 'u1', event: 'login', messageId: 'm1', timestamp: ts }),
      await post('/v1/page', { userId: 'u1', name: 'Home', messageId: 'm2', timestamp: ts }),
      await post('/v1/screen', { userId: 'u1', name: 'Home', messageId: 'm3', timestamp: ts }),
      await post('/v1/batch', { batch: [{ type: 'track', userId: 'u2', event: 'x', messageId: 'm4', timestamp: ts }] }),
    ];

    // Assert
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await responses[0]!.json()).toEqual({ success: true });
    expect(events.all().map((e) => [e.eventId, e.name, e.accountId])).toEqual([
      ['m1', 'login', 'a1'],
      ['m2', 'page_viewed', 'a1'],
      ['m3', 'screen_viewed', 'a1'],
      ['m4', 'x', undefined],
    ]);
    expect(await entities.get('user', 'u1')).toMatchObject({ traits: { plan: 'pro' }, accountId: 'a1' });
    expect((await entities.get('account', 'a1'))?.traits).toEqual({ seats: 3 });
  });

  it('answers 400 problem naming batch[i].field when some messages were rejected, storing the others', async () => {
    // Arrange
    const { post, events } = setup();

    // Act
    const res = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u1', event: 'ok', messageId: 'ok-1' },
        { type: 'track', userId: 'u1' },
      ],
    });
    const body = await json(res);

    // Assert
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ accepted: 1, duplicates: 0, type: 'urn:pulse:problem:messages-rejected' });
    expect(body.errors).toEqual([{ path: 'batch[1].event', message: 'is required' }]);
    expect(events.all().map((e) => e.eventId)).toEqual(['ok-1']);
  });
});

describe('the app', () => {
  it('serves /healthz without auth and answers unknown paths with a 404 problem', async () => {
    // Arrange
    const { app } = setup();

    // Act
    const health = await app.request('/healthz');
    const missing = await app.request('/v1/nothing');

    // Assert
    expect(health.status).toBe(200);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
  });
});
