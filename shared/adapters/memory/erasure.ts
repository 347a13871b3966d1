import type { ErasedLevel, ErasureRecord, Tombstone } from '../../domain/erasure.js';
import type { EntityDataEraser, ErasureLog } from '../../ports/erasure-store.js';
import { InvalidCursorError } from '../../ports/errors.js';
import type { InMemoryAlertStore } from './alert-sink.js';
import type { InMemoryEntityStore } from './entity-store.js';
import type { InMemoryEventStore } from './event-store.js';
import type { InMemoryScoreStore } from './score-store.js';

/** Erasure over the in-memory stores, with the same counts as the DynamoDB erasers. */
export class InMemoryEntityDataEraser implements EntityDataEraser {
  constructor(
    private readonly stores: {
      events: InMemoryEventStore;
      entities: InMemoryEntityStore;
      scores: InMemoryScoreStore;
      alerts: InMemoryAlertStore;
    },
  ) {}

  async deleteUserEvents(userId: string, from: number, to: number): Promise<number> {
    return this.stores.events.deleteUser(userId, from, to);
  }

  async deleteEntityRecord(entityType: ErasedLevel, entityId: string): Promise<number> {
    return this.stores.entities.delete(entityType, entityId);
  }

  async deleteScores(entityType: ErasedLevel, entityId: string): Promise<{ scores: number; history: number }> {
    return this.stores.scores.deleteEntity(entityType, entityId);
  }

  async deleteAlerts(entityType: ErasedLevel, entityId: string): Promise<number> {
    return this.stores.alerts.deleteEntity(entityType, entityId);
  }
}

/** Tombstones and audit records in memory (tests). */
export class InMemoryErasureLog implements ErasureLog {
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly records = new Map<string, ErasureRecord>();

  async tombstoneHashes(entityType: ErasedLevel): Promise<Set<string>> {
    return new Set([...this.tombstones.values()].filter((t) => t.entityType === entityType).map((t) => t.idHash));
  }

  async tombstone(entityType: ErasedLevel, idHash: string): Promise<Tombstone | undefined> {
    const found = this.tombstones.get(`${entityType}:${idHash}`);
    return found ? { ...found } : undefined;
  }

  async putTombstone(tombstone: Tombstone): Promise<void> {
    const key = `${tombstone.entityType}:${tombstone.idHash}`;
    if (!this.tombstones.has(key)) this.tombstones.set(key, { ...tombstone });
  }

  async deleteTombstone(entityType: ErasedLevel, idHash: string): Promise<boolean> {
    return this.tombstones.delete(`${entityType}:${idHash}`);
  }

  async putRecord(record: ErasureRecord): Promise<void> {
    this.records.set(`${record.requestedAt}#${record.erasureId}`, structuredClone(record));
  }

  async list(limit: number, cursor?: string): Promise<{ items: ErasureRecord[]; nextCursor: string | null }> {
    const keys = [...this.records.keys()].sort().reverse();
    let start = 0;
    if (cursor !== undefined) {
      start = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (!Number.isInteger(start) || start < 0) throw new InvalidCursorError();
    }
    const page = keys.slice(start, start + limit);
    const next = start + page.length;
    return {
      items: page.map((k) => structuredClone(this.records.get(k)!)),
      nextCursor: next < keys.length ? Buffer.from(String(next)).toString('base64url') : null,
    };
  }

  async pending(): Promise<ErasureRecord[]> {
    return [...this.records.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .filter(([, r]) => r.pending.length > 0)
      .map(([, r]) => structuredClone(r));
  }
}
