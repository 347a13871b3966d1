import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { scanPages } from './query-pages.js';
import { batchDeleteAll, DEFAULT_RETRY, type RetryPolicy } from './retry.js';

/** The key of an events table item. */
export type ItemKey = { pk: AttributeValue; sk: AttributeValue };

/**
 * What DynamoDB's TTL would delete at `now`: the keys of the items whose `expiresAt` (epoch seconds) is before it.
 * The embedded DynamoDB of local mode has no TTL; local mode archives these items' days, then deletes them
 * (shared/local/archive.ts), so its data directory holds the hot window only, as the table in AWS does.
 */
export async function expiredItemKeys(
  client: DynamoDBClient,
  tableName: string,
  now: number,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<ItemKey[]> {
  const keys: ItemKey[] = [];
  const input = {
    TableName: tableName,
    FilterExpression: '#ttl < :now',
    ExpressionAttributeNames: { '#ttl': 'expiresAt', '#pk': 'pk', '#sk': 'sk' },
    ExpressionAttributeValues: { ':now': { N: String(Math.floor(now / 1000)) } },
    ProjectionExpression: '#pk, #sk',
  };
  for await (const page of scanPages(client, input, { retry, what: 'finding expired events' })) {
    for (const item of page.Items ?? []) if (item.pk && item.sk) keys.push({ pk: item.pk, sk: item.sk });
  }
  return keys;
}

/** Delete items by key, 25 a call, retrying unprocessed ones. */
export function deleteItems(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly ItemKey[],
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<void> {
  return batchDeleteAll(client, tableName, keys, retry, 'deleting expired events');
}

/** `YYYY-MM-DD` of an events table partition key (`U#<shard>#<YYYYMMDD>`), or undefined for another item. */
export function dateOfPartition(pk: string): string | undefined {
  const match = /^[UA]#\d+#(\d{4})(\d{2})(\d{2})$/.exec(pk);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}
