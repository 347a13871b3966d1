import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoEntityStore } from '../../../shared/adapters/dynamodb/entity-store.js';
import { eventItem } from '../../../shared/adapters/dynamodb/event-store.js';
import { eventSortKey, userPartition } from '../../../shared/adapters/dynamodb/keys.js';
import { SoleWriterEntityStore } from '../../../shared/adapters/dynamodb/sole-writer-entity-store.js';
import { type EmbeddedTable, SoleWriterEventStore } from '../../../shared/adapters/dynamodb/sole-writer-event-store.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { dynaliteInProcess } from '../../../shared/local/embedded-table.js';
import { StoreUnavailableError } from '../../../shared/ports/errors.js';
import { createPulseTables, localClient } from '../../support/dynamo.js';
import { describeEventStoreContract, loginEvent, readAllShards } from '../../support/event-store-contract.js';

const SHARDS = 4;
const T0 = Date.UTC(2026, 2, 10, 0, 0, 0);

/**
 * Local mode's event store: events written in this process straight into the embedded dynalite's LevelDB (group
 * commit), read back through dynalite's DynamoDB API like every other reader (docs/local-mode.md#ingest-throughput).
 */
describe('SoleWriterEventStore on the embedded dynalite (LevelDB on disk)', () => {
  let dir: string;
  let dynalite: ReturnType<typeof dynaliteInProcess>;
  let client: ReturnType<typeof localClient>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-sole-writer-'));
    dynalite = dynaliteInProcess({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const server: Server = dynalite.server;
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
    client = localClient(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    client?.destroy();
    await new Promise<void>((resolve) => dynalite.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const storeOn = async (options: { table?: (table: EmbeddedTable) => EmbeddedTable; pageSize?: number } = {}) => {
    const { eventsTable, scoresTable } = await createPulseTables(client);
    const table = dynalite.table(eventsTable);
    const events = new SoleWriterEventStore({
      client,
      tableName: eventsTable,
      table: options.table ? options.table(table) : table,
      shardCount: SHARDS,
      retentionDays: 400,
      pageSize: options.pageSize,
    });
    return { events, eventsTable, scoresTable };
  };

  describeEventStoreContract('sole writer on the embedded dynalite', async (_shards, pageSize) => {
    return (await storeOn({ pageSize })).events;
  });

  it('tells exactly one of many concurrent senders of an event `stored`, across overlapping batches', async () => {
    // Arrange: 40 calls of 50 events each; call i holds events [10 i, 10 i + 50): each event is in up to 5 calls.
    const { events } = await storeOn();
    const event = (n: number) =>
      loginEvent(`race-${n}`, `racer-${n % 7}`, T0 + n, n % 2 === 0 ? { accountId: `acc-${n % 3}` } : {});
    const calls = Array.from({ length: 40 }, (_, i) => Array.from({ length: 50 }, (_, j) => event(10 * i + j)));
    const distinct = 10 * 39 + 50;

    // Act
    const results = await Promise.all(calls.map((batch) => events.putEvents(batch)));

    // Assert: every event stored once, accepted once, every other copy a duplicate.
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(distinct);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(40 * 50 - distinct);
    for (const r of results) expect(r.refused).toEqual([]);
    const stored = await readAllShards(events, 'user', T0, T0 + distinct);
    expect(stored.map((e) => e.eventId)).toEqual(
      Array.from({ length: distinct }, (_, n) => `race-${n}`).sort((a, b) => a.localeCompare(b)),
    );
    const byAccount = await readAllShards(events, 'account', T0, T0 + distinct);
    expect(byAccount).toHaveLength(distinct / 2);
  });

  it('writes what dynalite writes: items and index entries that PutItem-written neighbours sit among', async () => {
    // Arrange: one event stored through PutItem (dynalite's own path), one through the store.
    const { events, eventsTable } = await storeOn();
    const viaApi = loginEvent('via-api', 'neighbour', T0 + 1, { accountId: 'acc-n', properties: { big: 2 ** 70 } });
    const direct = loginEvent('direct', 'neighbour', T0 + 2, { accountId: 'acc-n', properties: { big: 2 ** 70 } });
    await client.send(new PutItemCommand({ TableName: eventsTable, Item: eventItem(viaApi, SHARDS, 400) }));

    // Act
    const result = await events.putEvents([direct, viaApi]);
    const raw = await client.send(
      new GetItemCommand({
        TableName: eventsTable,
        Key: { pk: { S: userPartition('neighbour', T0, SHARDS) }, sk: { S: eventSortKey('neighbour', 'direct') } },
        ConsistentRead: true,
      }),
    );

    // Assert: the PutItem copy is a duplicate; both read back by user and by account, whole.
    expect(result).toEqual({ stored: 1, duplicates: 1, refused: [] });
    expect(raw.Item?.n?.S).toBe('login');
    expect(await readAllShards(events, 'user', T0, T0 + 3)).toEqual([direct, viaApi]);
    expect(await readAllShards(events, 'account', T0, T0 + 3)).toEqual([direct, viaApi]);
  });

  it('refuses only the event the table cannot hold; the others of the call are stored', async () => {
    // Arrange: beyond the input limits (the API never lets one through): an item over DynamoDB's 400 KB.
    const { events } = await storeOn();
    const huge = loginEvent('huge', 'big-user', T0 + 5, { properties: { blob: 'x'.repeat(420 * 1024) } });
    const fine = loginEvent('fine', 'big-user', T0 + 6);

    // Act
    const result = await events.putEvents([huge, fine]);

    // Assert
    expect(result.stored).toBe(1);
    expect(result.refused).toEqual([{ event: huge, message: expect.stringMatching(/could not be stored: .*size/i) }]);
    expect((await readAllShards(events, 'user', T0, T0 + 10)).map((e) => e.eventId)).toEqual(['fine']);
  });

  it('answers a failed write with StoreUnavailableError for every call of its group, and stores nothing of it', async () => {
    // Arrange: the storage fails once (a full disk, say), then recovers.
    let failures = 1;
    const { events } = await storeOn({
      table: (table) => ({
        getItems: (keys) => table.getItems(keys),
        insertAbsent: async (items) => {
          if (failures-- > 0) throw new Error('IO error: No space left on device');
          return table.insertAbsent(items);
        },
      }),
    });
    const batch: ScoringEvent[] = [loginEvent('f-1', 'fail-user', T0 + 7), loginEvent('f-2', 'fail-user', T0 + 8)];

    // Act
    const failed = await events.putEvents(batch).catch((error: unknown) => error);
    const retried = await events.putEvents(batch);

    // Assert: no answer claimed the first attempt; the retry stores both, once.
    expect(failed).toBeInstanceOf(StoreUnavailableError);
    expect((failed as Error).message).toMatch(/No space left/);
    expect(retried).toEqual({ stored: 2, duplicates: 0, refused: [] });
  });

  it('reads account links in process as the entity store wrote them', async () => {
    // Arrange: links written through the DynamoDB API (group calls).
    const { scoresTable } = await storeOn();
    const writer = new DynamoEntityStore({ client, tableName: scoresTable, shardCount: SHARDS });
    await writer.upsert([
      { entityType: 'user', entityId: 'linked', traits: {}, accountId: 'acc-1', seenAt: T0 },
      { entityType: 'user', entityId: 'relinked', traits: {}, accountId: 'acc-1', seenAt: T0 },
      { entityType: 'user', entityId: 'relinked', traits: {}, accountId: 'acc-2', seenAt: T0 + 1 },
    ]);
    const reader = new SoleWriterEntityStore({
      client,
      tableName: scoresTable,
      table: dynalite.table(scoresTable),
      shardCount: SHARDS,
    });

    // Act
    const links = await reader.accountOf(['linked', 'relinked', 'unknown', 'linked']);

    // Assert
    expect([...links.entries()].sort()).toEqual([
      ['linked', 'acc-1'],
      ['relinked', 'acc-2'],
    ]);
  });
});
