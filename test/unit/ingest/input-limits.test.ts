import { describe, expect, it } from 'vitest';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import {
  countValues,
  depthExceeds,
  idProblem,
  MAX_DEPTH,
  MAX_ID_BYTES,
  MAX_PROPERTY_VALUES,
  MAX_TRAITS_PER_ENTITY,
  shapeProblem,
  utf8Bytes,
} from '../../../shared/domain/input-limits.js';
import { createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';

/** The limits of docs/api.md#limits, through the ingest routes: each refusal names the field and the limit. */
const NOW = Date.UTC(2026, 10, 1, 12);
const KEY = 'k';
const headers = {
  authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`,
  'content-type': 'application/json',
};

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON; the assertions check their shape.
  body: any;
}

function setup() {
  const events = new InMemoryEventStore();
  const entities = new InMemoryEntityStore();
  const app = createApp({
    ingest: { events, entities, writeKeys: staticWriteKeys([KEY]), clock: () => NOW, telemetry: { record() {} } },
    logger: { error: () => {}, warn: () => {} },
  });
  const post = async (path: string, body: unknown): Promise<Answer> => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await app.request(path, { method: 'POST', headers, body: text });
    return { status: res.status, body: await res.json() };
  };
  return { events, entities, post };
}

const good = (i: number, extra: Record<string, unknown> = {}) => ({
  eventId: `good-${i}`,
  name: 'login',
  userId: `user-${i}`,
  timestamp: NOW - 60_000,
  ...extra,
});

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('id limits', () => {
  it('counts UTF-8 bytes, not characters, and refuses lone surrogates and control characters', () => {
    expect(idProblem('a'.repeat(MAX_ID_BYTES))).toBeUndefined();
    expect(idProblem('😀'.repeat(MAX_ID_BYTES / 4))).toBeUndefined();
    expect(idProblem(`${'😀'.repeat(MAX_ID_BYTES / 4)}a`)).toMatch(/257 bytes in UTF-8; an id may be at most 256/);
    expect(idProblem('é'.repeat(129))).toMatch(/258 bytes/);
    expect(idProblem('ab\ud800')).toMatch(/lone surrogate at position 2/);
    expect(idProblem('\udc00')).toMatch(/lone surrogate/);
    expect(idProblem('a\u0000b')).toMatch(/control characters \(U\+0000 at position 1\)/);
    expect(idProblem('a\u007f')).toMatch(/U\+007F/);
    expect(idProblem('a\u0085')).toMatch(/U\+0085/);
    expect(utf8Bytes('a€😀')).toBe(Buffer.byteLength('a€😀'));
  });

  it('answers a 256-emoji user id with a rejection naming userId and the byte limit; a 64-emoji id is stored', async () => {
    // Arrange
    const { post, events } = setup();

    // Act
    const answer = await post('/v1/events', {
      events: [good(1, { userId: '😀'.repeat(256) }), good(2, { userId: '😀'.repeat(64) })],
    });

    // Assert
    expect(answer.status).toBe(202);
    expect(answer.body.accepted).toBe(1);
    expect(answer.body.rejected).toEqual([
      { index: 0, errors: [{ path: 'userId', message: expect.stringContaining('1024 bytes in UTF-8') }] },
    ]);
    expect(events.all().map((e) => e.userId)).toEqual(['😀'.repeat(64)]);
  });

  it('refuses bad ids on every Segment id field, naming it', async () => {
    // Arrange
    const { post } = setup();
    const long = 'é'.repeat(200);

    // Act
    const answer = await post('/v1/batch', {
      batch: [
        { type: 'track', event: 'x', userId: 'u', messageId: long },
        { type: 'track', event: 'x', userId: 'u', context: { groupId: 'g\u0001' } },
        { type: 'group', userId: 'u', groupId: '\ud83d' },
        { type: 'identify', userId: long },
      ],
    });

    // Assert
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'batch[0].messageId',
      'batch[1].context.groupId',
      'batch[2].groupId',
      'batch[3].userId',
    ]);
  });
});

describe('shape limits', () => {
  it('walks without recursion and stops early', () => {
    expect(depthExceeds(nested(100_000), MAX_DEPTH)).toBe(true);
    expect(depthExceeds(nested(MAX_DEPTH), MAX_DEPTH)).toBe(false);
    expect(countValues({ a: [1, 2, { b: 3 }] }, 100)).toBe(5);
    expect(shapeProblem({ properties: nested(MAX_DEPTH - 1) })).toBeUndefined();
    expect(shapeProblem({ properties: nested(MAX_DEPTH) })).toEqual({
      path: 'properties',
      message: `nests deeper than ${MAX_DEPTH} levels; an event may nest at most ${MAX_DEPTH}`,
    });
  });

  it('stores 10 good events beside one 5,000-deep event and rejects only that one, naming properties', async () => {
    // Arrange
    const { post, events } = setup();
    // Written as text: the client's own JSON.stringify would not survive 5,000 levels either.
    const deep = `{"eventId":"deep","name":"login","userId":"u","timestamp":${NOW - 1},"properties":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const batch = Array.from({ length: 10 }, (_, i) => JSON.stringify(good(i)));
    batch.splice(4, 0, deep);
    const body = `{"events":[${batch.join(',')}]}`;

    // Act
    const answer = await post('/v1/events', body);
    const again = await post('/v1/events', body);

    // Assert: the same answer on every retry; the good ones are stored once.
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ accepted: 10, duplicates: 0 });
    expect(answer.body.rejected).toEqual([
      { index: 4, errors: [{ path: 'properties', message: expect.stringContaining('at most 32') }] },
    ]);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 10 });
    expect(events.size).toBe(10);
  });

  it('rejects an event with too many property values, and deep Segment context, by field', async () => {
    // Arrange
    const { post } = setup();
    const wide = Object.fromEntries(Array.from({ length: MAX_PROPERTY_VALUES + 1 }, (_, i) => [`p${i}`, 0]));

    // Act
    const native = await post('/v1/events', { events: [good(1, { properties: wide }), good(2)] });
    const segment = await post('/v1/batch', {
      batch: [
        { type: 'track', event: 'x', userId: 'u1', context: nested(40) },
        { type: 'track', event: 'x', userId: 'u2' },
      ],
    });

    // Assert
    expect(native.body.rejected[0]).toEqual({
      index: 0,
      errors: [{ path: 'properties', message: expect.stringContaining('at most 1,000') }],
    });
    expect(native.body.accepted).toBe(1);
    expect(segment.status).toBe(400);
    expect(segment.body).toMatchObject({ accepted: 1, rejected: [{ index: 0, errors: [{ path: 'context' }] }] });
  });
});

