import type { SchemaElement } from 'hyparquet-writer';
import type { EntityScore } from '../domain/engine/types.js';
import { SNAPSHOT_COLUMNS, SNAPSHOT_SCHEMA_VERSION, type SnapshotColumn } from '../domain/snapshot-schema.js';
import { encodeParquet, parquetSchemaOf } from '../parquet/columns.js';
import type { RunSnapshot } from '../ports/run-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { latestKey, manifestKey, partitionPrefix, partKey } from './keys.js';

/** Rows per Parquet part file (about 6 MB at ~60 B a row). */
export const DEFAULT_SNAPSHOT_PART_ROWS = 100_000;

/** A Parquet part file of a snapshot. */
export interface SnapshotFile {
  /** Object key, e.g. `snapshots/model=customer/dt=2026-03-01/part-<runId>-00003.parquet`. */
  key: string;
  rows: number;
  bytes: number;
}

/** `_manifest.json` (docs/runs.md#snapshots): written last; a partition without it is incomplete and must be ignored. */
export interface SnapshotManifest {
  schemaVersion: number;
  runId: string;
  model: string;
  modelVersion: number;
  contentHash: string;
  asOf: string;
  date: string;
  windowDays: number;
  rowCount: number;
  files: SnapshotFile[];
  columns: { name: string; type: SnapshotColumn['type']; nullable: boolean }[];
  createdAt: string;
}

/** `latest.json`: the newest partition's manifest. */
export interface LatestPointer {
  model: string;
  date: string;
  runId: string;
  manifest: string;
}

/** The Parquet schema of SNAPSHOT_COLUMNS (see shared/parquet/columns.ts). */
export const PARQUET_SCHEMA: SchemaElement[] = parquetSchemaOf(SNAPSHOT_COLUMNS);

/** One snapshot row per score, keyed by column name (values in the column's JS form). */
export function snapshotRow(s: EntityScore): Record<string, unknown> {
  return {
    entity_type: s.entityType,
    entity_id: s.entityId,
    account_id: s.accountId,
    model: s.model,
    model_version: s.modelVersion,
    as_of: Date.parse(s.asOf),
    window_days: s.windowDays,
    raw_score: s.rawScore,
    score: s.score,
    band: s.band,
    previous_score: s.previousScore,
    delta: s.delta,
    previous_band: s.previousBand,
    last_seen_at: s.coverage.lastSeenAt,
    event_count: s.coverage.events,
    active_days: s.coverage.activeDays,
    contributions: JSON.stringify({ contributions: s.contributions, penalties: s.penalties }),
    override: s.override ? JSON.stringify(s.override) : null,
  };
}

/** Encode scores as one Parquet file (snappy, one row group per 100k rows). */
export function encodeSnapshotParquet(scores: readonly EntityScore[]): Uint8Array {
  return encodeParquet(SNAPSHOT_COLUMNS, scores.map(snapshotRow), {
    metadata: { 'pulse.snapshot.schema_version': String(SNAPSHOT_SCHEMA_VERSION) },
  });
}

const JSON_TYPE = 'application/json';
const PARQUET_TYPE = 'application/vnd.apache.parquet';

export interface PartitionRef {
  model: string;
  date: string;
  runId: string;
}

/**
 * Publishing one run's partition so readers never see two runs mixed or a half-written run behind a manifest:
 * `begin` deletes the old manifest first, then the old parts; parts are written; `commit` removes anything that
 * is not this run's, writes `_manifest.json` last and moves `latest.json` forward. A failure anywhere before
 * the manifest leaves no manifest; running again converges.
 */
export class SnapshotPublication {
  readonly files: SnapshotFile[] = [];

  constructor(
    private readonly objects: SnapshotStore,
    readonly ref: PartitionRef,
  ) {}

  async begin(): Promise<void> {
    const { model, date } = this.ref;
    await this.objects.delete([manifestKey(model, date)]);
    await this.sweep();
  }

  async writePart(part: number, scores: readonly EntityScore[]): Promise<SnapshotFile> {
    const key = partKey(this.ref.model, this.ref.date, this.ref.runId, part);
    const body = encodeSnapshotParquet(scores);
    await this.objects.put(key, body, PARQUET_TYPE);
    const file = { key, rows: scores.length, bytes: body.byteLength };
    this.files.push(file);
    return file;
  }

  async commit(
    meta: Omit<SnapshotManifest, 'schemaVersion' | 'runId' | 'model' | 'date' | 'rowCount' | 'files' | 'columns'>,
  ): Promise<{ manifest: SnapshotManifest; location: RunSnapshot }> {
    const { model, date, runId } = this.ref;
    await this.sweep();
    const files = [...this.files].sort((a, b) => (a.key < b.key ? -1 : 1));
    const manifest: SnapshotManifest = {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      runId,
      model,
      modelVersion: meta.modelVersion,
      contentHash: meta.contentHash,
      asOf: meta.asOf,
      date,
      windowDays: meta.windowDays,
      rowCount: files.reduce((sum, f) => sum + f.rows, 0),
      files,
      columns: SNAPSHOT_COLUMNS.map(({ name, type, nullable }) => ({ name, type, nullable })),
      createdAt: meta.createdAt,
    };
    const key = manifestKey(model, date);
    await this.objects.put(key, `${JSON.stringify(manifest, null, 2)}\n`, JSON_TYPE);
    await this.moveLatest(key);
    return {
      manifest,
      location: { uri: this.objects.uri(partitionPrefix(model, date)), manifest: this.objects.uri(key) },
    };
  }

  /** Delete every object of the partition that is not one of this run's parts written so far. */
  private async sweep(): Promise<void> {
    const mine = new Set(this.files.map((f) => f.key));
    const keys = await this.objects.list(partitionPrefix(this.ref.model, this.ref.date));
    const stale = keys.filter((k) => !mine.has(k));
    if (stale.length > 0) await this.objects.delete(stale);
  }

  /** latest.json points at the newest date's manifest: a backfill of older dates leaves it alone. */
  private async moveLatest(manifest: string): Promise<void> {
    const { model, date, runId } = this.ref;
    const current = await readJson<LatestPointer>(this.objects, latestKey(model));
    if (current && current.date > date) return;
    const pointer: LatestPointer = { model, date, runId, manifest };
    await this.objects.put(latestKey(model), `${JSON.stringify(pointer, null, 2)}\n`, JSON_TYPE);
  }
}

export async function readJson<T>(objects: SnapshotStore, key: string): Promise<T | undefined> {
  const body = await objects.get(key);
  if (!body) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch {
    return undefined;
  }
}
