import { parquetReadObjects } from 'hyparquet';
import { DateTime } from 'luxon';
import { bandOf } from '../domain/engine/finalize.js';
import type { AppliedPenalty, Contribution, RawScore } from '../domain/engine/types.js';
import type { Model } from '../domain/model/schema.js';
import { resolveAsOf } from '../domain/time.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { asOfFor, type BacktestResult, type BacktestRow, checkLevels } from './backtest.js';
import { CalibrateError } from './errors.js';
import type { Outcome } from './outcomes.js';
import { emptyStats } from './sources.js';

/** How far back a missing partition may be replaced by an earlier one. */
export const SNAPSHOT_FALLBACK_DAYS = 7;

/** The columns calibrate reads (docs/runs.md#snapshots); the others are not fetched. */
const COLUMNS = ['entity_type', 'entity_id', 'account_id', 'as_of', 'raw_score', 'score', 'band', 'contributions'];

export interface SnapshotBacktestOptions {
  model: Model;
  outcomes: readonly Outcome[];
  horizonDays: number;
  /** The bucket (or a folder) holding `snapshots/model=<name>/dt=<date>/…`. */
  objects: SnapshotStore;
  /** Key prefix of the model's partitions, `…/model=<name>/` (see findModelPrefix). */
  modelPrefix: string;
  /** For messages and the report: where the snapshots are, e.g. `s3://bucket/snapshots/model=customer/`. */
  label: string;
  /** Outcomes whose entity is not in the partition they are matched with: `error` (default) or `skip`. */
  unknownEntities?: 'error' | 'skip' | undefined;
  /** Called after each partition read. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

interface Manifest {
  modelVersion?: number;
  files?: { key: string }[];
}

interface SnapshotRow {
  entity_type?: unknown;
  entity_id?: unknown;
  account_id?: unknown;
  as_of?: unknown;
  raw_score?: unknown;
  score?: unknown;
  band?: unknown;
  contributions?: unknown;
}

/**
 * Where a model's partitions are under a location: `<base>snapshots/model=<name>/` (a bucket or a synced folder),
 * `<base>model=<name>/` (the location is the snapshots folder itself), or `<base>` when it already names the model.
 * Returns the first prefix that holds objects, else undefined.
 */
export async function findModelPrefix(
  objects: SnapshotStore,
  base: string,
  modelName: string,
): Promise<string | undefined> {
  const normalised = base === '' || base.endsWith('/') ? base : `${base}/`;
  const candidates = normalised.endsWith(`model=${modelName}/`)
    ? [normalised]
    : [`${normalised}snapshots/model=${modelName}/`, `${normalised}model=${modelName}/`];
  for (const prefix of candidates) if ((await objects.list(prefix)).length > 0) return prefix;
  return undefined;
}

/**
 * Calibrate from published snapshots instead of a replay: for each outcome, the entity's row in the partition
 * dt = outcome_date − horizon (if that partition is missing, the nearest earlier one within 7 days; else the
 * outcome is unscored and reported). Score, band and per-signal values are the ones published (the `score`,
 * `band` and `contributions` columns), so the result is how the scores as published predicted the outcomes.
 * Only complete partitions count: one whose `_manifest.json` is missing is being written or was abandoned.
 */
export async function snapshotBacktest(options: SnapshotBacktestOptions): Promise<BacktestResult> {
  const { model, outcomes, horizonDays, objects, modelPrefix } = options;
  checkLevels(model, outcomes);
  if (outcomes.length === 0) throw new CalibrateError('there are no outcomes to score');
  const complete = new Set<string>();
  for (const key of await objects.list(modelPrefix)) {
    const match = /dt=(\d{4}-\d{2}-\d{2})\/_manifest\.json$/.exec(key.slice(modelPrefix.length));
    if (match) complete.add(match[1]!);
  }
  if (complete.size === 0) {
    throw new CalibrateError(
      `no published snapshots of model "${model.name}" in ${options.label} (no dt=<date>/_manifest.json): run the model for the dates you need (pulse run ${model.name} --from DATE --to DATE), or check the location`,
    );
  }

  // Match each outcome with a partition: the exact date, else the nearest earlier one within the fallback.
  const unscored: BacktestResult['unscored'] = [];
  const wanted = new Map<string, { outcome: Outcome }[]>();
  let fallbacks = 0;
  for (const outcome of outcomes) {
    const target = resolveAsOf(asOfFor(outcome.outcomeDate, horizonDays, model.timezone), model.timezone).date;
    let dt: string | undefined;
    for (let back = 0; back <= SNAPSHOT_FALLBACK_DAYS && dt === undefined; back++) {
      const candidate = DateTime.fromISO(target, { zone: 'UTC' }).minus({ days: back }).toISODate()!;
      if (complete.has(candidate)) dt = candidate;
    }
    if (dt === undefined) {
      unscored.push({
        outcome,
        reason: `no snapshot for ${target} or the ${SNAPSHOT_FALLBACK_DAYS} days before`,
      });
      continue;
    }
    if (dt !== target) fallbacks++;
    const list = wanted.get(dt) ?? [];
    list.push({ outcome });
    wanted.set(dt, list);
  }

  const dates = [...wanted.keys()].sort();
  const versions = new Set<number>();
  const signalsSeen = new Set<string>();
  const found = new Map<Outcome, { row: SnapshotRow; dt: string }>();
  let done = 0;
  for (const dt of dates) {
    const entries = wanted.get(dt)!;
    const ids = new Set(entries.map((e) => e.outcome.entityId));
    const rows = await readPartition(objects, modelPrefix, dt, model, ids, options.label, versions);
    for (const { outcome } of entries) {
      const row = rows.get(outcome.entityId);
      if (row) found.set(outcome, { row, dt });
    }
    options.onProgress?.(++done, dates.length);
  }

  const matched = new Set([...wanted.values()].flatMap((list) => list.map((e) => e.outcome)));
  const missing = outcomes.filter((o) => matched.has(o) && !found.has(o));
  if (missing.length > 0 && (options.unknownEntities ?? 'error') === 'error') {
    const sample = missing.slice(0, 5).map((o) => `"${o.entityId}" (line ${o.line})`);
    throw new CalibrateError(
      `${missing.length} of ${outcomes.length} outcome entities are not in the snapshot they were matched with in ${options.label}: ${sample.join(', ')}${missing.length > 5 ? ', …' : ''}. Check that entity_id matches the scored ${model.level}s (a model's appliesTo leaves entities out of its snapshots), or pass --skip-unknown to leave them out`,
    );
  }

  const rows: BacktestRow[] = [];
  for (const outcome of outcomes) {
    const hit = found.get(outcome);
    if (!hit) continue;
    const raw = rawScoreOf(hit.row, model.level, `${options.label}dt=${hit.dt}/`);
    for (const c of raw.contributions) signalsSeen.add(c.signal);
    const score = numberOf(hit.row.score);
    const published = typeof hit.row.band === 'string' ? hit.row.band : '';
    // A band the model no longer has (the snapshot came from another version) is re-derived from the score.
    const band = model.bands.some((b) => b.name === published) ? published : bandOf(model, score);
    const asOf = instantOf(hit.row.as_of);
    rows.push({ outcome, asOf, asOfDate: hit.dt, raw, score, band });
  }
  const times = rows.map((r) => r.asOf);
  return {
    rows,
    skipped: missing,
    unscored,
    source: { kind: 'snapshots', label: options.label },
    events: {
      ...emptyStats(),
      firstAt: times.length > 0 ? Math.min(...times) : null,
      lastAt: times.length > 0 ? Math.max(...times) : null,
    },
    runs: dates.length,
    partialHistory: 0,
    snapshots: {
      dates,
      versions: [...versions].sort((a, b) => a - b),
      fallbacks,
      missingSignals: model.signals.map((s) => s.name).filter((name) => !signalsSeen.has(name)),
    },
  };
}

/** The rows of one partition for the wanted entities, by entity id (every part file the manifest lists). */
async function readPartition(
  objects: SnapshotStore,
  modelPrefix: string,
  dt: string,
  model: Model,
  ids: ReadonlySet<string>,
  label: string,
  versions: Set<number>,
): Promise<Map<string, SnapshotRow>> {
  const manifestKey = `${modelPrefix}dt=${dt}/_manifest.json`;
  const manifest = parseJson<Manifest>(await objects.get(manifestKey));
  if (!manifest || !Array.isArray(manifest.files))
    throw new CalibrateError(`${label}dt=${dt}/_manifest.json is not a snapshot manifest (no "files" list)`);
  if (typeof manifest.modelVersion === 'number') versions.add(manifest.modelVersion);
  const out = new Map<string, SnapshotRow>();
  for (const file of manifest.files) {
    // Manifests name keys from the bucket root; a synced copy or a sub-prefix keeps the part after model=<name>/.
    const name = file.key.split('/').pop()!;
    const key = `${modelPrefix}dt=${dt}/${name}`;
    const bytes = await objects.get(key);
    if (!bytes) throw new CalibrateError(`${label}dt=${dt}/${name} is listed in the partition's manifest but missing`);
    let rows: SnapshotRow[];
    try {
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      rows = (await parquetReadObjects({ file: buffer, columns: COLUMNS })) as SnapshotRow[];
    } catch (error) {
      throw new CalibrateError(`${label}dt=${dt}/${name} cannot be read as Parquet: ${(error as Error).message}`);
    }
    for (const row of rows) {
      if (row.entity_type !== model.level || typeof row.entity_id !== 'string') continue;
      if (ids.has(row.entity_id)) out.set(row.entity_id, row);
    }
  }
  return out;
}

/** A snapshot row as the RawScore the calibration reads: raw score, contributions and penalties as published. */
function rawScoreOf(row: SnapshotRow, level: Model['level'], where: string): RawScore {
  const entityId = String(row.entity_id);
  let parsed: { contributions?: unknown; penalties?: unknown };
  try {
    parsed = JSON.parse(String(row.contributions ?? '{}')) as typeof parsed;
  } catch {
    throw new CalibrateError(`${where}: the contributions of ${level} "${entityId}" are not valid JSON`);
  }
  const contributions: Contribution[] = Array.isArray(parsed.contributions)
    ? parsed.contributions.flatMap((c: { signal?: unknown; value?: unknown; points?: unknown }) =>
        typeof c?.signal === 'string'
          ? [{ signal: c.signal, value: numberOf(c.value), points: numberOf(c.points) }]
          : [],
      )
    : [];
  const penalties: AppliedPenalty[] = Array.isArray(parsed.penalties)
    ? parsed.penalties.flatMap((p: { rule?: unknown; points?: unknown }) =>
        typeof p?.rule === 'string' ? [{ rule: p.rule, points: numberOf(p.points) }] : [],
      )
    : [];
  return {
    entityType: level,
    entityId,
    accountId: typeof row.account_id === 'string' ? row.account_id : null,
    rawScore: numberOf(row.raw_score),
    contributions,
    penalties,
    coverage: { activeDays: 0, observedDays: 0, events: 0, firstSeenAt: null, lastSeenAt: null },
  };
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

function instantOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  return numberOf(value);
}

function parseJson<T>(bytes: Uint8Array | undefined): T | undefined {
  if (!bytes) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    return undefined;
  }
}
