import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
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
import { StoreUnavailableError } from '../../../shared/ports/event-store.js';

type Item = Record<string, AttributeValue>;
const TABLE = 'events';
const NOW = Date.UTC(2026, 10, 1, 12);
const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

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
const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
const serverError = () =>
  new DynamoDBServiceException({
    name: 'ServiceUnavailable',
    $fault: 'server',
    message: 'unavailable',
    $metadata: { httpStatusCode: 503 },
  });

/** A fake table behind the mock: counts how often each item was really written. */
function fakeTable(preexisting: ScoringEvent[] = []) {
  const writes = new Map<string, number>();
  for (const e of preexisting) writes.set(keyOf(eventItem(e, 16, 400)), 1);
  return {
    writes,
    get: (keys: Item[]) => keys.filter((k) => writes.has(keyOf(k))),
    put: (items: Item[]) => {
      for (const item of items) writes.set(keyOf(item), (writes.get(keyOf(item)) ?? 0) + 1);
    },
  };
}

beforeEach(() => {
  ddb.reset();
  delays.length = 0;
});

describe('DynamoEventStore under faults', () => {
  it('retries partial UnprocessedKeys/UnprocessedItems, throttling and 5xx: nothing lost, nothing double-counted', async () => {
    // Arrange
    const all = events(60);
    const table = fakeTable(all.slice(0, 5));
    let gets = 0;
    ddb.on(BatchGetItemCommand).callsFake((input) => {
      const keys = input.RequestItems[TABLE].Keys as Item[];
      gets++;
      if (gets === 1) throw serverError();
      // Second call: answer half, leave the rest unprocessed.
      const [now, later] = gets === 2 ? [keys.slice(0, 30), keys.slice(30)] : [keys, []];
      return {
        Responses: { [TABLE]: table.get(now) },
        UnprocessedKeys: later.length ? { [TABLE]: { Keys: later } } : {},
      };
    });
    let writes = 0;
    ddb.on(BatchWriteItemCommand).callsFake((input) => {
      const items = (input.RequestItems[TABLE] as { PutRequest: { Item: Item } }[]).map((r) => r.PutRequest.Item);
      writes++;
      if (writes === 2) throw throttled();
      if (writes === 3) throw new InternalServerError({ message: 'boom', $metadata: { httpStatusCode: 500 } });
      // Every other call stores only its first 10 items.
      const [done, rest] = writes % 2 === 1 ? [items.slice(0, 10), items.slice(10)] : [items, []];
      table.put(done);
      return { UnprocessedItems: rest.length ? { [TABLE]: rest.map((Item) => ({ PutRequest: { Item } })) } : {} };
    });
    const store = new DynamoEventStore({ client, tableName: TABLE, retry: fastRetry() });

    // Act
    const result = await store.putEvents([...all, all[7]!]);

    // Assert
    expect(result).toEqual({ stored: 55, duplicates: 6 });
    expect(table.writes.size).toBe(60);
    expect([...table.writes.values()].every((n) => n === 1)).toBe(true);
    expect(delays.length).toBeGreaterThan(0);
    expect(delays.every((d) => d >= 0 && d < 400)).toBe(true);
  });

  it('throws StoreUnavailableError naming the unprocessed count when retries run out', async () => {
    // Arrange
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    ddb.on(BatchWriteItemCommand).rejects(throttled());
    const store = new DynamoEventStore({ client, tableName: TABLE, retry: fastRetry(4) });

    // Act
    const outcome = store.putEvents(events(10));

    // Assert
    await expect(outcome).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(outcome).rejects.toMatchObject({ unprocessed: 10 });
    expect(ddb.commandCalls(BatchWriteItemCommand)).toHaveLength(4);
  });

  it('does not retry a request DynamoDB refuses as invalid', async () => {
    // Arrange
    const invalid = new DynamoDBServiceException({
      name: 'ValidationException',
      $fault: 'client',
      message: 'bad',
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(BatchGetItemCommand).rejects(invalid);
    const store = new DynamoEventStore({ client, tableName: TABLE, retry: fastRetry() });

    // Act / Assert
    await expect(store.putEvents(events(1))).rejects.toBe(invalid);
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(1);
  });
});

describe('ingest over a failing table', () => {
  it('answers 503 with Retry-After and never reports the events accepted', async () => {
    // Arrange
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    let calls = 0;
    ddb.on(BatchWriteItemCommand).callsFake((input) => {
      calls++;
      // The first chunk goes through, the second never does.
      const requests = input.RequestItems[TABLE] as unknown[];
      if (calls === 1) return { UnprocessedItems: {} };
      return { UnprocessedItems: { [TABLE]: requests } };
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
