import type { EntityLevel } from '../entity.js';
import type { Traits } from '../model/schema.js';
import type { ScoreOverride } from '../override.js';

export interface Contribution {
  signal: string;
  /** The aggregate after where/decay/capPerDay/cap, e.g. 11 events or 4 active weeks. */
  value: number;
  points: number;
}

export interface AppliedPenalty {
  rule: string;
  points: number;
}

/** How much evidence a score rests on (docs/models.md#semantics-exact). */
export interface Coverage {
  /** Local days in the window with at least one event. */
  activeDays: number;
  /** Days of the window the entity has been known for (a two-day-old trial has 2 even in a 30-day window). */
  observedDays: number;
  /** Events in the window. */
  events: number;
  firstSeenAt: number | null;
  lastSeenAt: number | null;
}

/** A score before run-wide normalisation: what one shard's worker emits. */
export interface RawScore {
  entityType: EntityLevel;
  entityId: string;
  /** A user's account, an account's own id; null when unknown. */
  accountId: string | null;
  rawScore: number;
  contributions: Contribution[];
  penalties: AppliedPenalty[];
  coverage: Coverage;
  /** Account models with a breakdown: one raw score per value of the user trait. */
  groups?: RawGroupScore[] | undefined;
}

export interface RawGroupScore {
  key: string;
  users: number;
  rawScore: number;
}

export interface GroupScore extends RawGroupScore {
  /** Null under percentile normalisation (ranks are defined among entities, not groups). */
  score: number | null;
}

/** Why a score moved since the previous run: the signals and penalties that changed most. */
export interface ReasonForChange {
  kind: 'signal' | 'penalty';
  name: string;
  previousPoints: number;
  points: number;
  delta: number;
}

export type AlertType = 'ScoreDropped' | 'ScoreSpiked' | 'BandChanged';

export interface FiredAlert {
  type: AlertType;
  entityType: EntityLevel;
  entityId: string;
  model: string;
  asOf: string;
  score: number;
  previousScore: number | null;
  band: string;
  previousBand: string | null;
  /** Why the score moved (as on the score): the signals and penalties that changed most. */
  reasons: ReasonForChange[];
  topContributions: Contribution[];
}

/** A finished score for one entity in one run: everything the API, history and snapshots show. */
export interface EntityScore {
  entityType: EntityLevel;
  entityId: string;
  accountId: string | null;
  model: string;
  modelVersion: number;
  /** ISO instant T the run was evaluated at. */
  asOf: string;
  windowDays: number;
  rawScore: number;
  score: number;
  band: string;
  previousScore: number | null;
  delta: number | null;
  previousBand: string | null;
  coverage: Coverage;
  contributions: Contribution[];
  penalties: AppliedPenalty[];
  reasons: ReasonForChange[];
  alerts: FiredAlert[];
  groups?: GroupScore[] | undefined;
  /** A manual override in force: `score` and `band` are its values (docs/api.md#overrides). */
  override?: ScoreOverride | undefined;
}

/** What a run needs to know of the entity's previous score (its current score before this run). */
export interface PreviousScore {
  score: number;
  band: string;
  asOf: string;
  contributions: Contribution[];
  penalties: AppliedPenalty[];
}

/** An entity known without events in the window (traits, an earlier score): it is still scored. */
export interface KnownEntity {
  entityId: string;
  traits?: Traits | undefined;
  accountId?: string | undefined;
  firstSeenAt?: number | undefined;
  lastSeenAt?: number | undefined;
  archived?: boolean | undefined;
}
