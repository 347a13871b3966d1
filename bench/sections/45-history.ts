import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreEvents } from '../../shared/domain/engine/index.js';
import type { EntityScore } from '../../shared/domain/engine/types.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { type Model, ModelSchema } from '../../shared/domain/model/schema.js';
import { historyEntryOf, historyFingerprint } from '../../shared/ports/score-store.js';
import { previousOf } from '../../shared/run/previous.js';
import type { BenchFn, BenchRow } from '../types.js';

/**
 * How often a daily score's history entry changes from the day before (docs/data-model.md#history-runs): only
 * those days write a history row, so the share prices `pulse cost`'s history writes and storage
 * (`historyChangeShare`). Measured on real purchase data (CDNOW, 23,570 customers over 18 months, read at run time
 * from the shared data folder next to the repository, never copied into it) with a purchase model in the style of
 * the example models: with a decaying signal, and without.
 */
const here = dirname(fileURLToPath(import.meta.url));
const CDNOW =
  process.env.PULSE_CDNOW_FILE ??
  resolve(here, '..', '..', '..', 'shared', 'data', 'cdnow', 'CDNOW_master_dateshifted.txt');

const DAY = 86_400_000;

function purchases(): ScoringEvent[] {
  const events: ScoringEvent[] = [];
  let n = 0;
  for (const line of readFileSync(CDNOW, 'utf8').split('\n')) {
    const [id, date, cds, dollars] = line.trim().split(/\s+/);
    if (!id || !date) continue;
    const timestamp = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)), 12);
    events.push({
      eventId: `p${n++}`,
      name: 'purchase',
      userId: `c${id}`,
      timestamp,
      properties: { cds: Number(cds), amount: Number(dollars) },
    });
  }
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

function purchaseModel(decay: boolean): Model {
  return ModelSchema.parse({
    name: decay ? 'buyer-decay' : 'buyer',
    version: 1,
    level: 'user',
    windowDays: 90,
    timezone: 'UTC',
    signals: [
      { name: 'orders', event: 'purchase', weight: 10, cap: 10, ...(decay ? { decay: { halfLifeDays: 30 } } : {}) },
      { name: 'spend', event: 'purchase', aggregate: 'sum', property: 'amount', weight: 0.2, cap: 500 },
      { name: 'active-weeks', event: 'purchase', aggregate: 'distinctWeeks', weight: 5 },
    ],
    penalties: [{ name: 'lapsed', inactiveDays: 60, points: -20 }],
    normalize: { method: 'target', target: 150, clamp: true },
    bands: [{ name: 'low' }, { name: 'medium', min: 30 }, { name: 'high', min: 60 }],
  });
}

/** Share of entity-days (after each entity's first) whose history entry differs from the day before. */
async function changeShare(
  model: Model,
  events: readonly ScoringEvent[],
  days: number,
  start: number,
): Promise<{ share: number; scores: number }> {
  let previous = new Map<string, EntityScore>();
  let changed = 0;
  let compared = 0;
  for (let d = 0; d < days; d++) {
    const asOf = start + d * DAY;
    const upTo = events.filter((e) => e.timestamp < asOf);
    const known = [...new Set(upTo.map((e) => e.userId))].map((entityId) => ({ entityId }));
    const window = upTo.filter((e) => e.timestamp >= asOf - (model.windowDays + 61) * DAY);
    const scores = await scoreEvents(model, window, {
      asOf: new Date(asOf - 1).toISOString(),
      known,
      previousOf: (raw) => {
        const before = previous.get(raw.entityId);
        return before ? previousOf(before) : undefined;
      },
    });
    const next = new Map<string, EntityScore>();
    for (const score of scores) {
      const before = previous.get(score.entityId);
      if (before) {
        compared++;
        if (historyFingerprint(historyEntryOf(score)) !== historyFingerprint(historyEntryOf(before))) changed++;
      }
      next.set(score.entityId, score);
    }
    previous = next;
  }
  return { share: compared > 0 ? changed / compared : 1, scores: compared };
}

export const bench: BenchFn = async ({ quick }) => {
  if (!existsSync(CDNOW)) {
    return {
      name: 'history',
      rows: [],
      notes: ['CDNOW data not found next to the repository (set PULSE_CDNOW_FILE): section skipped'],
    };
  }
  const events = purchases();
  const days = quick ? 7 : 30;
  // From the seventh month of the data on: every customer made a first purchase in its first quarter.
  const first = events[0]!.timestamp;
  const start = Math.floor(first / DAY) * DAY + 181 * DAY;
  const rows: BenchRow[] = [];
  for (const decay of [true, false]) {
    const { share, scores } = await changeShare(purchaseModel(decay), events, days, start);
    rows.push({
      metric: `history change share, CDNOW daily, ${decay ? 'with' : 'without'} a decaying signal (${scores} scores)`,
      value: Number(share.toFixed(4)),
      unit: 'share',
    });
  }
  return {
    name: 'history',
    rows,
    notes: [
      `${days} consecutive daily runs from the seventh month of the full CDNOW purchases (${new Date(start).toISOString().slice(0, 10)} in the date-shifted file); a score whose entry (score, raw score, band, delta, contributions, penalties) equals the day before writes no history row`,
    ],
  };
};
