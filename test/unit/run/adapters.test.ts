import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sortableNumber } from '../../../shared/adapters/dynamodb/score-index.js';
import { DynamoScoreStore } from '../../../shared/adapters/dynamodb/score-store.js';
import { EventBridgeAlertSink } from '../../../shared/adapters/eventbridge/alert-sink.js';
import type { ScoreWrite } from '../../../shared/ports/score-store.js';
import { entityScore, firedAlert } from '../../support/scores.js';

const dynamo = mockClient(DynamoDBClient);
const events = mockClient(EventBridgeClient);
const noWait = { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 2, sleep: async () => {} };

const score = (i: number) => entityScore({ entityId: `u-${i}`, score: i });

const alert = (i: number) => firedAlert({ entityId: `u-${i}` });

describe('DynamoScoreStore writes under throttling', () => {
  beforeEach(() => dynamo.reset());

  it('resends UnprocessedItems until every history and current row is stored', async () => {
    // Arrange: each call leaves its last three requests unprocessed the first time they are seen.
    const stored = new Set<string>();
    const seen = new Set<string>();
    dynamo.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, WriteRequest[]> }) => {
      const requests = input.RequestItems.scores!;
      const unprocessed: WriteRequest[] = [];
      requests.forEach((r, i) => {
        const key = `${r.PutRequest!.Item!.pk!.S}|${r.PutRequest!.Item!.sk!.S}`;
        if (i >= requests.length - 3 && !seen.has(key)) {
          seen.add(key);
          unprocessed.push(r);
        } else stored.add(key);
      });
      return { UnprocessedItems: unprocessed.length > 0 ? { scores: unprocessed } : {} };
    });
    const store = new DynamoScoreStore({
      client: new DynamoDBClient({}),
      tableName: 'scores',
      shardCount: 4,
      retry: noWait,
    });
    const rows: ScoreWrite[] = Array.from({ length: 60 }, (_, i) => ({
      score: score(i),
      previous: null,
      current: i % 2 === 0,
    }));

    // Act
    await store.write(rows);

    // Assert
    expect(stored.size).toBe(60 + 30);
    expect(seen.size).toBeGreaterThan(0);
    expect([...stored].filter((k) => k.startsWith('CUR#usage#'))).toHaveLength(30);
  });

  it('fails loudly (never silently drops rows) when the table keeps throttling', async () => {
    dynamo.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, WriteRequest[]> }) => ({
      UnprocessedItems: { scores: input.RequestItems.scores },
    }));
    const store = new DynamoScoreStore({ client: new DynamoDBClient({}), tableName: 'scores', retry: noWait });

    await expect(store.write([{ score: score(1), previous: null, current: true }])).rejects.toThrow(
      /still unprocessed after 6 attempts/,
    );
  });
});

describe('sortableNumber', () => {
  it('orders encoded scores exactly as the numbers, negatives and fractions included', () => {
    const values = [-1e9, -250.5, -3, -0.01, 0, 0.01, 1, 2.5, 40, 100, 178, 1e12];

    const encoded = values.map(sortableNumber);

    expect([...encoded].sort()).toEqual(encoded);
    expect(new Set(encoded.map((e) => e.length))).toEqual(new Set([16]));
  });
});

describe('EventBridgeAlertSink', () => {
  beforeEach(() => events.reset());

  it('sends batches of 10 with source pulse and the alert type, and resends failed entries', async () => {
    // Arrange: the first call rejects its second entry.
    const calls: PutEventsRequestEntry[][] = [];
    let first = true;
    events.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      calls.push(input.Entries);
      if (first) {
        first = false;
        return {
          FailedEntryCount: 1,
          Entries: input.Entries.map((_, i) =>
            i === 1 ? { ErrorCode: 'ThrottlingException' } : { EventId: `id-${i}` },
          ),
        };
      }
      return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })) };
    });
    const sink = new EventBridgeAlertSink({
      client: new EventBridgeClient({}),
      busName: 'pulse-alerts',
      sleep: async () => {},
    });

    // Act
    const result = await sink.publish(Array.from({ length: 23 }, (_, i) => alert(i)));

    // Assert
    expect(result).toEqual({ published: 23, failed: 0 });
    expect(calls.map((c) => c.length)).toEqual([10, 1, 10, 3]);
    expect(calls[1]![0]!.Detail).toBe(calls[0]![1]!.Detail);
    const entry = calls[0]![0]!;
    expect(entry).toMatchObject({ Source: 'pulse', DetailType: 'ScoreDropped', EventBusName: 'pulse-alerts' });
    expect(JSON.parse(entry.Detail!)).toEqual({
      entity: { type: 'user', id: 'u-0' },
      model: 'usage',
      asOf: '2026-03-02T00:00:00.000Z',
      score: 1,
      previous: 30,
      bands: { current: 'low', previous: 'high' },
      reasons: [{ kind: 'signal', name: 'logins', previousPoints: 31, points: 2, delta: -29 }],
      topContributions: [{ signal: 'logins', value: 1, points: 2 }],
    });
  });

  it('reports entries that keep failing instead of throwing', async () => {
    events.on(PutEventsCommand).rejects(new Error('throttled'));
    const sink = new EventBridgeAlertSink({
      client: new EventBridgeClient({}),
      busName: 'b',
      sleep: async () => {},
      maxAttempts: 2,
    });

    const result = await sink.publish([alert(1), alert(2)]);

    expect(result).toEqual({ published: 0, failed: 2 });
  });
});
