import { createHash } from 'node:crypto';

/** Who an erasure is about: a user or an account (docs/api.md#erasure). */
export type ErasedLevel = 'user' | 'account';

/**
 * The pseudonym an erased id is kept under (tombstones, the audit log): SHA-256 of `pulse-erasure:<type>:<id>`, hex.
 * Recognising the id again (to refuse its new events) needs a value derived from it; a hash keeps the id itself out
 * of the store. An id from a small, guessable set (e.g. a sequence number) can be found by hashing candidates:
 * docs/operations.md#data-subject-requests says so.
 */
export function erasureHash(entityType: ErasedLevel, entityId: string): string {
  return createHash('sha256').update(`pulse-erasure:${entityType}:${entityId}`).digest('hex');
}

/** What one erasure request deleted from the stores (counts only: never ids or content). */
export interface ErasureCounts {
  /** Events (user partition items; their account index entries go with them). */
  events: number;
  /** The entity record (traits): 0 or 1. */
  entity: number;
  /** Current scores, one per model. */
  scores: number;
  history: number;
  alerts: number;
  overrides: number;
}

/** What an erasure rewrites in the bucket, once it has. */
export interface ObjectCounts {
  /** Snapshot Parquet parts rewritten without the entity, and the rows removed from them. */
  snapshotFiles: number;
  snapshotRows: number;
  /** Daily event archive files rewritten without the user's events, and the events removed. */
  archiveFiles: number;
  archiveRows: number;
}

/** Work an erasure leaves for the bucket sweep (docs/operations.md#data-subject-requests). */
export type ErasurePendingStep = 'snapshots' | 'archive';

/**
 * One audit entry (docs/data-model.md#erasure-items): who asked, when, about which kind of entity, and what was
 * removed. The id appears only as its hash; `shard` (the id's event shard, a small number) lets the sweep find the
 * archive files of a user without the id.
 */
export interface ErasureRecord {
  erasureId: string;
  action: 'erase' | 'lift';
  entityType: ErasedLevel;
  idHash: string;
  shard: number;
  /** The authenticated caller: the API token (local mode), the IAM principal ARN or the JWT subject (AWS). */
  requestedBy: string;
  requestedAt: string;
  counts: ErasureCounts;
  /** Bucket steps still to run; empty once done. */
  pending: ErasurePendingStep[];
  objects: ObjectCounts | null;
  completedAt: string | null;
}

/** A tombstone: the entity was erased, and ingest and runs refuse to bring it back until it is lifted. */
export interface Tombstone {
  entityType: ErasedLevel;
  idHash: string;
  erasureId: string;
  erasedAt: string;
}

export const NO_COUNTS: ErasureCounts = Object.freeze({
  events: 0,
  entity: 0,
  scores: 0,
  history: 0,
  alerts: 0,
  overrides: 0,
});

export const NO_OBJECTS: ObjectCounts = Object.freeze({
  snapshotFiles: 0,
  snapshotRows: 0,
  archiveFiles: 0,
  archiveRows: 0,
});

export function addObjectCounts(a: ObjectCounts, b: ObjectCounts): ObjectCounts {
  return {
    snapshotFiles: a.snapshotFiles + b.snapshotFiles,
    snapshotRows: a.snapshotRows + b.snapshotRows,
    archiveFiles: a.archiveFiles + b.archiveFiles,
    archiveRows: a.archiveRows + b.archiveRows,
  };
}
