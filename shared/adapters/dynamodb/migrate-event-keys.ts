import { eventIdOfSortKey, eventSortKey } from './keys.js';
import { scanPages } from './query-pages.js';
import { DynamoTable, type DynamoTableOptions, type Item } from './table.js';

export interface MigrateEventKeysOptions extends DynamoTableOptions {
  /** Called after each scanned page with the running totals. */
  onProgress?: ((progress: MigrateEventKeysResult) => void) | undefined;
}

export interface MigrateEventKeysResult {
  scanned: number;
  /** Items of the earlier layout rewritten under `<n>#<userId>#<eventId>` (and the old item deleted). */
  rewritten: number;
}

/**
 * The backfill of docs/data-model.md#migrating-event-keys: events stored with the bare event id as sort key get the
 * `(userId, eventId)` key. Idempotent and safe beside live ingest: the copy is a conditional put (an event already
 * rewritten, or sent again since, is left as it is) and the old item is deleted only after it.
 */
export async function migrateEventKeys(options: MigrateEventKeysOptions): Promise<MigrateEventKeysResult> {
  const table = new DynamoTable(options);
  const result: MigrateEventKeysResult = { scanned: 0, rewritten: 0 };
  const pages = scanPages(table.client, { TableName: table.name }, { retry: table.retry, what: 'scanning events' });
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      result.scanned++;
      const sk = item.sk?.S;
      const userId = item.u?.S;
      if (sk === undefined || userId === undefined || eventIdOfSortKey(sk, userId) !== sk) continue;
      const renamed: Item = { ...item, sk: { S: eventSortKey(userId, sk) } };
      await table.putNew(renamed, 'rewriting an event key');
      await table.delete({ pk: item.pk!, sk: item.sk! }, 'deleting an old event key');
      result.rewritten++;
    }
    options.onProgress?.({ ...result });
  }
  return result;
}
