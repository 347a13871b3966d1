import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  DynamoDBServiceException,
  InternalServerError,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { chunk } from '../../domain/chunk.js';
import { StoreUnavailableError } from '../../ports/errors.js';

/**
 * Retries on top of the SDK's own: DynamoDB batch calls succeed partially (UnprocessedItems / UnprocessedKeys)
 * and throttle under bursts, and only the caller can resend the part that did not go through.
 */
export interface RetryPolicy {
  /** Calls in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  random?: (() => number) | undefined;
}

/** About 6 s of waiting at worst (full jitter halves it on average): within an ingest Lambda's timeout. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 2_000 });

/** "Full jitter" exponential backoff: a random delay in [0, min(max, base × 2^attempt)). */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

/** Throttling, server-side faults and network failures are worth another try; a bad request is not. */
export function isRetryableError(error: unknown): boolean {
  if (
    error instanceof ProvisionedThroughputExceededException ||
    error instanceof ThrottlingException ||
    error instanceof RequestLimitExceeded ||
    error instanceof LimitExceededException ||
    error instanceof InternalServerError
  ) {
    return true;
  }
  if (error instanceof DynamoDBServiceException) {
    return error.$fault === 'server' || error.$retryable !== undefined || (error.$metadata.httpStatusCode ?? 0) >= 500;
  }
  // Not a DynamoDB answer at all: a timeout or a dropped connection (programming errors are not retried).
  return (
    error instanceof Error &&
    !(error instanceof TypeError) &&
    !(error instanceof RangeError) &&
    !(error instanceof SyntaxError) &&
    !(error instanceof ReferenceError)
  );
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Send `items` until none is left: `send` returns what was not processed (or throws). Retryable failures and
 * leftovers are resent after a jittered backoff; when attempts run out, StoreUnavailableError says how many
 * items never made it.
 */
export async function sendAll<T>(
  items: readonly T[],
  send: (items: readonly T[]) => Promise<readonly T[]>,
  policy: RetryPolicy,
  what: string,
): Promise<void> {
  let pending = items;
  let lastError: unknown;
  for (let attempt = 1; pending.length > 0; attempt++) {
    try {
      pending = await send(pending);
    } catch (error) {
      if (!isRetryableError(error)) throw error;
      lastError = error;
    }
    if (pending.length === 0) return;
    if (attempt >= policy.maxAttempts) {
      throw new StoreUnavailableError(
        `${what}: ${pending.length} item(s) still unprocessed after ${attempt} attempts`,
        pending.length,
        { cause: lastError },
      );
    }
    await (policy.sleep ?? defaultSleep)(backoffDelay(attempt, policy));
  }
}

/** One call with retries on throttling and server faults (for single-item reads and writes). */
export async function withRetries<R>(fn: () => Promise<R>, policy: RetryPolicy, what: string): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isRetryableError(error)) throw error;
      if (attempt >= policy.maxAttempts) {
        throw new StoreUnavailableError(`${what}: failed after ${attempt} attempts`, 1, { cause: error });
      }
      await (policy.sleep ?? defaultSleep)(backoffDelay(attempt, policy));
    }
  }
}

/**
 * Put `items` with BatchWriteItem, 25 a call and `concurrency` calls at a time, resending UnprocessedItems and
 * throttled calls with jittered backoff until all are stored or the policy gives up (StoreUnavailableError).
 */
export function batchPutAll(
  client: DynamoDBClient,
  tableName: string,
  items: readonly Record<string, AttributeValue>[],
  policy: RetryPolicy,
  what: string,
  concurrency = 1,
): Promise<void> {
  const requests = items.map((Item) => ({ PutRequest: { Item } }));
  return batchWriteAll(client, tableName, requests, policy, what, concurrency);
}

/** Delete the items of `keys` with BatchWriteItem, 25 a call, as batchPutAll puts. */
export function batchDeleteAll(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Record<string, AttributeValue>[],
  policy: RetryPolicy,
  what: string,
): Promise<void> {
  const requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  return batchWriteAll(client, tableName, requests, policy, what, 1);
}

async function batchWriteAll(
  client: DynamoDBClient,
  tableName: string,
  requests: readonly WriteRequest[],
  policy: RetryPolicy,
  what: string,
  concurrency: number,
): Promise<void> {
  const batches = chunk(requests, 25);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      await sendAll(
        batch,
        async (pending) => {
          const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: [...pending] } }));
          return out.UnprocessedItems?.[tableName] ?? [];
        },
        policy,
        what,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
}
