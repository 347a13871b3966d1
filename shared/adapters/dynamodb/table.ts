import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { type QueryPagesOptions, queryPages } from './query-pages.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';

export type Item = Record<string, AttributeValue>;

/** What every DynamoDB store is built from. */
export interface DynamoTableOptions {
  client: DynamoDBClient;
  tableName: string;
  retry?: RetryPolicy | undefined;
}

/** A put's condition, e.g. `attribute_not_exists(pk)` or an optimistic `version = :v`. */
export type PutCondition = Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeValues'>;

/** A Query of this table: everything but the table's name. */
export type TableQuery = Omit<QueryCommandInput, 'TableName'>;

/** DynamoDB's answer when a put's condition does not hold (by name: fault-injecting tests throw look-alikes). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * One table as a store sees it: the client, the table's name and the store's retry policy, with the single-item
 * calls and the Query loops every store makes, each retried on throttling and server faults (retry.ts). Its calls
 * are the store's: the least-privilege test attributes them to the store that holds the table.
 */
export class DynamoTable {
  readonly client: DynamoDBClient;
  readonly name: string;
  readonly retry: RetryPolicy;

  constructor(options: DynamoTableOptions) {
    this.client = options.client;
    this.name = options.tableName;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** `call` with the store's retries; `what` names it in the StoreUnavailableError when they run out. */
  retrying<R>(what: string, call: () => Promise<R>): Promise<R> {
    return withRetries(call, this.retry, what);
  }

  /** A strongly consistent GetItem: the item, or undefined when there is none. */
  async get(key: Item, what: string): Promise<Item | undefined> {
    const out = await this.retrying(what, () =>
      this.client.send(new GetItemCommand({ TableName: this.name, Key: key, ConsistentRead: true })),
    );
    return out.Item;
  }

  /** PutItem, under `condition` when given (ConditionalCheckFailedException when it does not hold). */
  async put(item: Item, what: string, condition?: PutCondition): Promise<void> {
    await this.retrying(what, () =>
      this.client.send(new PutItemCommand({ TableName: this.name, Item: item, ...condition })),
    );
  }

  /** PutItem unless an item with its key is there: whether it was stored (false: the one there stays). */
  async putNew(item: Item, what: string): Promise<boolean> {
    try {
      await this.put(item, what, { ConditionExpression: 'attribute_not_exists(pk)' });
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** DeleteItem: whether there was an item to delete. */
  async delete(key: Item, what: string): Promise<boolean> {
    const out = await this.retrying(what, () =>
      this.client.send(new DeleteItemCommand({ TableName: this.name, Key: key, ReturnValues: 'ALL_OLD' })),
    );
    return out.Attributes !== undefined;
  }

  /** The pages of a Query of this table (query-pages.ts). */
  pages(
    input: TableQuery,
    what: string,
    options: Pick<QueryPagesOptions, 'remaining' | 'prepare'> = {},
  ): AsyncGenerator<QueryCommandOutput, void, undefined> {
    return queryPages(this.client, { ...input, TableName: this.name }, { retry: this.retry, what, ...options });
  }

  /** A Query's items, a page at a time (empty pages skipped). */
  async *items(input: TableQuery, what: string): AsyncGenerator<Item[], void, undefined> {
    for await (const page of this.pages(input, what)) {
      if (page.Items && page.Items.length > 0) yield page.Items;
    }
  }

  /** A Query's first `n` items (fewer at its end), each with its key `keyOf(item)`; `more`: whether any were left. */
  async upTo(
    input: TableQuery,
    what: string,
    n: number,
    keyOf: (item: Item) => string,
  ): Promise<{ items: { key: string; item: Item }[]; more: boolean }> {
    const items: { key: string; item: Item }[] = [];
    let more = false;
    for await (const page of this.pages(input, what, { remaining: () => n - items.length })) {
      for (const item of page.Items ?? []) items.push({ key: keyOf(item), item });
      more = page.LastEvaluatedKey !== undefined;
      if (items.length >= n) break;
    }
    return { items, more };
  }
}
