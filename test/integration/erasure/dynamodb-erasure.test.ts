import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { expect, it } from 'vitest';
import { DynamoAlertStore } from '../../../shared/adapters/dynamodb/alert-store.js';
import { DynamoEntityDataEraser } from '../../../shared/adapters/dynamodb/entity-eraser.js';
import { DynamoEntityStore } from '../../../shared/adapters/dynamodb/entity-store.js';
import { DynamoErasureLog } from '../../../shared/adapters/dynamodb/erasure-log.js';
import { DynamoEventStore } from '../../../shared/adapters/dynamodb/event-store.js';
import { DynamoOverrideStore } from '../../../shared/adapters/dynamodb/override-store.js';
import { DynamoScoreStore } from '../../../shared/adapters/dynamodb/score-store.js';
import type { FiredAlert } from '../../../shared/domain/engine/types.js';
import { erasureHash } from '../../../shared/domain/erasure.js';
import { shardOf } from '../../../shared/domain/shard.js';
import { DAY_MS } from '../../../shared/domain/time.js';
import { eraseEntity } from '../../../shared/erasure/erase.js';
import { TombstoneCache } from '../../../shared/erasure/tombstones.js';
import { describeOnDynamoEngines, useDynamo } from '../../support/dynamo.js';
import { weeklyLogins } from '../../support/engine.js';
import { loaded } from '../../support/run-fixture.js';
import { entityScore } from '../../support/scores.js';

const SHARDS = 4;
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const usage = weeklyLogins('usage', { perLogin: 2, high: 5 });

/** A score of user `entityId` as of `asOf`, in account acme. */
const score = (entityId: string, asOf: string) => entityScore({ entityId, asOf, accountId: 'acme', score: 4 });

describeOnDynamoEngines('erasure adapters on', (engine) => {
  const dynamo = useDynamo(engine.start, 'erase');

  // Erasure walks the day partitions of the whole retention period on every shard: minutes on a busy host.
  it('erases a user from both tables (user partitions, account index, record, scores, history, alerts, overrides)', async () => {
    // Arrange
    const { client, eventsTable, scoresTable } = dynamo;
    const events = new DynamoEventStore({
      client,
      tableName: eventsTable,
      shardCount: SHARDS,
      clock: () => NOW,
    });
    const entities = new DynamoEntityStore({ client, tableName: scoresTable, shardCount: SHARDS });
    const scores = new DynamoScoreStore({ client, tableName: scoresTable, shardCount: SHARDS });
    const alerts = new DynamoAlertStore({ client, tableName: scoresTable });
    const overrides = new DynamoOverrideStore({ client, tableName: scoresTable });
    const log = new DynamoErasureLog({ client, tableName: scoresTable });
    // `a#b` shares a prefix with `a`: the sort key's length prefix must keep them apart.
    const users = ['a', 'a#b', 'other'];
    await events.putEvents(
      users.flatMap((u) =>
        [1, 3, 30].map((daysAgo) => ({
          eventId: `${u}-${daysAgo}`,
          name: 'login',
          userId: u,
          accountId: 'acme',
          timestamp: NOW - daysAgo * DAY_MS,
        })),
      ),
    );
    await entities.upsert(users.map((u) => ({ entityType: 'user', entityId: u, traits: { x: 1 }, seenAt: NOW })));
    await scores.write(
      users.flatMap((u) => [
        { score: score(u, '2026-03-08T00:00:00.000Z'), previous: null, current: false },
        { score: score(u, '2026-03-09T00:00:00.000Z'), previous: null, current: true },
      ]),
    );
    const alert = (u: string) =>
      ({
        ...score(u, '2026-03-09T00:00:00.000Z'),
        type: 'ScoreDropped',
        topContributions: [],
      }) as unknown as FiredAlert;
    await alerts.put(users.map(alert));
    await overrides.put({
      entityType: 'user',
      entityId: 'a',
      model: 'usage',
      band: 'high',
      reason: 'r',
      expiresAt: '2026-04-01T00:00:00.000Z',
      createdAt: '2026-03-09T00:00:00.000Z',
    });
    const tombstones = new TombstoneCache(log);
    const deps = {
      models: () => [loaded(usage)],
      data: new DynamoEntityDataEraser({ client, eventsTable, scoresTable, shardCount: SHARDS }),
      overrides,
      log,
      shardCount: SHARDS,
      retentionDays: 400,
      onTombstonesChanged: () => tombstones.invalidate(),
      clock: () => NOW,
    };

    // Act
    const result = await eraseEntity(deps, { entityType: 'user', entityId: 'a', requestedBy: 'tester' });
    const again = await eraseEntity(deps, { entityType: 'user', entityId: 'a', requestedBy: 'tester' });

    // Assert
    expect(result).toMatchObject({
      status: 'pending',
      pending: ['snapshots', 'archive'],
      erased: { events: 3, entity: 1, scores: 1, history: 2, alerts: 1, overrides: 1 },
    });
    expect(again.erased).toEqual({ events: 0, entity: 0, scores: 0, history: 0, alerts: 0, overrides: 0 });
    const left: string[] = [];
    for (let shard = 0; shard < SHARDS; shard++)
      for (const level of ['user', 'account'] as const)
        for await (const page of events.readShard({ level, shard, from: NOW - 400 * DAY_MS, to: NOW + DAY_MS }))
          for (const e of page) left.push(`${level}:${e.userId}`);
    expect(left.sort()).toEqual(
      ['user:a#b', 'user:a#b', 'user:a#b', 'user:other', 'user:other', 'user:other']
        .concat(['account:a#b', 'account:a#b', 'account:a#b', 'account:other', 'account:other', 'account:other'])
        .sort(),
    );
    expect(await entities.get('user', 'a')).toBeUndefined();
    expect(await entities.get('user', 'a#b')).toBeDefined();
    expect(await scores.getCurrent('user', 'a', ['usage'])).toEqual([]);
    expect(await scores.history({ entityType: 'user', entityId: 'a#b', model: 'usage' })).toHaveLength(2);
    const listed = await alerts.list({ since: '2026-01-01', models: ['usage'] });
    expect(listed.items.map((a) => a.entityId).sort()).toEqual(['a#b', 'other']);
    expect(await tombstones.erased('user', users)).toEqual(new Set(['a']));
    const audit = await log.list(10);
    expect(audit.items).toHaveLength(2);
    expect(audit.items[0]!.idHash).toBe(erasureHash('user', 'a'));
    expect((await log.pending()).length).toBe(2);
    // No item of the scores table holds the id in clear outside what was not erased.
    const tomb = await client.send(
      new QueryCommand({
        TableName: scoresTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'TOMB#user' } },
      }),
    );
    expect(tomb.Items?.map((i) => i.sk?.S)).toEqual([erasureHash('user', 'a')]);
    expect(JSON.stringify(audit.items)).not.toContain('"a"');
    expect(shardOf('a', SHARDS)).toBe(audit.items[0]!.shard);
  }, 180_000);

  it('lists the audit log a page at a time and refuses a forged cursor', async () => {
    // Arrange
    const log = new DynamoErasureLog({ client: dynamo.client, tableName: dynamo.scoresTable });

    // Act
    const first = await log.list(1);
    const second = await log.list(1, first.nextCursor!);

    // Assert
    expect(first.items).toHaveLength(1);
    expect(second.items).toHaveLength(1);
    expect(second.items[0]!.requestedAt <= first.items[0]!.requestedAt).toBe(true);
    await expect(log.list(1, Buffer.from('nope').toString('base64url'))).rejects.toThrow(/cursor/);
  });
});
