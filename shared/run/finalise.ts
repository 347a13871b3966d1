import { createNormalizer, finalizeScore, type Normalizer } from '../domain/engine/finalize.js';
import type { EntityScore, FiredAlert } from '../domain/engine/types.js';
import type { Model } from '../domain/model/schema.js';
import { isActive, type ScoreOverride } from '../domain/override.js';
import { RunSummaryBuilder } from '../domain/run-summary.js';
import type { RunAlerts, RunRecord, RunStatus } from '../ports/run-store.js';
import type { ScoreWrite } from '../ports/score-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { modelNamed, type RunDeps, silentLogger } from './deps.js';
import { ModelChangedError, RunStateError } from './errors.js';
import { rawNumbersKey, rawRowsKey, runPrefix } from './keys.js';
import { decodeNumbers, decodeShardRows } from './raw-rows.js';
import { DEFAULT_SNAPSHOT_PART_ROWS, SnapshotPublication } from './snapshot.js';

export interface FinaliseResult {
  runId: string;
  status: RunStatus;
  parentRunId: string | null;
  /** The run the state machine plans next (the backfill, while it has dates left), or null. */
  next: string | null;
  /** True when the execution is complete. */
  done: boolean;
}

/** Score rows handed to the score store per call (it batches by 25 and retries unprocessed items). */
const WRITE_CHUNK = 500;

/** Distinct delivery errors kept on a run record (enough to diagnose, bounded in size). */
const MAX_ALERT_ERRORS = 5;

type FinaliseDeps = Pick<
  RunDeps,
  | 'models'
  | 'runs'
  | 'scores'
  | 'objects'
  | 'alertSink'
  | 'alertStore'
  | 'clock'
  | 'logger'
  | 'snapshotPartRows'
  | 'overrides'
  | 'erased'
>;

/**
 * The finalise step: normalise across all shards (percentile needs only the raw numbers), band, trend and
 * explain each score; write current scores and history; publish the snapshot (manifest last); store and publish
 * alerts; mark the run succeeded. Shards are processed one at a time, so memory holds one shard's rows.
 */
export async function finaliseRun(deps: FinaliseDeps, runId: string): Promise<FinaliseResult> {
  const log = deps.logger ?? silentLogger;
  const run = await deps.runs.get(runId);
  if (!run) throw new RunStateError(runId, 'does not exist');
  if (run.kind === 'backfill') throw new RunStateError(runId, 'is a backfill: finalise its runs');
  if (run.status === 'succeeded') return afterSuccess(deps, run);
  const loaded = modelNamed(deps.models, run.model);
  if (loaded.contentHash !== run.contentHash) throw new ModelChangedError(run.model, run.runId);
  const model = loaded.model;

  const normalize = await normaliserOf(deps.objects, model, run);
  const overrides = await activeOverrides(deps, model.name);
  const publication = new SnapshotPublication(deps.objects, { model: model.name, date: run.date, runId });
  await publication.begin();
  let entities = 0;
  let events = 0;
  let skipped = 0;
  const alertCounts: RunAlerts = { fired: 0, published: 0, failed: 0 };
  const summary = new RunSummaryBuilder(model.bands.map((b) => b.name));
  // Parts hold up to partRowLimit rows across shards: few, well-filled files are what Athena and DuckDB read fastest.
  const partRowLimit = deps.snapshotPartRows ?? DEFAULT_SNAPSHOT_PART_ROWS;
  let partRows: EntityScore[] = [];
  const flushPart = async () => {
    if (partRows.length === 0) return;
    await publication.writePart(publication.files.length, partRows);
    partRows = [];
  };
  for (let shard = 0; shard < run.shardCount; shard++) {
    const body = await deps.objects.get(rawRowsKey(runId, shard));
    if (!body) throw new RunStateError(runId, `shard ${shard} has no result (its worker did not finish)`);
    const decoded = decodeShardRows(body);
    const { header } = decoded;
    const rows = await withoutErased(deps, model.level, decoded.rows);
    if (rows.length < decoded.rows.length)
      log.info('erased entities left out', { runId, shard, entities: decoded.rows.length - rows.length });
    events += header.events;
    skipped += header.skipped ?? 0;
    const scores: EntityScore[] = new Array(rows.length);
    const writes: ScoreWrite[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      // Overrides are a decision about the present: they apply to scores that become current, not to backfilled days.
      const override = row.current ? overrides.get(`${row.raw.entityType}#${row.raw.entityId}`) : undefined;
      const score = finalizeScore(model, row.raw, {
        asOf: run.asOf,
        normalize,
        previous: row.previous ?? undefined,
        override,
      });
      scores[i] = score;
      summary.add(score);
      writes[i] = { score, previous: row.previous, current: row.current, prior: row.prior };
    }
    // A row the store refuses is skipped (logged, counted), never failing the run: docs/runs.md#skipped-rows.
    const refused = new Set<EntityScore>();
    for (let i = 0; i < writes.length; i += WRITE_CHUNK) {
      for (const { row, reason } of await deps.scores.write(writes.slice(i, i + WRITE_CHUNK))) {
        refused.add(row.score);
        log.warn('row skipped', { runId, shard, reason: `the ${row.score.entityType} row was refused: ${reason}` });
      }
    }
    skipped += refused.size;
    entities += rows.length - refused.size;
    const alerts: FiredAlert[] = [];
    for (let i = 0; i < rows.length; i++) {
      const score = scores[i]!;
      if (refused.has(score)) continue;
      partRows.push(score);
      if (rows[i]!.current && run.alerts) alerts.push(...score.alerts);
    }
    if (partRows.length >= partRowLimit) await flushPart();
    if (alerts.length > 0) {
      alertCounts.fired += alerts.length;
      await deps.alertStore.put(alerts);
      const published = await deps.alertSink.publish(alerts);
      alertCounts.published += published.published;
      alertCounts.failed += published.failed;
      for (const error of published.errors ?? []) {
        alertCounts.errors ??= [];
        const errors = alertCounts.errors;
        if (errors.length < MAX_ALERT_ERRORS && !errors.includes(error)) errors.push(error);
      }
    }
  }
  await flushPart();
  // An empty run still gets a part, so the partition has a schema a BI tool can read.
  if (publication.files.length === 0) await publication.writePart(0, []);
  const now = new Date((deps.clock ?? Date.now)()).toISOString();
  const { location } = await publication.commit({
    modelVersion: model.version,
    contentHash: run.contentHash,
    asOf: run.asOf,
    windowDays: model.windowDays,
    createdAt: now,
  });
  if (alertCounts.failed > 0) {
    log.warn('alerts not published', {
      runId,
      failed: alertCounts.failed,
      fired: alertCounts.fired,
      errors: alertCounts.errors,
    });
  }
  const done = await deps.runs.update(runId, {
    status: 'succeeded',
    counts: { entities, events, skipped },
    snapshot: location,
    error: null,
    alertCounts,
    summary: summary.result(),
  });
  await deleteIntermediate(deps.objects, runId);
  log.info('run succeeded', { runId, model: model.name, entities, events, skipped, alerts: alertCounts.fired });
  return afterSuccess(deps, done);
}

