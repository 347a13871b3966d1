import type { EntityLevel } from '../../domain/entity.js';
import type { StoredOverride } from '../../domain/override.js';
import type { OverrideStore } from '../../ports/override-store.js';
import { DynamoTable, type DynamoTableOptions, type Item } from './table.js';

export type DynamoOverrideStoreOptions = DynamoTableOptions;

/**
 * Overrides in the scores table: `pk` = OVERRIDE#<model>, `sk` = <entityType>#<entityId>, the override as JSON in
 * `doc`; DynamoDB's TTL (`expiresAt`, epoch seconds) removes it some time after it expired (docs/data-model.md).
 */
export class DynamoOverrideStore implements OverrideStore {
  private readonly table: DynamoTable;

  constructor(options: DynamoOverrideStoreOptions) {
    this.table = new DynamoTable(options);
  }

  async put(override: StoredOverride): Promise<void> {
    const item: Item = {
      ...key(override.entityType, override.entityId, override.model),
      doc: { S: JSON.stringify(override) },
      expiresAt: { N: String(Math.ceil(Date.parse(override.expiresAt) / 1000)) },
    };
    await this.table.put(item, 'storing an override');
  }

  async get(entityType: EntityLevel, entityId: string, model: string): Promise<StoredOverride | undefined> {
    const item = await this.table.get(key(entityType, entityId, model), 'reading an override');
    return item ? (JSON.parse(item.doc!.S!) as StoredOverride) : undefined;
  }

  async list(model: string): Promise<StoredOverride[]> {
    const out: StoredOverride[] = [];
    const input = {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `OVERRIDE#${model}` } },
      ConsistentRead: true,
    };
    for await (const items of this.table.items(input, 'listing overrides')) {
      for (const item of items) out.push(JSON.parse(item.doc!.S!) as StoredOverride);
    }
    return out;
  }

  delete(entityType: EntityLevel, entityId: string, model: string): Promise<boolean> {
    return this.table.delete(key(entityType, entityId, model), 'deleting an override');
  }
}

function key(entityType: EntityLevel, entityId: string, model: string): Item {
  return { pk: { S: `OVERRIDE#${model}` }, sk: { S: `${entityType}#${entityId}` } };
}
