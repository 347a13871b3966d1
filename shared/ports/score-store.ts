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

export { InvalidCursorError } from './errors.js';

/** The stored form of a score as history (what `previous` rules and the history API read). */
export function historyEntryOf(score: EntityScore): HistoryEntry {
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
