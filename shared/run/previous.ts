import type { PreviousScore } from '../domain/engine/types.js';
import type { HistoryEntry, StoredScore } from '../ports/score-store.js';

/**
 * What a run as of T compares an entity with, given its current row:
 * - no current row: nothing (a first score), and the new score becomes current;
 * - current.asOf < T: the current score, which this run replaces;
 * - current.asOf = T (a re-run): the same previous the current row was compared with, so re-runs are identical;
 * - current.asOf > T (a backfill of an older date): the latest history entry before T, and the current row stays.
 */
export type PreviousRule =
  | { kind: 'resolved'; previous: PreviousScore | null; current: true }
  | { kind: 'history'; current: false };

export function previousRule(current: StoredScore | undefined, asOf: string): PreviousRule {
  if (!current) return { kind: 'resolved', previous: null, current: true };
  const stored = Date.parse(current.asOf);
  const t = Date.parse(asOf);
  if (stored < t) return { kind: 'resolved', previous: previousOf(current), current: true };
  if (stored === t) return { kind: 'resolved', previous: current.previous, current: true };
  return { kind: 'history', current: false };
}

export function previousOf(score: StoredScore | HistoryEntry): PreviousScore {
  return {
    score: score.score,
    band: score.band,
    asOf: score.asOf,
    contributions: score.contributions,
    penalties: score.penalties,
  };
}
