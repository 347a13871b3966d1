import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  DynamoDBServiceException,
  InternalServerError,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoEventStore, eventItem } from '../../../shared/adapters/dynamodb/event-store.js';
import type { RetryPolicy } from '../../../shared/adapters/dynamodb/retry.js';
import { backoffDelay, isRetryableError } from '../../../shared/adapters/dynamodb/retry.js';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';
import { StoreUnavailableError } from '../../../shared/ports/errors.js';
import { mockableDynamoClient, serviceError, throttled } from '../../support/dynamo-mock.js';

type Item = Record<string, AttributeValue>;
const TABLE = 'events';
const NOW = Date.UTC(2026, 10, 1, 12);
const ddb = mockClient(DynamoDBClient);
const client = mockableDynamoClient();

const delays: number[] = [];
const fastRetry = (maxAttempts = 8): RetryPolicy => ({
  maxAttempts,
  baseDelayMs: 50,
  maxDelayMs: 400,
  sleep: async (ms) => {
    delays.push(ms);
  },
});

const events = (n: number): ScoringEvent[] =>
  Array.from({ length: n }, (_, i) => ({ eventId: `e-${i}`, name: 'login', userId: `u-${i % 9}`, timestamp: NOW - i }));
const keyOf = (item: Item) => `${item.pk?.S}|${item.sk?.S}`;
const serverError = () => serviceError('ServiceUnavailable', 503, 'unavailable');

/** A fake table behind the mock: a conditional put stores an item once; counts how often each was written. */
function fakeTable(preexisting: ScoringEvent[] = []) {
  const writes = new Map<string, number>();
  for (const e of preexisting) writes.set(keyOf(eventItem(e, 16, 400)), 1);
  return {
    writes,
    putIfAbsent: (item: Item) => {
      if (writes.has(keyOf(item))) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      writes.set(keyOf(item), 1);
      return {};
    },
  };
}

beforeEach(() => {
  ddb.reset();
  delays.length = 0;
});

describe('DynamoEventStore under faults', () => {
  it('retries throttling and 5xx per event: nothing lost, nothing double-counted', async () => {
    // Arrange
    const all = events(60);
    const table = fakeTable(all.slice(0, 5));
    let calls = 0;
    ddb.on(PutItemCommand).callsFake((input) => {
      calls++;
      expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
      if (calls % 7 === 1) throw throttled();
      if (calls % 11 === 2) throw serverError();
      if (calls % 13 === 3) throw new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } });
      return table.putIfAbsent(input.Item as Item);
    });
    const store = new DynamoEventStore({ client, tableName: TABLE, retry: fastRetry() });

    // Act
    const result = await store.putEvents([...all, all[7]!]);

    // Assert
    expect(result).toEqual({ stored: 55, duplicates: 6, refused: [] });
    expect(table.writes.size).toBe(60);
    expect([...table.writes.values()].every((n) => n === 1)).toBe(true);
    expect(delays.length).toBeGreaterThan(0);
    expect(delays.every((d) => d >= 0 && d < 400)).toBe(true);
  });

  it('throws StoreUnavailableError when retries run out', async () => {
    // Arrange
    ddb.on(PutItemCommand).rejects(throttled());
    const store = new DynamoEventStore({ client, tableName: TABLE, retry: fastRetry(4), writeConcurrency: 1 });

    // Act
    const outcome = store.putEvents(events(10));

    // Assert
    await expect(outcome).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(4);
  });

  it('refuses only the event DynamoDB rejects as invalid, without retrying it; the others are stored', async () => {
    // Arrange
    const invalid = serviceError('ValidationException', 400, 'Item size has exceeded the maximum allowed size');
    const table = fakeTable();
    ddb.on(PutItemCommand).callsFake((input) => {
      if ((input.Item as Item).sk?.S?.endsWith('#e-1')) throw invalid;
      return table.putIfAbsent(input.Item as Item);
    });
    const store = new DynamoEventStore({ client, tableName: TABLE, retry: fastRetry() });
    const sent = events(3);

    // Act
    const result = await store.putEvents(sent);

    // Assert
    expect(result.stored).toBe(2);
    expect(result.refused).toEqual([{ event: sent[1], message: expect.stringContaining('maximum allowed size') }]);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(3);
  });
});

describe('ingest over a failing table', () => {
  it('answers 503 with Retry-After and never reports the events accepted', async () => {
    // Arrange: the first events go through, then the table throttles for good.
    let calls = 0;
    ddb.on(PutItemCommand).callsFake(() => {
      calls++;
      if (calls <= 5) return {};
      throw throttled();
    });
    const recorded: number[] = [];
    const app = createApp({
      ingest: {
        events: new DynamoEventStore({ client, tableName: TABLE, retry: fastRetry(3) }),
        entities: new InMemoryEntityStore(),
        writeKeys: staticWriteKeys(['k']),
        clock: () => NOW,
        telemetry: { record: (e) => recorded.push(e.accepted) },
      },
      logger: { error: () => {}, warn: () => {} },
    });
    const body = {
      events: events(40).map((e) => ({ ...e, timestamp: new Date(e.timestamp).toISOString() })),
    };

    // Act
    const res = await app.request('/v1/events', {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('k:').toString('base64')}` },
      body: JSON.stringify(body),
    });

    // Assert
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).not.toHaveProperty('accepted');
    expect(recorded).toEqual([]);
  });
});

describe('retry policy', () => {
  it('backs off with full jitter, bounded by the maximum delay', () => {
    // Arrange
    const policy: RetryPolicy = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 2000, random: () => 0.999 };

    // Act
    const ceilings = [1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(attempt, policy));

    // Assert
    expect(ceilings).toEqual([99, 199, 399, 799, 1598, 1998, 1998]);
    expect(backoffDelay(5, { ...policy, random: () => 0 })).toBe(0);
  });

  it('retries throttling, server faults and network errors, not client faults or bugs', () => {
    expect(isRetryableError(throttled())).toBe(true);
    expect(isRetryableError(serverError())).toBe(true);
    expect(isRetryableError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(
      isRetryableError(
        new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', message: '', $metadata: {} }),
      ),
    ).toBe(false);
    expect(isRetryableError(new TypeError('x is undefined'))).toBe(false);
  });
});
