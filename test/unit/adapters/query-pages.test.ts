import { DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { queryPages } from '../../../shared/adapters/dynamodb/query-pages.js';
import type { RetryPolicy } from '../../../shared/adapters/dynamodb/retry.js';
import { StoreUnavailableError } from '../../../shared/ports/errors.js';
import { mockableDynamoClient, serviceError, throttled } from '../../support/dynamo-mock.js';

const ddb = mockClient(DynamoDBClient);
const client = mockableDynamoClient();
const retry: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };
const input: QueryCommandInput = {
  TableName: 't',
  KeyConditionExpression: 'pk = :pk',
  ExpressionAttributeValues: { ':pk': { S: 'P' } },
};
const key = (sk: string) => ({ pk: { S: 'P' }, sk: { S: sk } });

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('queryPages', () => {
  beforeEach(() => ddb.reset());

  it('follows LastEvaluatedKey from the given start key to the last page', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [key('a')], LastEvaluatedKey: key('a') })
      .resolvesOnce({ Items: [key('b')], LastEvaluatedKey: key('b') })
      .resolvesOnce({ Items: [key('c')] });
    const pages = await collect(queryPages(client, { ...input, ExclusiveStartKey: key('0') }, { retry, what: 'x' }));
    expect(pages.map((p) => p.Items?.[0]?.sk?.S)).toEqual(['a', 'b', 'c']);
    const starts = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExclusiveStartKey?.sk?.S);
    expect(starts).toEqual(['0', 'a', 'b']);
  });

  it('sets each page Limit from what is still wanted, and stops reading when the loop breaks', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [key('a'), key('b')], LastEvaluatedKey: key('b') })
      .resolvesOnce({ Items: [key('c')], LastEvaluatedKey: key('c') })
      .resolves({ Items: [key('z')], LastEvaluatedKey: key('z') });
    const seen: string[] = [];
    for await (const page of queryPages(client, input, { retry, what: 'x', remaining: () => 3 - seen.length })) {
      for (const item of page.Items ?? []) seen.push(item.sk!.S!);
      if (seen.length >= 3) break;
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.Limit)).toEqual([3, 1]);
  });

  it('retries a throttled page with the same start key, and gives up with StoreUnavailableError', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [key('a')], LastEvaluatedKey: key('a') })
      .rejectsOnce(throttled())
      .resolvesOnce({ Items: [key('b')] });
    const prepared: number[] = [];
    const pages = await collect(queryPages(client, input, { retry, what: 'x', prepare: () => prepared.push(1) }));
    expect(pages).toHaveLength(2);
    expect(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExclusiveStartKey?.sk?.S)).toEqual([
      undefined,
      'a',
      'a',
    ]);
    expect(prepared).toHaveLength(3);

    ddb.reset();
    ddb.on(QueryCommand).rejects(throttled());
    await expect(collect(queryPages(client, input, { retry, what: 'reading x' }))).rejects.toThrow(
      StoreUnavailableError,
    );
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(3);
  });

  it('does not retry a bad request', async () => {
    const invalid = serviceError('ValidationException', 400, 'bad key');
    ddb.on(QueryCommand).rejects(invalid);
    await expect(collect(queryPages(client, input, { retry, what: 'x' }))).rejects.toBe(invalid);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});
