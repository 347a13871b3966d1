import { join } from 'node:path';
import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { COST_ASSUMPTIONS } from '../../../infra/cost/estimate.js';
import { dynamoItemBytes } from '../../../shared/adapters/dynamodb/score-items.js';
import { DynamoScoreStore } from '../../../shared/adapters/dynamodb/score-store.js';
import { type EntityScore, scoreEvents } from '../../../shared/domain/engine/index.js';
import { loadModels } from '../../../shared/domain/model/load.js';
import { shardOf } from '../../../shared/domain/shard.js';
import { historyEntryOf, storedScoreOf } from '../../../shared/ports/score-store.js';
import { previousOf } from '../../../shared/run/previous.js';
import { useDynamo } from '../../support/dynamo.js';
import { event, repeat } from '../../support/engine.js';

const customer = loadModels(join(import.meta.dirname, '../../../models')).find(
  (l) => l.model.name === 'customer',
)!.model;

/** A user id as products send them (a prefixed UUID). */
const USER = 'usr_6f1c2b0e-8a4d-4a57-9f0b-2f7c1e4b9d31';

/** Two daily scores of one active user of the example `customer` model (every signal, a penalty, a previous). */
async function twoDays(): Promise<[EntityScore, EntityScore]> {
  const extra = { userId: USER, accountId: 'acc_2b7d9e14-0c3f-4e88-b1a6-5d0f9c7e2a48' };
  const events = [
    ...repeat(3, 'project_created', '2026-03-01T09:00:00Z', extra),
    ...repeat(2, 'teammate_invited', '2026-03-03T09:00:00Z', extra),
    ...repeat(9, 'core_feature_used', '2026-03-05T09:00:00Z', extra),
    ...repeat(4, 'login', '2026-03-10T09:00:00Z', extra),
    event('session_ended', '2026-03-12T10:00:00Z', { ...extra, properties: { minutes: 42.5 } }),
    event('payment_failed', '2026-03-14T10:00:00Z', extra),
    ...repeat(4, 'ticket_opened', '2026-03-15T10:00:00Z', extra),
  ];
  const [first] = await scoreEvents(customer, events, { asOf: '2026-03-19' });
  const later = [...events, ...repeat(2, 'report_exported', '2026-03-20T09:00:00Z', extra)];
  const [second] = await scoreEvents(customer, later, { asOf: '2026-03-20', previousOf: () => previousOf(first!) });
  return [first!, second!];
}

describe('score items (compact layout) on dynalite', () => {
  const dynamo = useDynamo();
  let store: DynamoScoreStore;
  let table: string;
  let scores: [EntityScore, EntityScore];

  beforeAll(async () => {
    table = dynamo.scoresTable;
    store = new DynamoScoreStore({ client: dynamo.client, tableName: table, shardCount: 16 });
    scores = await twoDays();
    const [first, second] = scores;
    await store.write([{ score: first, previous: null, current: true }]);
    await store.write([{ score: second, previous: previousOf(first), current: true }]);
  }, 60_000);

  it('reads back exactly the stored score and history the run produced', async () => {
    // Arrange
    const [first, second] = scores;
    expect(second.reasons.length).toBeGreaterThan(0);
    expect(second.penalties.length).toBeGreaterThan(0);

    // Act
    const current = await store.getCurrent('user', USER, ['customer']);
    const listed: unknown[] = [];
    for await (const page of store.listCurrentShard('customer', shardOf(USER, 16))) listed.push(...page);
    const history = await store.history({ entityType: 'user', entityId: USER, model: 'customer' });
    const before = await store.latestBefore('user', [USER], 'customer', second.asOf);

    // Assert
    expect(current).toEqual([storedScoreOf(second, previousOf(first))]);
    expect(JSON.stringify(current[0])).toBe(JSON.stringify(storedScoreOf(second, previousOf(first))));
    // Listing for a run also hands over the open history run (docs/data-model.md#history-runs).
    expect(listed).toEqual([{ ...current[0], historyRun: { from: second.asOf, days: [] } }]);
    expect(history).toEqual([historyEntryOf(first), historyEntryOf(second)]);
    expect(before.get(USER)).toEqual(historyEntryOf(first));
  });

  it('still reads items of the earlier layout (JSON of the whole score in doc)', async () => {
    // Arrange: items as the previous version wrote them.
    const [first, second] = scores;
    const id = 'usr_legacy';
    const legacyCurrent = storedScoreOf({ ...second, entityId: id }, previousOf(first));
    const legacyHistory = historyEntryOf({ ...first, entityId: id });
    await dynamo.client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `CUR#customer#${shardOf(id, 16)}` },
          sk: { S: `user#${id}` },
          gpk: { S: 'SCORE#customer#x#0' },
          gsk: { S: `0#user#${id}` },
          et: { S: 'user' },
          eid: { S: id },
          s: { N: String(second.score) },
          b: { S: second.band },
          doc: { S: JSON.stringify(legacyCurrent) },
        },
      }),
    );
    await dynamo.client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `HIST#user#${id}` },
          sk: { S: `customer#${first.asOf}` },
          doc: { S: JSON.stringify(legacyHistory) },
        },
      }),
    );

    // Act
    const current = await store.getCurrent('user', id, ['customer']);
    const history = await store.history({ entityType: 'user', entityId: id, model: 'customer' });

    // Assert
    expect(current).toEqual([legacyCurrent]);
    expect(history).toEqual([legacyHistory]);
  });

  it('fits a current item and its byScore copy in one write unit each; the sizes are the ones pulse cost prices', async () => {
    // Act
    const [, second] = scores;
    const cur = await dynamo.client.send(
      new GetItemCommand({
        TableName: table,
        Key: { pk: { S: `CUR#customer#${shardOf(USER, 16)}` }, sk: { S: `user#${USER}` } },
      }),
    );
    const hist = await dynamo.client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': { S: `HIST#user#${USER}` }, ':sk': { S: `customer#${second.asOf}` } },
      }),
    );
    const currentBytes = dynamoItemBytes(cur.Item!);
    const historyBytes = dynamoItemBytes(hist.Items![0]!);
    // The layout before: the whole score as JSON.
    const before = JSON.stringify(storedScoreOf(second, previousOf(scores[0]))).length;

    // Assert: measured here, priced there (infra/cost/estimate.ts), so the estimate follows the layout.
    expect(currentBytes).toBeLessThanOrEqual(1024);
    expect(currentBytes).toBeLessThan(before * 0.75);
    expect(COST_ASSUMPTIONS.scoreItemBytes).toBeGreaterThanOrEqual(currentBytes);
    expect(COST_ASSUMPTIONS.scoreItemBytes - currentBytes).toBeLessThan(64);
    expect(COST_ASSUMPTIONS.historyItemBytes).toBeGreaterThanOrEqual(historyBytes);
    expect(COST_ASSUMPTIONS.historyItemBytes - historyBytes).toBeLessThan(64);
  });
});
