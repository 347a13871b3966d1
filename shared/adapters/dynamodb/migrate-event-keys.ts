import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { eventIdOfSortKey, eventSortKey } from './keys.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';

type Item = Record<string, AttributeValue>;

export interface MigrateEventKeysOptions {
  client: DynamoDBClient;
  tableName: string;
  retry?: RetryPolicy | undefined;
  /** Called after each scanned page with the running totals. */
  onProgress?: ((progress: MigrateEventKeysResult) => void) | undefined;
}

export interface MigrateEventKeysResult {
  scanned: number;
  /** Items of the earlier layout rewritten under `<n>#<userId>#<eventId>` (and the old item deleted). */
  rewritten: number;
}

/**
 * The backfill of docs/data-model.md#migrating-event-keys: events stored with the bare event id as sort key get the
 * `(userId, eventId)` key. Idempotent and safe beside live ingest: the copy is a conditional put (an event already
 * rewritten, or sent again since, is left as it is) and the old item is deleted only after it.
 */
export async function migrateEventKeys(options: MigrateEventKeysOptions): Promise<MigrateEventKeysResult> {
  const { client, tableName } = options;
  const retry = options.retry ?? DEFAULT_RETRY;
  const result: MigrateEventKeysResult = { scanned: 0, rewritten: 0 };
  let startKey: Item | undefined;
  do {
    const page = await withRetries(
      () => client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey })),
      retry,
      'scanning events',
    );
    startKey = page.LastEvaluatedKey;
    for (const item of page.Items ?? []) {
      result.scanned++;
      const sk = item.sk?.S;
      const userId = item.u?.S;
      if (sk === undefined || userId === undefined || eventIdOfSortKey(sk, userId) !== sk) continue;
      const renamed: Item = { ...item, sk: { S: eventSortKey(userId, sk) } };
      try {
        await withRetries(
          () =>
            client.send(
              new PutItemCommand({
                TableName: tableName,
                Item: renamed,
                ConditionExpression: 'attribute_not_exists(pk)',
              }),
            ),
          retry,
          'rewriting an event key',
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      await withRetries(
        () => client.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: item.pk!, sk: item.sk! } })),
        retry,
        'deleting an old event key',
      );
      result.rewritten++;
    }
    options.onProgress?.({ ...result });
  } while (startKey);
  return result;
}
