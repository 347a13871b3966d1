import { DynamoEntityStore, type DynamoEntityStoreOptions } from './entity-store.js';
import { entityPartition } from './keys.js';
import type { EmbeddedTable } from './sole-writer-event-store.js';

export interface SoleWriterEntityStoreOptions extends DynamoEntityStoreOptions {
  /** The same table as `client` + `tableName` serve, read in this process. */
  table: EmbeddedTable;
}

/**
 * The entity records when this process holds the embedded store (local mode). Ingest looks up the account of every
 * user whose events carry none, on every request: that lookup reads the table in process (one batched read of
 * the storage) instead of a BatchGetItem round trip, and sees every finished write, as a consistent read does
 * (docs/local-mode.md#ingest-throughput). Everything else is DynamoEntityStore's.
 */
export class SoleWriterEntityStore extends DynamoEntityStore {
  private readonly embedded: EmbeddedTable;

  constructor(options: SoleWriterEntityStoreOptions) {
    super(options);
    this.embedded = options.table;
  }

  override async accountOf(userIds: readonly string[]): Promise<Map<string, string>> {
    const ids = [...new Set(userIds)];
    const items = await this.embedded.getItems(
      ids.map((id) => ({ pk: { S: entityPartition('user', id, this.shardCount) }, sk: { S: id } })),
    );
    const out = new Map<string, string>();
    for (const [i, item] of items.entries()) {
      const accountId = item?.accountId?.S;
      if (accountId !== undefined) out.set(ids[i]!, accountId);
    }
    return out;
  }
}