describe('trait limits', () => {
  it('refuses only the identify call that grows traits past the limit; other users and events in the batch are stored', async () => {
    // Arrange
    const { post, entities, events } = setup();
    const traits = (from: number, n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`trait${from + i}`, `value ${from + i}`]));
    const first = await post('/v1/identify', { userId: 'grower', traits: traits(0, 200) });

    // Act
    const answer = await post('/v1/batch', {
      batch: [
        { type: 'track', event: 'login', userId: 'neighbour', messageId: 'n-1' },
        { type: 'identify', userId: 'grower', traits: traits(200, 100) },
        { type: 'identify', userId: 'neighbour', traits: { plan: 'pro' } },
        { type: 'group', userId: 'neighbour', groupId: 'acme', traits: traits(0, MAX_TRAITS_PER_ENTITY + 1) },
      ],
    });

    // Assert
    expect(first.status).toBe(200);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(answer.body.rejected).toEqual([
      {
        index: 1,
        errors: [{ path: 'traits', message: expect.stringContaining('300 traits; an entity may hold at most 256') }],
      },
      { index: 3, errors: [{ path: 'traits', message: expect.stringContaining('at most 256') }] },
    ]);
    expect(answer.body.errors.map((e: { path: string }) => e.path)).toEqual(['batch[1].traits', 'batch[3].traits']);
    expect(Object.keys((await entities.get('user', 'grower'))!.traits)).toHaveLength(200);
    expect((await entities.get('user', 'neighbour'))?.traits).toEqual({ plan: 'pro' });
    expect(await entities.get('account', 'acme')).toBeUndefined();
    expect(events.all().map((e) => e.userId)).toEqual(['neighbour']);
  });
});

describe('event identity', () => {
  it('stores two users’ events that share an id as two events', async () => {
    // Arrange
    const { post, events } = setup();

    // Act
    const a = await post('/v1/events', { events: [good(1, { eventId: 'shared', userId: 'alice' })] });
    const b = await post('/v1/events', { events: [good(1, { eventId: 'shared', userId: 'bob' })] });
    const again = await post('/v1/track', {
      type: 'track',
      event: 'login',
      userId: 'bob',
      messageId: 'shared',
      timestamp: new Date(NOW - 60_000).toISOString(),
    });

    // Assert
    expect(a.body.accepted).toBe(1);
    expect(b.body.accepted).toBe(1);
    expect(again.status).toBe(200);
    expect(events.size).toBe(2);
  });
});
