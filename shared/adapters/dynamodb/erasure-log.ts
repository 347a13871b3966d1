import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ErasedLevel, ErasureRecord, Tombstone } from '../../domain/erasure.js';
import type { ErasureLog } from '../../ports/erasure-store.js';
import { InvalidCursorError } from '../../ports/score-store.js';
import { queryPages } from './query-pages.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';

type Item = Record<string, AttributeValue>;

const AUDIT_PARTITION = 'ERASURE';

export interface DynamoErasureLogOptions {
  client: DynamoDBClient;
  tableName: string;
  retry?: RetryPolicy | undefined;
}

/**
 * Tombstones and the erasure audit log in the scores table (docs/data-model.md#erasure-items):
 * - tombstone: `pk` = TOMB#<user|account>, `sk` = the id's hash; `erasureId`, `erasedAt`. No TTL: it stays until
 *   lifted.
 * - audit: `pk` = ERASURE, `sk` = <requestedAt>#<erasureId>, the record as JSON in `doc`; `open` is set while
 *   bucket steps are pending (the sweep reads only those).
 * Erasures are rare, so one partition each is far below any partition limit.
 */
export class DynamoErasureLog implements ErasureLog {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly retry: RetryPolicy;

  constructor(options: DynamoErasureLogOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  async tombstoneHashes(entityType: ErasedLevel): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const items of this.query({ pk: `TOMB#${entityType}`, projection: 'sk' }))
      for (const item of items) out.add(item.sk!.S!);
    return out;
  }

  async tombstone(entityType: ErasedLevel, idHash: string): Promise<Tombstone | undefined> {
    const result = await withRetries(
      () =>
        this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: tombKey(entityType, idHash), ConsistentRead: true }),
        ),
      this.retry,
      'reading a tombstone',
    );
    const item = result.Item;
    if (!item) return undefined;
    return { entityType, idHash, erasureId: item.erasureId?.S ?? '', erasedAt: item.erasedAt?.S ?? '' };
  }

  async putTombstone(tombstone: Tombstone): Promise<void> {
    try {
      await withRetries(
        () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: {
                ...tombKey(tombstone.entityType, tombstone.idHash),
                erasureId: { S: tombstone.erasureId },
                erasedAt: { S: tombstone.erasedAt },
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        this.retry,
        'storing a tombstone',
      );
    } catch (error) {
      // A concurrent erasure of the same entity stored it first: the first one's stays.
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async deleteTombstone(entityType: ErasedLevel, idHash: string): Promise<boolean> {
    const result = await withRetries(
      () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: tombKey(entityType, idHash),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      this.retry,
      'lifting a tombstone',
    );
    return result.Attributes !== undefined;
  }

  async putRecord(record: ErasureRecord): Promise<void> {
    const item: Item = {
      pk: { S: AUDIT_PARTITION },
      sk: { S: `${record.requestedAt}#${record.erasureId}` },
      doc: { S: JSON.stringify(record) },
    };
    if (record.pending.length > 0) item.open = { BOOL: true };
    await withRetries(
      () => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item })),
      this.retry,
      'storing an erasure record',
    );
  }

  async list(limit: number, cursor?: string): Promise<{ items: ErasureRecord[]; nextCursor: string | null }> {
    const input = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: AUDIT_PARTITION } },
      ScanIndexForward: false,
      ExclusiveStartKey:
        cursor === undefined ? undefined : { pk: { S: AUDIT_PARTITION }, sk: { S: decodeCursor(cursor) } },
      ConsistentRead: true,
    };
    const items: ErasureRecord[] = [];
    let last: string | undefined;
    let more = false;
    const pages = queryPages(this.client, input, {
      retry: this.retry,
      what: 'listing erasures',
      remaining: () => limit - items.length,
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        items.push(JSON.parse(item.doc!.S!) as ErasureRecord);
        last = item.sk!.S!;
      }
      more = page.LastEvaluatedKey !== undefined;
      if (items.length >= limit) break;
    }
    return { items, nextCursor: more && last ? Buffer.from(last).toString('base64url') : null };
  }

  async pending(): Promise<ErasureRecord[]> {
    const out: ErasureRecord[] = [];
    for await (const items of this.query({ pk: AUDIT_PARTITION, filter: 'attribute_exists(#open)' }))
      for (const item of items) out.push(JSON.parse(item.doc!.S!) as ErasureRecord);
    return out;
  }

  private async *query(options: { pk: string; projection?: string; filter?: string }): AsyncIterable<Item[]> {
    const input = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: options.pk } },
      ...(options.projection ? { ProjectionExpression: options.projection } : {}),
      ...(options.filter ? { FilterExpression: options.filter, ExpressionAttributeNames: { '#open': 'open' } } : {}),
      ConsistentRead: true,
    };
    for await (const page of queryPages(this.client, input, { retry: this.retry, what: 'reading erasures' })) {
      if (page.Items && page.Items.length > 0) yield page.Items;
    }
  }
}

const tombKey = (entityType: ErasedLevel, idHash: string): Item => ({
  pk: { S: `TOMB#${entityType}` },
  sk: { S: idHash },
});

function decodeCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  // `<ISO instant>#er-…`: anything else was not produced by this API.
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#er-[0-9a-z]+-[0-9a-f]+$/.test(sk)) throw new InvalidCursorError();
  return sk;
}
