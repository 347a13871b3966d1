import type { Model } from './model/schema.js';

/**
 * How long the events table keeps an event (docs/data-model.md#hot-window). A run as of T reads [T − lookback, T)
 * where lookback is the longer of the model's window and its longest `inactiveDays` penalty (the engine needs
 * events that far back to know "no event for N days"). The hot window is the longest lookback of the deployed
 * models, plus one day (a scheduled run scores the previous local day, up to a day behind UTC now), plus a margin
 * for re-running recent dates and for the daily archive to catch up after a failure. Anything older is read from
 * the S3 archive, by the same reader, so nothing is lost when a model's window grows later.
 */
export const DEFAULT_HOT_MARGIN_DAYS = 7;

/** Days an event is kept when no retention is configured (docs/configuration.md, `PULSE_RETENTION_DAYS`). */
export const DEFAULT_RETENTION_DAYS = 400;

/** Days a run of this model reads back from its as-of instant. */
export function lookbackDays(model: Pick<Model, 'windowDays' | 'penalties'>): number {
  return Math.max(model.windowDays, ...model.penalties.map((p) => p.inactiveDays ?? 0));
}

export interface HotWindow {
  /** Days an event stays in the events table (its TTL), counted from its timestamp. */
  days: number;
  /** The longest lookback of the models. */
  lookbackDays: number;
  marginDays: number;
  /** The model with the longest lookback (for messages and docs). */
  longestModel: string;
}

export function hotWindowOf(
  models: readonly Pick<Model, 'name' | 'windowDays' | 'penalties'>[],
  marginDays: number = DEFAULT_HOT_MARGIN_DAYS,
): HotWindow {
  if (!(Number.isInteger(marginDays) && marginDays >= 0)) throw new RangeError('marginDays must be a whole number ≥ 0');
  let longest = { name: '', days: 0 };
  for (const model of models) {
    const days = lookbackDays(model);
    if (days > longest.days) longest = { name: model.name, days };
  }
  return { days: longest.days + 1 + marginDays, lookbackDays: longest.days, marginDays, longestModel: longest.name };
}
