import { z } from 'zod';
import type { FiredAlert } from '../../domain/engine/types.js';
import { DAY_MS } from '../../domain/time.js';
import { type AlertQuery, type AlertStore, type StoredAlert, storedAlertOf } from '../../ports/alert-sink.js';
import { InvalidCursorError } from '../../ports/errors.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { type Keyed, mergeDescending, type Source } from './merge-descending.js';
import { batchPutAll } from './retry.js';
import { DynamoTable, type DynamoTableOptions, type Item } from './table.js';

/** Alerts are kept this long for /v1/alerts (DynamoDB's TTL deletes them after). */
export const ALERT_RETENTION_DAYS = 90;

export type DynamoAlertStoreOptions = DynamoTableOptions;

/**
 * Alerts in the scores table: `pk` = ALERT#<model>, `sk` = <asOf>#<type>#<entityType>#<entityId> (a re-run
 * overwrites its own alerts), expiring after 90 days. Listing merges the models' partitions newest first.
 */
export class DynamoAlertStore implements AlertStore {
  private readonly table: DynamoTable;

  constructor(options: DynamoAlertStoreOptions) {
    this.table = new DynamoTable(options);
  }

  async put(alerts: readonly FiredAlert[]): Promise<void> {
    const unique = new Map<string, Item>();
    for (const alert of alerts) {
      const item: Item = {
        pk: { S: `ALERT#${alert.model}` },
        sk: { S: `${alert.asOf}#${alert.type}#${alert.entityType}#${alert.entityId}` },
        doc: { S: JSON.stringify(storedAlertOf(alert)) },
        expiresAt: { N: String(Math.floor((Date.parse(alert.asOf) + ALERT_RETENTION_DAYS * DAY_MS) / 1000)) },
      };
      unique.set(`${item.pk!.S}\u0000${item.sk!.S}`, item);
    }
    const { client, name, retry } = this.table;
    await batchPutAll(client, name, [...unique.values()], retry, 'storing alerts');
  }

  async list(query: AlertQuery): Promise<{ items: StoredAlert[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    const models = [...query.models];
    let after: (string | null)[] = models.map(() => null);
    if (query.cursor !== undefined) {
      after = decodeCursor(query.cursor, AlertCursorSchema);
      if (after.length !== models.length) throw new InvalidCursorError();
    }
    const sources = models.map((model) => this.source(model, query.since));
    const page = await mergeDescending(sources, after, limit);
    return {
      items: page.picked.map((p) => p.item),
      nextCursor: page.exhausted ? null : encodeCursor(page.after),
    };
  }

  private source(model: string, since: string): Source<StoredAlert> {
    return {
      fetch: async (after, n) => {
        // A position at or before `since` (the default moves with the clock) has nothing left after it.
        if (after !== null && after <= since) return { items: [], more: false };
        const input = {
          KeyConditionExpression: 'pk = :pk AND sk >= :since',
          ExpressionAttributeValues: { ':pk': { S: `ALERT#${model}` }, ':since': { S: since } },
          ScanIndexForward: false,
          // Descending: starting "after" a key continues with the keys below it.
          ExclusiveStartKey: after === null ? undefined : { pk: { S: `ALERT#${model}` }, sk: { S: after } },
        };
        const page = await this.table.upTo(input, 'listing alerts', n, (item) => item.sk!.S!);
        const items = page.items.map(({ key, item }): Keyed<StoredAlert> => ({ key, item: alertOfDoc(item.doc!.S!) }));
        return { items, more: page.more };
      },
    };
  }
}

/** An alert sort key: `<asOf>#<type>#<entityType>#<entityId>`. */
const ALERT_KEY = /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#(ScoreDropped|ScoreSpiked|BandChanged)#(user|account)#.+$/s;

/** The alert list's position: the last key read per model partition (in the order of the query's models). */
const AlertCursorSchema = z.array(z.string().max(2048).regex(ALERT_KEY).nullable()).max(1000);

/** Alerts stored before reasons were kept read as having none. */
function alertOfDoc(doc: string): StoredAlert {
  const alert = JSON.parse(doc) as StoredAlert;
  alert.reasons ??= [];
  return alert;
}