/** The model's overrides in force now, by `<entityType>#<entityId>` (expired ones end by themselves). */
/** Rows of entities not erased (docs/api.md#erasure): a run never brings an erased entity back. */
async function withoutErased<R extends { raw: { entityId: string } }>(
  deps: FinaliseDeps,
  level: Model['level'],
  rows: R[],
): Promise<R[]> {
  if (!deps.erased || rows.length === 0) return rows;
  const erased = await deps.erased.erased(
    level,
    rows.map((r) => r.raw.entityId),
  );
  return erased.size === 0 ? rows : rows.filter((r) => !erased.has(r.raw.entityId));
}

async function activeOverrides(deps: FinaliseDeps, model: string): Promise<Map<string, ScoreOverride>> {
  const active = new Map<string, ScoreOverride>();
  if (!deps.overrides) return active;
  const now = (deps.clock ?? Date.now)();
  for (const o of await deps.overrides.list(model))
    if (isActive(o, now)) active.set(`${o.entityType}#${o.entityId}`, o);
  return active;
}

/** Mark a run (and its backfill) failed with a message the API shows; its partial outputs converge on a re-run. */
export async function failRun(deps: Pick<RunDeps, 'runs'>, runId: string, error: string): Promise<FinaliseResult> {
  const run = await deps.runs.update(runId, { status: 'failed', error });
  if (run.parentRunId) await deps.runs.update(run.parentRunId, { status: 'failed', error: `run ${runId}: ${error}` });
  return { runId, status: 'failed', parentRunId: run.parentRunId ?? null, next: null, done: true };
}

async function normaliserOf(objects: SnapshotStore, model: Model, run: RunRecord): Promise<Normalizer> {
  if (model.normalize.method !== 'percentile') return createNormalizer(model);
  const parts: Float64Array[] = [];
  let total = 0;
  for (let shard = 0; shard < run.shardCount; shard++) {
    const body = await objects.get(rawNumbersKey(run.runId, shard));
    if (!body) throw new RunStateError(run.runId, `shard ${shard} has no result (its worker did not finish)`);
    const numbers = decodeNumbers(body);
    parts.push(numbers);
    total += numbers.length;
  }
  const all = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return createNormalizer(model, all);
}

/** A backfill moves on to its next date, or succeeds when its last date did. */
async function afterSuccess(deps: Pick<RunDeps, 'runs'>, run: RunRecord): Promise<FinaliseResult> {
  const parentRunId = run.parentRunId ?? null;
  if (!parentRunId) return { runId: run.runId, status: 'succeeded', parentRunId, next: null, done: true };
  const parent = await deps.runs.get(parentRunId);
  if (!parent) throw new RunStateError(run.runId, `its backfill ${parentRunId} is missing`);
  let entities = 0;
  let events = 0;
  let skipped = 0;
  let remaining = 0;
  let last = run;
  for (const childId of parent.runs ?? []) {
    const child = childId === run.runId ? run : await deps.runs.get(childId);
    if (child?.status !== 'succeeded') {
      remaining++;
      continue;
    }
    entities += child.counts.entities;
    events += child.counts.events;
    skipped += child.counts.skipped ?? 0;
    last = child;
  }
  if (remaining > 0) {
    await deps.runs.update(parentRunId, { counts: { entities, events, skipped } });
    return { runId: run.runId, status: 'succeeded', parentRunId, next: parentRunId, done: false };
  }
  await deps.runs.update(parentRunId, {
    status: 'succeeded',
    counts: { entities, events, skipped },
    snapshot: last.snapshot,
    error: null,
  });
  return { runId: run.runId, status: 'succeeded', parentRunId, next: null, done: true };
}

async function deleteIntermediate(objects: SnapshotStore, runId: string): Promise<void> {
  const keys = await objects.list(runPrefix(runId));
  if (keys.length > 0) await objects.delete(keys);
}
