import { randomBytes } from 'node:crypto';
import {
  type ErasedLevel,
  type ErasureCounts,
  type ErasurePendingStep,
  type ErasureRecord,
  erasureHash,
  type ObjectCounts,
} from '../domain/erasure.js';
import type { LoadedModel } from '../domain/model/load.js';
import { shardOf } from '../domain/shard.js';
import { DAY_MS } from '../domain/time.js';
import type { EntityDataEraser, ErasureLog } from '../ports/erasure-store.js';
import type { OverrideStore } from '../ports/override-store.js';

/** Alerts are kept 90 days (docs/api.md#alerts); a day more covers alerts whose as-of is slightly ahead. */
const ALERT_LOOKBACK_DAYS = 91;
/** Ingest accepts timestamps up to 5 minutes ahead: a day covers them and clock skew. */
const FUTURE_SLACK_MS = DAY_MS;

export interface EraseDeps {
  models: () => readonly LoadedModel[];
  data: EntityDataEraser;
  overrides?: OverrideStore | undefined;
  log: ErasureLog;
  shardCount: number;
  /** Events older than this many days are gone already (ingest refuses them, TTL deletes them). */
  retentionDays: number;
  /**
   * Rewrite the bucket (snapshots, event archive) now and return what it did: local mode. Without it the
   * records stay pending for the sweep of the daily archive step (AWS, docs/operations.md#data-subject-requests).
   */
  sweepNow?: ((records: readonly ErasureRecord[]) => Promise<Map<string, ObjectCounts>>) | undefined;
  /** Told after a tombstone is set or lifted, so tombstone caches in this process are refreshed at once. */
  onTombstonesChanged?: ((entityType: ErasedLevel) => void) | undefined;
  clock?: (() => number) | undefined;
}

export interface EraseRequest {
  entityType: ErasedLevel;
  entityId: string;
  /** The authenticated caller, for the audit log. */
  requestedBy: string;
}

/** The answer of `DELETE /v1/entities/{type}/{id}` (docs/api.md#erasure). */
export interface EraseResult {
  erasureId: string;
  entityType: ErasedLevel;
  entityId: string;
  status: 'completed' | 'pending';
  requestedAt: string;
  /** When the entity was first erased (its tombstone); equals requestedAt on the first request. */
  erasedSince: string;
  erased: ErasureCounts;
  objects: ObjectCounts | null;
  pending: ErasurePendingStep[];
}

/**
 * Erase one user or account (docs/api.md#erasure): tombstone first (so ingest refuses its new data while the rest
 * runs), then events (users only: an account's erasure is about the account's own data, its users are data
 * subjects of their own), entity record, current scores, history, alerts and overrides; an audit record without
 * the id; then the bucket now (local mode) or by the next sweep (AWS). Idempotent: a repeat finds less or nothing
 * and answers the same way.
 */
export async function eraseEntity(deps: EraseDeps, request: EraseRequest): Promise<EraseResult> {
  const now = (deps.clock ?? Date.now)();
  const requestedAt = new Date(now).toISOString();
  const { entityType, entityId } = request;
  const idHash = erasureHash(entityType, entityId);
  const erasureId = newErasureId(now);

  const existing = await deps.log.tombstone(entityType, idHash);
  if (!existing) {
    await deps.log.putTombstone({ entityType, idHash, erasureId, erasedAt: requestedAt });
    deps.onTombstonesChanged?.(entityType);
  }

  const models = deps
    .models()
    .filter((m) => m.model.level === entityType)
    .map((m) => m.model.name);
  const events =
    entityType === 'user'
      ? await deps.data.deleteUserEvents(entityId, now - (deps.retentionDays + 1) * DAY_MS, now + FUTURE_SLACK_MS)
      : 0;
  const entity = await deps.data.deleteEntityRecord(entityType, entityId);
  const { scores, history } = await deps.data.deleteScores(entityType, entityId, models);
  const alerts = await deps.data.deleteAlerts(
    entityType,
    entityId,
    models,
    new Date(now - ALERT_LOOKBACK_DAYS * DAY_MS).toISOString(),
  );
  let overrides = 0;
  if (deps.overrides)
    for (const model of models) if (await deps.overrides.delete(entityType, entityId, model)) overrides++;

  const pending: ErasurePendingStep[] = entityType === 'user' ? ['snapshots', 'archive'] : ['snapshots'];
  let record: ErasureRecord = {
    erasureId,
    action: 'erase',
    entityType,
    idHash,
    shard: shardOf(entityId, deps.shardCount),
    requestedBy: request.requestedBy,
    requestedAt,
    counts: { events, entity, scores, history, alerts, overrides },
    pending,
    objects: null,
    completedAt: null,
  };
  await deps.log.putRecord(record);
  if (deps.sweepNow) {
    const swept = await deps.sweepNow([record]);
    record = completed(record, swept.get(erasureId), (deps.clock ?? Date.now)());
    await deps.log.putRecord(record);
  }
  return {
    erasureId,
    entityType,
    entityId,
    status: record.pending.length === 0 ? 'completed' : 'pending',
    requestedAt,
    erasedSince: existing?.erasedAt ?? requestedAt,
    erased: record.counts,
    objects: record.objects,
    pending: record.pending,
  };
}

/** The record once its bucket steps ran. */
export function completed(record: ErasureRecord, objects: ObjectCounts | undefined, now: number): ErasureRecord {
  return {
    ...record,
    pending: [],
    objects: objects ?? { snapshotFiles: 0, snapshotRows: 0, archiveFiles: 0, archiveRows: 0 },
    completedAt: new Date(now).toISOString(),
  };
}

export interface LiftResult {
  entityType: ErasedLevel;
  entityId: string;
  lifted: boolean;
}

/**
 * Lift an entity's tombstone (docs/api.md#erasure): its new events and calls are accepted again and runs score it
 * again. Nothing erased comes back. Audited like an erasure.
 */
export async function liftTombstone(
  deps: Pick<EraseDeps, 'log' | 'shardCount' | 'clock' | 'onTombstonesChanged'>,
  request: EraseRequest,
): Promise<LiftResult> {
  const now = (deps.clock ?? Date.now)();
  const { entityType, entityId } = request;
  const idHash = erasureHash(entityType, entityId);
  const lifted = await deps.log.deleteTombstone(entityType, idHash);
  if (lifted) {
    deps.onTombstonesChanged?.(entityType);
    const at = new Date(now).toISOString();
    await deps.log.putRecord({
      erasureId: newErasureId(now),
      action: 'lift',
      entityType,
      idHash,
      shard: shardOf(entityId, deps.shardCount),
      requestedBy: request.requestedBy,
      requestedAt: at,
      counts: { events: 0, entity: 0, scores: 0, history: 0, alerts: 0, overrides: 0 },
      pending: [],
      objects: null,
      completedAt: at,
    });
  }
  return { entityType, entityId, lifted };
}

/** `er-<epoch ms base36>-<random>`: sortable by time, unique without coordination. */
function newErasureId(now: number): string {
  return `er-${now.toString(36)}-${randomBytes(6).toString('hex')}`;
}
