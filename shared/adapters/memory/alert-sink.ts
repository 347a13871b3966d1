import type { FiredAlert } from '../../domain/engine/types.js';
import {
  type AlertQuery,
  type AlertSink,
  type AlertStore,
  type PublishResult,
  type StoredAlert,
  storedAlertOf,
} from '../../ports/alert-sink.js';
import { InvalidCursorError } from '../../ports/errors.js';

/** Keeps what it was asked to publish (local mode has no bus; tests inspect `published`). */
export class InMemoryAlertSink implements AlertSink {
  readonly published: FiredAlert[] = [];

  async publish(alerts: readonly FiredAlert[]): Promise<PublishResult> {
    this.published.push(...alerts.map((a) => structuredClone(a)));
    return { published: alerts.length, failed: 0 };
  }
}

/** Alerts in memory, keyed like the DynamoDB store (a re-run stores its alerts once), newest first. */
export class InMemoryAlertStore implements AlertStore {
  private readonly alerts = new Map<string, StoredAlert>();

  async put(alerts: readonly FiredAlert[]): Promise<void> {
    for (const alert of alerts) this.alerts.set(alertKey(alert), storedAlertOf(alert));
  }

  /** Delete the alerts about one entity (erasure); returns how many. */
  deleteEntity(entityType: string, entityId: string): number {
    let deleted = 0;
    for (const [key, alert] of this.alerts)
      if (alert.entityType === entityType && alert.entityId === entityId) {
        this.alerts.delete(key);
        deleted++;
      }
    return deleted;
  }

  async list(query: AlertQuery): Promise<{ items: StoredAlert[]; nextCursor: string | null }> {
    const limit = query.limit ?? 100;
    let offset = 0;
    if (query.cursor !== undefined) {
      offset = Number(Buffer.from(query.cursor, 'base64url').toString('utf8'));
      if (!Number.isInteger(offset) || offset < 0) throw new InvalidCursorError();
    }
    const models = new Set(query.models);
    const all = [...this.alerts.entries()]
      .filter(([, a]) => models.has(a.model) && a.asOf >= query.since)
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .map(([, a]) => structuredClone(a));
    const items = all.slice(offset, offset + limit);
    const next = offset + items.length;
    return { items, nextCursor: next < all.length ? Buffer.from(String(next)).toString('base64url') : null };
  }
}

/** Newest first: as-of, then model, type and entity (the DynamoDB sort key's order). */
function alertKey(a: StoredAlert): string {
  return `${a.asOf}#${a.model}#${a.type}#${a.entityType}#${a.entityId}`;
}
