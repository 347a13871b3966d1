import type { ScoringEvent } from '../../shared/domain/event.js';
import { type Model, type ModelInput, ModelSchema } from '../../shared/domain/model/schema.js';

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

let counter = 0;

/** An event `daysBefore` days (24 h each) before `asOf`, with a unique id unless given. */
export function event(
  name: string,
  at: string | number,
  extra: Partial<ScoringEvent> = {},
): ScoringEvent {
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
