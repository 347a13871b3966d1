import { describe, expect, it } from 'vitest';
import { contentEventId } from '../../../shared/domain/event.js';
import { DAY_MS } from '../../../shared/domain/time.js';
import type { NormaliseContext } from '../../../shared/ingest/batch.js';
import { InvalidBodyError, PayloadTooLargeError } from '../../../shared/ingest/errors.js';
import { DEFAULT_LIMITS } from '../../../shared/ingest/limits.js';
import { normaliseNative } from '../../../shared/ingest/native.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const ctx = (bodyBytes = 1_000): NormaliseContext => ({ now: NOW, limits: DEFAULT_LIMITS, bodyBytes });
const valid = (extra: Record<string, unknown> = {}) => ({
  name: 'login',
  userId: 'u-1',
  timestamp: '2026-11-01T11:00:00Z',
  ...extra,
});

describe('normaliseNative: validation', () => {
  it('turns a valid event into a ScoringEvent with epoch-ms time and trimmed ids', () => {
    // Arrange
    const body = { events: [valid({ eventId: ' e-1 ', accountId: 'acc', properties: { plan: 'pro' } })] };

    // Act
    const batch = normaliseNative(body, ctx());

    // Assert
    expect(batch.rejected).toEqual([]);
    expect(batch.events).toEqual([
      {
        eventId: 'e-1',
        name: 'login',
        userId: 'u-1',
        accountId: 'acc',
        timestamp: Date.UTC(2026, 10, 1, 11),
        properties: { plan: 'pro' },
      },
    ]);
  });

  it('accepts epoch milliseconds and offsets other than Z', () => {
    // Act
    const batch = normaliseNative(
      { events: [valid({ timestamp: NOW - 1000 }), valid({ timestamp: '2026-11-01T13:00:00+02:00' })] },
      ctx(),
    );

    // Assert
    expect(batch.events.map((e) => e.timestamp)).toEqual([NOW - 1000, Date.UTC(2026, 10, 1, 11)]);
  });

  it('rejects a bad event with every problem named by field, and keeps the good ones', () => {
    // Arrange
    const body = {
      events: [valid(), { name: '', userId: 7, timestamp: '2026-11-01 11:00', color: 'red', properties: [] }, 'x'],
    };

    // Act
    const batch = normaliseNative(body, ctx());

    // Assert
    expect(batch.events).toHaveLength(1);
    expect(batch.rejected).toEqual([
      {
        index: 1,
        errors: [
          { path: 'name', message: 'must not be empty' },
          { path: 'userId', message: 'must be a string, not a number' },
          { path: 'timestamp', message: expect.stringContaining('ISO 8601') },
          { path: 'properties', message: 'must be an object, not an array' },
          { path: 'color', message: expect.stringContaining('is not a known field') },
        ],
      },
      { index: 2, errors: [{ path: '', message: 'must be an object, not a string' }] },
    ]);
  });

  it('says a missing field "is required"', () => {
    // Act
    const batch = normaliseNative({ events: [{ name: 'x' }] }, ctx());

    // Assert
    expect(batch.rejected[0]?.errors).toEqual([
      { path: 'userId', message: 'is required' },
      { path: 'timestamp', message: 'is required' },
    ]);
  });

  it('throws a 400 error naming the field when the body is not { events: [...] }', () => {
    expect(() => normaliseNative([], ctx())).toThrow(InvalidBodyError);
    expect(() => normaliseNative({}, ctx())).toThrow(
      expect.objectContaining({ errors: [{ path: 'events', message: 'is required' }] }),
    );
    expect(() => normaliseNative({ events: [], extra: 1 }, ctx())).toThrow(
      expect.objectContaining({
        errors: [
          { path: 'events', message: 'must hold at least one event' },
          { path: 'extra', message: expect.stringContaining('not a known field') },
        ],
      }),
    );
  });
});

describe('normaliseNative: limits', () => {
  it('refuses more than 500 events a request with a 413 error', () => {
    // Arrange
    const body = { events: Array.from({ length: 501 }, () => valid()) };

    // Act / Assert
    expect(() => normaliseNative(body, ctx())).toThrow(PayloadTooLargeError);
    expect(normaliseNative({ events: body.events.slice(0, 500) }, ctx()).events).toHaveLength(500);
  });

  it('rejects an event over 32 KB by its index, and keeps the others', () => {
    // Arrange
    const big = valid({ properties: { blob: 'x'.repeat(33 * 1024) } });
    const body = { events: [valid(), big] };

    // Act
    const batch = normaliseNative(body, ctx(40_000));

    // Assert
    expect(batch.events).toHaveLength(1);
    expect(batch.rejected).toEqual([
      { index: 1, errors: [{ path: '', message: expect.stringMatching(/at most 32,768 bytes/) }] },
    ]);
  });

  it('rejects timestamps more than 5 minutes ahead or past retention, and accepts the edges', () => {
    // Arrange
    const max = NOW + 5 * 60_000;
    const oldest = NOW - 400 * DAY_MS;
    const body = {
      events: [
        valid({ timestamp: max }),
        valid({ timestamp: max + 1 }),
        valid({ timestamp: oldest }),
        valid({ timestamp: oldest - 1 }),
      ],
    };

    // Act
    const batch = normaliseNative(body, ctx());

    // Assert
    expect(batch.events.map((e) => e.timestamp)).toEqual([max, oldest]);
    expect(batch.rejected).toEqual([
      { index: 1, errors: [{ path: 'timestamp', message: expect.stringContaining('5 minutes in the future') }] },
      { index: 3, errors: [{ path: 'timestamp', message: 'is older than the retention period of 400 days' }] },
    ]);
  });
});

describe('content-hash event ids', () => {
  it('gives an event without id the same id however its properties are ordered, and a different one when content differs', () => {
    // Arrange
    const a = valid({ properties: { a: 1, b: { c: 2, d: [1, 2] } } });
    const b = valid({ properties: { b: { d: [1, 2], c: 2 }, a: 1 } });
    const c = valid({ properties: { a: 1, b: { c: 2, d: [2, 1] } } });

    // Act
    const [ea, eb, ec] = normaliseNative({ events: [a, b, c] }, ctx()).events;

    // Assert
    expect(ea?.eventId).toMatch(/^h-[A-Za-z0-9_-]{32}$/);
    expect(eb?.eventId).toBe(ea?.eventId);
    expect(ec?.eventId).not.toBe(ea?.eventId);
    expect(ea?.eventId).toBe(contentEventId({ ...ea!, eventId: undefined } as never));
  });

  it('treats the same instant written two ways as the same event', () => {
    // Act
    const [a, b] = normaliseNative(
      { events: [valid({ timestamp: '2026-11-01T11:00:00Z' }), valid({ timestamp: Date.UTC(2026, 10, 1, 11) })] },
      ctx(),
    ).events;

    // Assert
    expect(a?.eventId).toBe(b?.eventId);
  });
});
