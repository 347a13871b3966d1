import { createHash } from 'node:crypto';
import type { AppliedPenalty, Contribution, EntityScore, PreviousScore } from '../domain/engine/types.js';
import type { ScoreOverride } from '../domain/override.js';
import type { EntityLevel } from './event-store.js';

/**
 * The current score of one entity under one model, as stored: everything `GET /v1/scores/{type}/{id}` shows, plus
 * the previous score it was compared with. Keeping that previous lets a re-run of the same as-of compare with the
 * same previous score, so re-running converges to identical rows.
 */
export interface StoredScore extends Omit<EntityScore, 'alerts'> {
  /** What this score was compared with (null for a first score). */
  previous: PreviousScore | null;
  /**
   * The open history run this score ends (docs/data-model.md#history-runs): set on rows listed for a run
   * (`listCurrentShard`), never on what `getCurrent` returns.
   */
  historyRun?: HistoryRun | undefined;
}

/**
 * Days with one and the same history entry (everything but `asOf` equal): a history row is stored for `from`, the
 * later days are carried (docs/data-model.md#history-runs).
 */
export interface HistoryRun {
  /** As-of of the run's stored row. */
  from: string;
  /** Later as-ofs with the same entry, oldest first. */
  days: string[];
}

/** What a run knows of the current score it replaces, so the store can skip an unchanged history row. */
export interface PriorScore {
  /** historyFingerprint of the current score's entry. */
  fingerprint: string;
  /** Its open history run (absent on rows written before history runs: then the run is its own as-of). */
  run?: HistoryRun | undefined;
  /** The current score's as-of. */
  asOf: string;
  /** The current score's entry, when its open run has later days (closing the run stores them with it). */
  entry?: HistoryEntry | undefined;
}

/** One run's score of one entity (`GET /v1/scores/{type}/{id}/history`); carries what a later run compares with. */
export interface HistoryEntry {
  entityType: EntityLevel;
  entityId: string;
  model: string;
  modelVersion: number;
  asOf: string;
  score: number;
  rawScore: number;
  band: string;
  delta: number | null;
  contributions: Contribution[];
  penalties: AppliedPenalty[];
  /** The manual override the run published (its score and band are the ones above). */
  override?: ScoreOverride | undefined;
}

/** An item of `GET /v1/scores` (docs/api.md). */
export interface ScoreListItem {
  entityType: EntityLevel;
  entityId: string;
  model: string;
  score: number;
  band: string;
  delta: number | null;
}

export interface ScoreListQuery {
  model: string;
  /** The model's band names in model order (lowest first): listing without `band` walks them highest first. */
  bands: readonly string[];
  band?: string | undefined;
  /** 1..1000. */
  limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string | undefined;
}

export interface ScorePage {
  items: ScoreListItem[];
  nextCursor: string | null;
}

export interface HistoryQuery {
  entityType: EntityLevel;
  entityId: string;
  model: string;
  /** Inclusive bounds on `asOf` (ISO instants, UTC). */
  from?: string | undefined;
  to?: string | undefined;
}

/** One finished score to store: always a history row; the current row only when `current` (T ≥ its as-of). */
export interface ScoreWrite {
  score: EntityScore;
  previous: PreviousScore | null;
  current: boolean;
  /** The current score this one replaces (current rows only); without it the history row is always written. */
  prior?: PriorScore | undefined;
}

/**
 * Current scores and history. Current rows: O(1) by (entity, model), listed by model and band highest score
 * first, and by run shard (what a worker needs to score known entities and find their previous score).
 * Writes retry unprocessed items; when they cannot all be stored, `write` throws (never loses rows silently).
 */
export interface ScoreStore {
  /** Current scores of one entity under the given models (missing ones are left out). */
  getCurrent(entityType: EntityLevel, entityId: string, models: readonly string[]): Promise<StoredScore[]>;
  /** Every current score of a model whose entity falls in `shard` (same sharding as events), page by page. */
  listCurrentShard(model: string, shard: number): AsyncIterable<StoredScore[]>;
  list(query: ScoreListQuery): Promise<ScorePage>;
  /** One entry per run, oldest first. */
  history(query: HistoryQuery): Promise<HistoryEntry[]>;
  /** For each entity id: its latest history entry strictly before `before` (backfills of older dates). */
  latestBefore(
    entityType: EntityLevel,
    entityIds: readonly string[],
    model: string,
    before: string,
  ): Promise<Map<string, HistoryEntry>>;
  /** Stores the rows; returns those the store refused as invalid (the others are stored). */
  write(rows: readonly ScoreWrite[]): Promise<ScoreWriteRefusal[]>;
}

/** A row the store cannot hold (e.g. DynamoDB refuses its item): skipped by the run, never failing it. */
export interface ScoreWriteRefusal {
  row: ScoreWrite;
  reason: string;
}

/**
 * Identity of a history entry without its as-of: two days with the same fingerprint read the same through every
 * history reader (API, export, previous rules), so the later one need not be stored (docs/data-model.md#history-runs).
 */
export function historyFingerprint(entry: HistoryEntry): string {
  const { modelVersion, score, rawScore, band, delta, contributions, penalties, override } = entry;
  const identity = JSON.stringify([
    modelVersion,
    score,
    rawScore,
    band,
    delta,
    contributions,
    penalties,
    override ?? null,
  ]);
  return createHash('sha256').update(identity).digest('base64url').slice(0, 22);
}

/** The stored form of a score as history (what `previous` rules and the history API read). */
export function historyEntryOf(score: Omit<EntityScore, 'alerts'>): HistoryEntry {
  return {
    entityType: score.entityType,
    entityId: score.entityId,
    model: score.model,
    modelVersion: score.modelVersion,
    asOf: score.asOf,
    score: score.score,
    rawScore: score.rawScore,
    band: score.band,
    delta: score.delta,
    contributions: score.contributions,
    penalties: score.penalties,
    ...(score.override ? { override: score.override } : {}),
  };
}

/** The stored current row of a score. */
export function storedScoreOf(score: EntityScore, previous: PreviousScore | null): StoredScore {
  const { alerts: _alerts, ...rest } = score;
  return { ...rest, previous };
}

/** What a run passes to the store about the current score `stored` it replaces. */
export function priorOf(stored: StoredScore): PriorScore {
  const entry = historyEntryOf(stored);
  const prior: PriorScore = { fingerprint: historyFingerprint(entry), asOf: stored.asOf };
  if (stored.historyRun) prior.run = stored.historyRun;
  if (stored.historyRun && stored.historyRun.days.length > 0) prior.entry = entry;
  return prior;
}
