import {
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandInput,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { type RetryPolicy, withRetries } from './retry.js';

export interface QueryPagesOptions {
  retry: RetryPolicy;
  /** What the query is for, in the StoreUnavailableError when retries run out. */
  what: string;
  /** How many items are still wanted: each page's Limit (omit to read whole pages). */
  remaining?: (() => number) | undefined;
  /** Called on every command before it is sent (each retry included), e.g. to add middleware. */
  prepare?: ((command: QueryCommand) => void) | undefined;
}

/**
 * The pages of one Query, from `input.ExclusiveStartKey` (or the start) to its end, each page with the store's
 * retries on throttling and server faults. Stop early by breaking out of the loop; the last page's
 * LastEvaluatedKey says whether more items were left.
 */
export async function* queryPages(
  client: DynamoDBClient,
  input: QueryCommandInput,
  options: QueryPagesOptions,
): AsyncGenerator<QueryCommandOutput, void, undefined> {
  let startKey = input.ExclusiveStartKey;
  do {
    const page = await withRetries(
      () => {
        const command = new QueryCommand({
          ...input,
          ...(options.remaining ? { Limit: options.remaining() } : {}),
          ExclusiveStartKey: startKey,
        });
        options.prepare?.(command);
        return client.send(command);
      },
      options.retry,
      options.what,
    );
    startKey = page.LastEvaluatedKey;
    yield page;
  } while (startKey);
}

/** The pages of one Scan, as queryPages reads a Query's: from `input.ExclusiveStartKey` to the end, each retried. */
export async function* scanPages(
  client: DynamoDBClient,
  input: ScanCommandInput,
  options: Pick<QueryPagesOptions, 'retry' | 'what'>,
): AsyncGenerator<ScanCommandOutput, void, undefined> {
  let startKey = input.ExclusiveStartKey;
  do {
    const page = await withRetries(
      () => client.send(new ScanCommand({ ...input, ExclusiveStartKey: startKey })),
      options.retry,
      options.what,
    );
    startKey = page.LastEvaluatedKey;
    yield page;
  } while (startKey);
}
