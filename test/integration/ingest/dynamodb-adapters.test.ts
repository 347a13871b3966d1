import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, expect, it } from 'vitest';
import { DynamoEntityStore } from '../../../shared/adapters/dynamodb/entity-store.js';
import { DynamoEventStore, eventItem } from '../../../shared/adapters/dynamodb/event-store.js';
import { eventSortKey, userPartition } from '../../../shared/adapters/dynamodb/keys.js';
import { migrateEventKeys } from '../../../shared/adapters/dynamodb/migrate-event-keys.js';
import { DynamoOverrideStore } from '../../../shared/adapters/dynamodb/override-store.js';
import { DynamoScoreStore } from '../../../shared/adapters/dynamodb/score-store.js';
import { DAY_MS } from '../../../shared/domain/time.js';
import { storeBatch } from '../../../shared/ingest/ingest.js';
import { createPulseTables, describeOnDynamoEngines, useDynamo } from '../../support/dynamo.js';
import { describeEntityStoreContract } from '../../support/entity-store-contract.js';
import { describeEventStoreContract, loginEvent, readAllShards } from '../../support/event-store-contract.js';
import { describeOverrideStoreContract } from '../../support/override-store-contract.js';
import { describeScoreStoreContract } from '../../support/score-store-contract.js';

const SHARDS = 4;
const T0 = Date.UTC(2026, 2, 10, 0, 0, 0);

