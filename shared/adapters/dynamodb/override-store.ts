import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { StoredOverride } from '../../domain/override.js';
import type { EntityLevel } from '../../ports/event-store.js';
import type { OverrideStore } from '../../ports/override-store.js';
import { queryPages } from './query-pages.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';

type Item = Record<string, AttributeValue>;

export interface DynamoOverrideStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  retry?: RetryPolicy | undefined;
}

/**
 * Overrides in the scores table: `pk` = OVERRIDE#<model>, `sk` = <entityType>#<entityId>, the override as JSON in
 * `doc`; DynamoDB's TTL (`expiresAt`, epoch seconds) removes it some time after it expired (docs/data-model.md).
 */
export class DynamoOverrideStore implements OverrideStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly retry: RetryPolicy;

  constructor(options: DynamoOverrideStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  async put(override: StoredOverride): Promise<void> {
    const item: Item = {
      ...key(override.entityType, override.entityId, override.model),
      doc: { S: JSON.stringify(override) },
      expiresAt: { N: String(Math.ceil(Date.parse(override.expiresAt) / 1000)) },
    };
    await withRetries(
      () => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item })),
      this.retry,
      'storing an override',
    );
  }

  async get(entityType: EntityLevel, entityId: string, model: string): Promise<StoredOverride | undefined> {
    const result = await withRetries(
      () =>
        this.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: key(entityType, entityId, model),
            ConsistentRead: true,
          }),
        ),
      this.retry,
      'reading an override',
    );
    return result.Item ? (JSON.parse(result.Item.doc!.S!) as StoredOverride) : undefined;
  }

  async list(model: string): Promise<StoredOverride[]> {
    const out: StoredOverride[] = [];
    const input = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `OVERRIDE#${model}` } },
      ConsistentRead: true,
    };
    for await (const page of queryPages(this.client, input, { retry: this.retry, what: 'listing overrides' })) {
      for (const item of page.Items ?? []) out.push(JSON.parse(item.doc!.S!) as StoredOverride);
    }
    return out;
  }

  async delete(entityType: EntityLevel, entityId: string, model: string): Promise<boolean> {
    const result = await withRetries(
      () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: key(entityType, entityId, model),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      this.retry,
      'deleting an override',
    );
    return result.Attributes !== undefined;
  }
}

function key(entityType: EntityLevel, entityId: string, model: string): Item {
  return { pk: { S: `OVERRIDE#${model}` }, sk: { S: `${entityType}#${entityId}` } };
}
