import { reasonsForChange } from '../../shared/domain/engine/finalize.js';
import type { EntityScore, FiredAlert, PreviousScore } from '../../shared/domain/engine/types.js';
import { type StoredScore, storedScoreOf } from '../../shared/ports/score-store.js';

/**
 * A finished score as a run hands it to the stores, from the fields a test cares about (defaults: user `u1` under
 * model `usage` v1, score 1 in band `low` as of 2026-03-02, nothing contributed). Compared with `previous`, the
 * fields a run derives from it (previous score and band, delta, reasons) are derived the same way.
 */
export function entityScore(fields: Partial<EntityScore> = {}, previous: PreviousScore | null = null): EntityScore {
  const score = fields.score ?? 1;
  const contributions = fields.contributions ?? [];
  const penalties = fields.penalties ?? [];
  const delta = previous === null ? null : Math.round((score - previous.score) * 100) / 100;
  return {
    entityType: 'user',
    entityId: 'u1',
    accountId: null,
    model: 'usage',
    modelVersion: 1,
    asOf: '2026-03-02T00:00:00.000Z',
    windowDays: 7,
    rawScore: score,
    score,
    band: 'low',
    previousScore: previous?.score ?? null,
    delta,
    previousBand: previous?.band ?? null,
    coverage: { activeDays: 1, observedDays: 1, events: 1, firstSeenAt: null, lastSeenAt: null },
    contributions,
    penalties,
    reasons: previous && delta !== 0 ? reasonsForChange(contributions, penalties, previous) : [],
    alerts: [],
    ...fields,
  };
}

/** A current score as the score store returns it: `entityScore` without alerts, plus what it was compared with. */
export function storedScore(fields: Partial<EntityScore> = {}, previous: PreviousScore | null = null): StoredScore {
  return storedScoreOf(entityScore(fields, previous), previous);
}

/** An alert a run fired (defaults: user `u1`'s score under `usage` dropped from 30 to 1 as logins fell away). */
export function firedAlert(fields: Partial<FiredAlert> = {}): FiredAlert {
  return {
    type: 'ScoreDropped',
    entityType: 'user',
    entityId: 'u1',
    model: 'usage',
    asOf: '2026-03-02T00:00:00.000Z',
    score: 1,
    previousScore: 30,
    band: 'low',
    previousBand: 'high',
    reasons: [{ kind: 'signal', name: 'logins', previousPoints: 31, points: 2, delta: -29 }],
    topContributions: [{ signal: 'logins', value: 1, points: 2 }],
    ...fields,
  };
}