describeOnDynamoEngines('DynamoDB adapters on', (engine) => {
  const dynamo = useDynamo(engine.start);
  let events: DynamoEventStore;
  let entities: DynamoEntityStore;
  let eventsTable: string;

  beforeAll(() => {
    eventsTable = dynamo.eventsTable;
    events = new DynamoEventStore({
      client: dynamo.client,
      tableName: eventsTable,
      shardCount: SHARDS,
      retentionDays: 400,
      pageSize: 3,
    });
    entities = new DynamoEntityStore({ client: dynamo.client, tableName: dynamo.scoresTable, shardCount: SHARDS });
  });

  /** Fresh tables per contract case: each case starts from an empty store. */
  const freshTables = () => createPulseTables(dynamo.client);
  describeEventStoreContract(engine.title, async (shardCount, pageSize) => {
    const tables = await freshTables();
    return new DynamoEventStore({ client: dynamo.client, tableName: tables.eventsTable, shardCount, pageSize });
  });
  describeEntityStoreContract(engine.title, async (shardCount) => {
    const tables = await freshTables();
    return new DynamoEntityStore({ client: dynamo.client, tableName: tables.scoresTable, shardCount });
  });
  describeScoreStoreContract(engine.title, async (shardCount, pageSize) => {
    const tables = await freshTables();
    return new DynamoScoreStore({ client: dynamo.client, tableName: tables.scoresTable, shardCount, pageSize });
  });
  describeOverrideStoreContract(engine.title, async () => {
    const tables = await freshTables();
    return new DynamoOverrideStore({ client: dynamo.client, tableName: tables.scoresTable });
  });

  it('identifies an event by (userId, eventId), exactly once under races', async () => {
    // Arrange: user ids that share a shard would collide under a plain `user#id` key; the length prefix keeps them apart.
    // (Local mode's in-process store has the same test in sole-writer-event-store.test.ts.)
    const label = 'conditional puts';
    const ts = T0 + 7_200_000;
    const store = new DynamoEventStore({ client: dynamo.client, tableName: eventsTable, shardCount: SHARDS });
    const a = loginEvent(`shared-${label}`, 'racer-a', ts, { properties: { who: 'a' } });
    const b = loginEvent(`shared-${label}`, 'racer-b', ts, { properties: { who: 'b' } });
    const hashA = loginEvent(`b#${label}`, 'x#a', ts);
    const hashB = loginEvent(`a#b#${label}`, 'x', ts);

    // Act: 20 concurrent sends of each user's event, interleaved.
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.putEvents([i % 2 === 0 ? a : b])));
    const hashes = await store.putEvents([hashA, hashB]);

    // Assert: accepted exactly once per user, every other answer a duplicate, both stored as sent.
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(2);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(38);
    expect(hashes).toEqual({ stored: 2, duplicates: 0, refused: [] });
    const stored = (await readAllShards(events, 'user', ts, ts + 1)).sort((x, y) => x.userId.localeCompare(y.userId));
    expect(stored).toEqual([a, b, hashB, hashA].sort((x, y) => x.userId.localeCompare(y.userId)));
  });

  it('migrates events of the earlier key layout (bare event id) in place, idempotently', async () => {
    // Arrange: two events written as the previous version did, sk = the event id.
    const ts = T0 + 10_800_000;
    const old = [
      loginEvent('legacy-1', 'legacy-user', ts, { properties: { a: 1 } }),
      loginEvent('legacy-2', 'other', ts),
    ];
    for (const e of old) {
      const item = eventItem(e, SHARDS, 400);
      item.sk = { S: e.eventId };
      await dynamo.client.send(new PutItemCommand({ TableName: eventsTable, Item: item }));
    }
    const before = (await readAllShards(events, 'user', ts, ts + 1)).map((e) => e.eventId);

    // Act
    const first = await migrateEventKeys({ client: dynamo.client, tableName: eventsTable });
    const second = await migrateEventKeys({ client: dynamo.client, tableName: eventsTable });
    const resend = await events.putEvents(old);

    // Assert: read the same before and after; afterwards a resend is a duplicate, and nothing is stored twice.
    expect(before).toEqual(['legacy-1', 'legacy-2']);
    expect(first.rewritten).toBe(2);
    expect(second.rewritten).toBe(0);
    expect(resend).toMatchObject({ stored: 0, duplicates: 2 });
    expect(await readAllShards(events, 'user', ts, ts + 1)).toEqual(old);
  });

  it('keeps an event whole: properties exactly, TTL from the later of its timestamp and its arrival, plus retention', async () => {
    // Arrange
    const e = loginEvent('ttl-1', 'ttl-user', T0 + 5, {
      accountId: 'ttl-acc',
      properties: { big: 2 ** 70, tiny: 1e-300, empty: '', deep: [[{}]] },
    });

    // Act
    const arrivedFrom = Date.now();
    await events.putEvents([e]);
    const arrivedTo = Date.now();
    const raw = await dynamo.client.send(
      new GetItemCommand({
        TableName: eventsTable,
        Key: { pk: { S: userPartition('ttl-user', T0 + 5, SHARDS) }, sk: { S: eventSortKey('ttl-user', 'ttl-1') } },
      }),
    );

    // Assert
    // T0 is in the past, so the arrival decides: an imported old event still stays the whole retention period.
    const expiresAt = Number(raw.Item?.expiresAt?.N);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor((Math.max(T0 + 5, arrivedFrom) + 400 * DAY_MS) / 1000));
    expect(expiresAt).toBeLessThanOrEqual(Math.floor((Math.max(T0 + 5, arrivedTo) + 400 * DAY_MS) / 1000));
    expect(raw.Item?.pk?.S).toMatch(/^U#\d#20260310$/);
    expect(raw.Item?.apk?.S).toMatch(/^A#\d#20260310$/);
    const [back] = await readAllShards(events, 'user', T0, T0 + 10);
    expect(back).toEqual(e);
  });

  it('routes events to the account index by their own account or the account their user was grouped with', async () => {
    // Arrange
    const base = T0 + 40 * DAY_MS;
    await entities.upsert([{ entityType: 'user', entityId: 'acct-user-2', accountId: 'acc-linked', seenAt: base }]);
    const batch = {
      events: [
        loginEvent('acct-1', 'acct-user-1', base + 1, { accountId: 'acc-own' }),
        loginEvent('acct-2', 'acct-user-2', base + 2),
        loginEvent('acct-3', 'acct-user-3', base + 3),
        loginEvent('acct-4', 'acct-user-2', base + 4, { accountId: 'acc-own' }),
      ],
      traits: [],
      traitMessages: 0,
      rejected: [],
      total: 4,
      itemsPath: 'events',
    };

    // Act
    const outcome = await storeBatch({ events, entities }, batch);
    const byAccount = await readAllShards(events, 'account', base, base + DAY_MS);
    const byUser = await readAllShards(events, 'user', base, base + DAY_MS);

    // Assert
    expect(outcome.accepted).toBe(4);
    expect(byAccount.map((e) => [e.eventId, e.accountId])).toEqual([
      ['acct-1', 'acc-own'],
      ['acct-2', 'acc-linked'],
      ['acct-4', 'acc-own'],
    ]);
    expect(byUser.map((e) => e.eventId)).toEqual(['acct-1', 'acct-2', 'acct-3', 'acct-4']);
  });
});
