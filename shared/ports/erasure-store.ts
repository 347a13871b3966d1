import type { ErasedLevel, ErasureRecord, Tombstone } from '../domain/erasure.js';

/**
 * Deletes one entity's items from the tables (docs/api.md#erasure). Every method is idempotent: deleting what is
 * already gone counts 0.
 */
export interface EntityDataEraser {
  /** A user's events with timestamps in [from, to): its user partition items (the account index follows them). */
  deleteUserEvents(userId: string, from: number, to: number): Promise<number>;
  /** The entity record (traits, account link): 1 when there was one. */
  deleteEntityRecord(entityType: ErasedLevel, entityId: string): Promise<number>;
  /** Current scores and every history row of the entity under the given models. */
  deleteScores(
    entityType: ErasedLevel,
    entityId: string,
    models: readonly string[],
  ): Promise<{ scores: number; history: number }>;
  /** Stored alerts about the entity under the given models, as of `since` (ISO instant) or later. */
  deleteAlerts(entityType: ErasedLevel, entityId: string, models: readonly string[], since: string): Promise<number>;
}

/** Tombstones and the erasure audit log (docs/data-model.md#erasure-items). */
export interface ErasureLog {
  /** Hashes of every tombstoned id of a level (small: one per erased entity). */
  tombstoneHashes(entityType: ErasedLevel): Promise<Set<string>>;
  tombstone(entityType: ErasedLevel, idHash: string): Promise<Tombstone | undefined>;
  /** Store the tombstone unless one exists (the first erasure's stays). */
  putTombstone(tombstone: Tombstone): Promise<void>;
  /** True when there was one. */
  deleteTombstone(entityType: ErasedLevel, idHash: string): Promise<boolean>;
  /** Store or replace an audit record (keyed by requestedAt and erasureId). */
  putRecord(record: ErasureRecord): Promise<void>;
  /** Audit records, newest first. */
  list(limit: number, cursor?: string | undefined): Promise<{ items: ErasureRecord[]; nextCursor: string | null }>;
  /** Records whose bucket steps have not run yet, oldest first. */
  pending(): Promise<ErasureRecord[]>;
}
