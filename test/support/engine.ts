import { type EntityScore, type ScoreOptions, scoreEvents } from '../../shared/domain/engine/index.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { type Model, type ModelInput, ModelSchema } from '../../shared/domain/model/schema.js';

type SignalInput = ModelInput['signals'][number];

/**
 * A signal worth the points of the highest tier its count of distinct active days (local days with any event)
 * reaches; `tiers` are [min days, points] pairs, kept in the order given (models may list them in any order).
 */
export function activeDaysTiers(name: string, tiers: [min: number, points: number][]): SignalInput {
  return { name, event: '*', aggregate: 'distinctDays', tiers: tiers.map(([min, points]) => ({ min, points })) };
}

/** A signal summing the `minutes` property of `session_ended` events, times `weight`. */
export function sessionMinutes(name: string, weight: number, extra: Partial<SignalInput> = {}): SignalInput {
  return { name, event: 'session_ended', aggregate: 'sum', property: 'minutes', weight, ...extra } as SignalInput;
}

/** Userpilot's bands: below 0 at risk, 0–40 disengaged, 41–70 somewhat, 71–100 highly engaged, above 100 power user. */
export const USERPILOT_BANDS = [
  { name: 'at-risk' },
  { name: 'disengaged', min: 0 },
  { name: 'somewhat-engaged', min: 41 },
  { name: 'highly-engaged', min: 71 },
  { name: 'power-user', min: 101 },
];

/** A validated model from a partial definition (defaults: user level, 30 days, UTC, no normalisation, one band). */
export function model(partial: Partial<ModelInput> & Pick<ModelInput, 'signals'>): Model {
  return ModelSchema.parse({
    name: 'test',
    version: 1,
    level: 'user',
    windowDays: 30,
    bands: [{ name: 'all' }],
    ...partial,
  });
}

/**
 * A 7-day model of one `logins` signal and bands `low` and `high`; with `drop`, it alerts on a drop of that many
 * points and on every band change.
 */
export function weeklyLogins(name: string, points: { perLogin: number; high: number; drop?: number }): Model {
  return model({
    name,
    windowDays: 7,
    signals: [{ name: 'logins', event: 'login', weight: points.perLogin }],
    bands: [{ name: 'low' }, { name: 'high', min: points.high }],
    ...(points.drop === undefined ? {} : { alerts: { drop: { points: points.drop }, bandChange: true } }),
  });
}

let counter = 0;

/** An event `daysBefore` days (24 h each) before `asOf`, with a unique id unless given. */
export function event(name: string, at: string | number, extra: Partial<ScoringEvent> = {}): ScoringEvent {
  counter++;
  return {
    eventId: extra.eventId ?? `e${counter}`,
    name,
    userId: extra.userId ?? 'u1',
    accountId: extra.accountId,
    timestamp: typeof at === 'number' ? at : Date.parse(at),
    properties: extra.properties,
  };
}

/** `n` copies of an event, one minute apart, starting at `at`. */
export function repeat(n: number, name: string, at: string, extra: Partial<ScoringEvent> = {}): ScoringEvent[] {
  const start = Date.parse(at);
  return Array.from({ length: n }, (_, i) => event(name, start + i * 60_000, { ...extra, eventId: undefined }));
}

/** Score a model and index the results by entity id (absent = not scored). */
export async function scoreById(
  m: Model,
  events: Iterable<ScoringEvent>,
  options: ScoreOptions,
): Promise<Map<string, EntityScore>> {
  const scores = await scoreEvents(m, events, options);
  return new Map(scores.map((s) => [s.entityId, s]));
}

/** Score a model expected to score exactly one entity, and return that score. */
export async function scoreOnly(m: Model, events: Iterable<ScoringEvent>, options: ScoreOptions): Promise<EntityScore> {
  const scores = await scoreEvents(m, events, options);
  if (scores.length !== 1) throw new Error(`expected one scored entity, got ${scores.length}`);
  return scores[0]!;
}

/** The value of one signal in a score (its aggregate after filters, decay and caps). */
export function signalValue(score: EntityScore, signal: string): number | undefined {
  return score.contributions.find((c) => c.signal === signal)?.value;
}

/** The points of one signal in a score. */
export function pointsOf(score: EntityScore, signal: string): number | undefined {
  return score.contributions.find((c) => c.signal === signal)?.points;
}

/** Days before an instant, in whole 24-hour days (for decay ages, which are measured in elapsed time). */
export function daysBefore(instant: number | string, days: number): number {
  return (typeof instant === 'number' ? instant : Date.parse(instant)) - days * 86_400_000;
}
