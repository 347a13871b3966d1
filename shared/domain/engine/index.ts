import type { ScoringEvent } from '../event.js';
import type { Model } from '../model/schema.js';
import { resolveAsOf } from '../time.js';
import { finalizeScores } from './finalize.js';
import { ScoringRun, type ScoringRunOptions } from './scoring-run.js';
import type { EntityScore, KnownEntity, PreviousScore, RawScore } from './types.js';

export * from './finalize.js';
export * from './scoring-run.js';
export * from './types.js';

export interface ScoreOptions extends Omit<ScoringRunOptions, 'asOf'> {
  /** A date (YYYY-MM-DD, end of that day in the model's zone) or an ISO instant. */
  asOf: string | number;
  known?: Iterable<KnownEntity> | undefined;
  previousOf?: ((raw: RawScore) => PreviousScore | undefined) | undefined;
}

/** Score one model over events held in memory or streamed in pages: the whole pipeline in one call. */
export async function scoreEvents(
  model: Model,
  events: Iterable<ScoringEvent> | AsyncIterable<ScoringEvent[]>,
  options: ScoreOptions,
): Promise<EntityScore[]> {
  const asOf = resolveAsOf(options.asOf, model.timezone);
  const run = new ScoringRun(model, { ...options, asOf: asOf.instant });
  if (options.known) run.addKnown(options.known);
  if (Symbol.asyncIterator in events) {
    for await (const page of events) run.add(page);
  } else run.add(events);
  return finalizeScores(model, run.finish(), new Date(asOf.instant).toISOString(), options.previousOf);
}
