import { describe, expect, it } from 'vitest';
import type { NormaliseContext } from '../../../shared/ingest/batch.js';
import { InvalidBodyError, PayloadTooLargeError } from '../../../shared/ingest/errors.js';
import { DEFAULT_LIMITS } from '../../../shared/ingest/limits.js';
import { normaliseSegmentBatch, normaliseSegmentMessage } from '../../../shared/ingest/segment.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const ctx: NormaliseContext = { now: NOW, limits: DEFAULT_LIMITS, bodyBytes: 2_000 };
const TS = '2026-11-01T11:30:00.000Z';

describe('Segment mapping', () => {
  it('maps track: event name, messageId as id, context.groupId as account, properties', () => {
    // Act
    const batch = normaliseSegmentMessage(
      'track',
      {
        userId: 'u1',
        anonymousId: 'anon',
        event: 'Project Created',
        messageId: 'm-1',
        timestamp: TS,
        context: { groupId: 'acc-1', library: { name: 'x' } },
        properties: { template: 'blank' },
        integrations: {},
      },
      ctx,
    );

    // Assert
    expect(batch.events).toEqual([
      {
        eventId: 'm-1',
        name: 'Project Created',
        userId: 'u1',
        accountId: 'acc-1',
        timestamp: Date.parse(TS),
        properties: { template: 'blank' },
      },
    ]);
    expect(batch.traits).toEqual([]);
  });

  it('maps identify to user traits (traits, else context.traits) and links context.groupId', () => {
    // Act
    const a = normaliseSegmentMessage('identify', { userId: 'u1', traits: { plan: 'pro' }, timestamp: TS }, ctx);
    const b = normaliseSegmentMessage(
      'identify',
      { userId: 42, context: { traits: { role: 'admin' }, groupId: 'acc-9' }, originalTimestamp: TS },
      ctx,
    );

    // Assert
    expect(a.traits).toEqual([{ entityType: 'user', entityId: 'u1', traits: { plan: 'pro' }, seenAt: Date.parse(TS) }]);
    expect(b.traits).toEqual([
      { entityType: 'user', entityId: '42', traits: { role: 'admin' }, accountId: 'acc-9', seenAt: Date.parse(TS) },
    ]);
    expect(a.events).toEqual([]);
    expect(a.traitMessages).toBe(1);
  });

  it('maps group to account traits and the user → account link', () => {
    // Act
    const batch = normaliseSegmentMessage('group', { userId: 'u1', groupId: 'acc-1', traits: { seats: 5 } }, ctx);
    const anonymous = normaliseSegmentMessage('group', { anonymousId: 'a', groupId: 'acc-2' }, ctx);

    // Assert
    expect(batch.traits).toEqual([
      { entityType: 'account', entityId: 'acc-1', traits: { seats: 5 }, seenAt: NOW },
      { entityType: 'user', entityId: 'u1', accountId: 'acc-1', seenAt: NOW },
    ]);
    expect(anonymous.traits).toEqual([{ entityType: 'account', entityId: 'acc-2', traits: {}, seenAt: NOW }]);
  });

  it('maps page and screen to page_viewed / screen_viewed with name and category as properties', () => {
    // Act
    const page = normaliseSegmentMessage(
      'page',
      { userId: 'u1', name: 'Pricing', category: 'Docs', properties: { path: '/pricing' }, messageId: 'p' },
      ctx,
    );
    const screen = normaliseSegmentMessage('screen', { userId: 'u1', name: 'Home', messageId: 's' }, ctx);

    // Assert
    expect(page.events[0]).toMatchObject({
      name: 'page_viewed',
      properties: { path: '/pricing', name: 'Pricing', category: 'Docs' },
    });
    expect(screen.events[0]).toMatchObject({ name: 'screen_viewed', properties: { name: 'Home' } });
  });

  it('gives a message without messageId a content-hash id, stable across resends', () => {
    // Act
    const a = normaliseSegmentMessage(
      'track',
      { userId: 'u1', event: 'x', timestamp: TS, properties: { a: 1, b: 2 } },
      ctx,
    );
    const b = normaliseSegmentMessage(
      'track',
      { userId: 'u1', event: 'x', timestamp: TS, properties: { b: 2, a: 1 } },
      ctx,
    );

    // Assert
    expect(a.events[0]?.eventId).toMatch(/^h-/);
    expect(a.events[0]?.eventId).toBe(b.events[0]?.eventId);
  });

  it('rejects each bad message in a batch by index and field, and keeps the rest', () => {
    // Arrange
    const body = {
      batch: [
        { type: 'track', userId: 'u1', event: 'ok', timestamp: TS },
        { type: 'track', anonymousId: 'a', event: 'no-user' },
        { type: 'alias', userId: 'u1', previousId: 'p' },
        { userId: 'u1' },
        { type: 'identify', userId: 'u1', traits: { '': 1 } },
        { type: 'track', userId: 'u1', event: 'late', timestamp: '2026-11-01T12:06:00Z' },
        null,
      ],
    };

    // Act
    const batch = normaliseSegmentBatch(body, ctx);

    // Assert
    expect(batch.events.map((e) => e.name)).toEqual(['ok']);
    expect(batch.rejected.map((r) => [r.index, r.errors.map((e) => e.path)])).toEqual([
      [1, ['userId']],
      [2, ['type']],
      [3, ['type']],
      [4, ['traits[""]']],
      [5, ['timestamp']],
      [6, ['']],
    ]);
    expect(batch.rejected[0]?.errors[0]?.message).toMatch(/anonymousId alone/);
    expect(batch.rejected[1]?.errors[0]?.message).toMatch(/"alias" is not supported/);
  });

  it('applies a batch-level context to each message', () => {
    // Act
    const batch = normaliseSegmentBatch(
      { batch: [{ type: 'track', userId: 'u', event: 'e' }], context: { groupId: 'acc-shared' } },
      ctx,
    );

    // Assert
    expect(batch.events[0]?.accountId).toBe('acc-shared');
  });

  it('throws 400 for a body without a batch and 413 for more than 500 messages', () => {
    expect(() => normaliseSegmentBatch({ events: [] }, ctx)).toThrow(InvalidBodyError);
    expect(() => normaliseSegmentMessage('track', 'x', ctx)).toThrow(InvalidBodyError);
    const many = Array.from({ length: 501 }, () => ({ type: 'track', userId: 'u', event: 'e' }));
    expect(() => normaliseSegmentBatch({ batch: many }, ctx)).toThrow(PayloadTooLargeError);
  });
});
