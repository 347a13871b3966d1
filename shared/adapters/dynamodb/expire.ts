import { type AttributeValue, BatchWriteItemCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { chunk, DEFAULT_RETRY, type RetryPolicy, sendAll } from './retry.js';

type Key = Record<string, AttributeValue>;

/**
 * What DynamoDB's TTL does in AWS, for the embedded DynamoDB of local mode (which has no TTL): delete the items
 * whose `expiresAt` (epoch seconds) is before `now`. Returns how many were deleted. Local mode runs it after the
 * daily archive step, so its data directory holds the hot window only, as the table in AWS does.
 */
export async function deleteExpiredItems(
  client: DynamoDBClient,
  tableName: string,
  now: number,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<number> {
  let deleted = 0;
  let startKey: Key | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'expiresAt', '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':now': { N: String(Math.floor(now / 1000)) } },
        ProjectionExpression: '#pk, #sk',
        ExclusiveStartKey: startKey,
      }),
    );
    startKey = page.LastEvaluatedKey;
    const keys = (page.Items ?? []) as Key[];
    for (const part of chunk(keys, 25)) {
      await sendAll(
        part,
        async (pending) => {
          const out = await client.send(
            new BatchWriteItemCommand({
              RequestItems: { [tableName]: pending.map((Key) => ({ DeleteRequest: { Key } })) },
            }),
          );
          return (out.UnprocessedItems?.[tableName] ?? []).flatMap((r) =>
            r.DeleteRequest?.Key ? [r.DeleteRequest.Key] : [],
          );
        },
        retry,
        'deleting expired events',
      );
      deleted += part.length;
    }
  } while (startKey);
  return deleted;
}
