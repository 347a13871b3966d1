import type { ErasedLevel, ErasureRecord, Tombstone } from '../../domain/erasure.js';
import type { ErasureLog } from '../../ports/erasure-store.js';
import { InvalidCursorError } from '../../ports/errors.js';
import { DynamoTable, type DynamoTableOptions, type Item } from './table.js';

const AUDIT_PARTITION = 'ERASURE';

export type DynamoErasureLogOptions = DynamoTableOptions;

/**
 * Tombstones and the erasure audit log in the scores table (docs/data-model.md#erasure-items):
 * - tombstone: `pk` = TOMB#<user|account>, `sk` = the id's hash; `erasureId`, `erasedAt`. No TTL: it stays until
 *   lifted.
 * - audit: `pk` = ERASURE, `sk` = <requestedAt>#<erasureId>, the record as JSON in `doc`; `open` is set while
 *   bucket steps are pending (the sweep reads only those).
 * Erasures are rare, so one partition each is far below any partition limit.
 */
export class DynamoErasureLog implements ErasureLog {
  private readonly table: DynamoTable;

  constructor(options: DynamoErasureLogOptions) {
    this.table = new DynamoTable(options);
  }

  async tombstoneHashes(entityType: ErasedLevel): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const items of this.query({ pk: `TOMB#${entityType}`, projection: 'sk' }))
      for (const item of items) out.add(item.sk!.S!);
    return out;
  }

  async tombstone(entityType: ErasedLevel, idHash: string): Promise<Tombstone | undefined> {
    const item = await this.table.get(tombKey(entityType, idHash), 'reading a tombstone');
    if (!item) return undefined;
    return { entityType, idHash, erasureId: item.erasureId?.S ?? '', erasedAt: item.erasedAt?.S ?? '' };
  }

  async putTombstone(tombstone: Tombstone): Promise<void> {
    const item: Item = {
      ...tombKey(tombstone.entityType, tombstone.idHash),
      erasureId: { S: tombstone.erasureId },
      erasedAt: { S: tombstone.erasedAt },
    };
    // False when a concurrent erasure of the same entity stored it first: the first one's stays.
    await this.table.putNew(item, 'storing a tombstone');
  }

  deleteTombstone(entityType: ErasedLevel, idHash: string): Promise<boolean> {
    return this.table.delete(tombKey(entityType, idHash), 'lifting a tombstone');
  }

  async putRecord(record: ErasureRecord): Promise<void> {
    const item: Item = {
      pk: { S: AUDIT_PARTITION },
      sk: { S: `${record.requestedAt}#${record.erasureId}` },
      doc: { S: JSON.stringify(record) },
    };
    if (record.pending.length > 0) item.open = { BOOL: true };
    await this.table.put(item, 'storing an erasure record');
  }

  async list(limit: number, cursor?: string): Promise<{ items: ErasureRecord[]; nextCursor: string | null }> {
    const input = {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: AUDIT_PARTITION } },
      ScanIndexForward: false,
      ExclusiveStartKey:
        cursor === undefined ? undefined : { pk: { S: AUDIT_PARTITION }, sk: { S: decodeCursor(cursor) } },
      ConsistentRead: true,
    };
    const page = await this.table.upTo(input, 'listing erasures', limit, (item) => item.sk!.S!);
    const last = page.items.at(-1)?.key;
    return {
      items: page.items.map(({ item }) => JSON.parse(item.doc!.S!) as ErasureRecord),
      nextCursor: page.more && last ? Buffer.from(last).toString('base64url') : null,
    };
  }

  async pending(): Promise<ErasureRecord[]> {
    const out: ErasureRecord[] = [];
    for await (const items of this.query({ pk: AUDIT_PARTITION, filter: 'attribute_exists(#open)' }))
      for (const item of items) out.push(JSON.parse(item.doc!.S!) as ErasureRecord);
    return out;
  }

  private query(options: { pk: string; projection?: string; filter?: string }): AsyncIterable<Item[]> {
    const input = {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: options.pk } },
      ...(options.projection ? { ProjectionExpression: options.projection } : {}),
      ...(options.filter ? { FilterExpression: options.filter, ExpressionAttributeNames: { '#open': 'open' } } : {}),
      ConsistentRead: true,
    };
    return this.table.items(input, 'reading erasures');
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
