import type { LoadedModel } from '../domain/model/load.js';
import { historyView, modelView, runView, scoreView } from '../http/api-views.js';
import type { AlertStore } from '../ports/alert-sink.js';
import type { EntityStore } from '../ports/entity-store.js';
import { InvalidCursorError } from '../ports/errors.js';
import type { RunStore } from '../ports/run-store.js';
import type { ScoreStore } from '../ports/score-store.js';
import {
  type AlertPageQuery,
  type DashboardData,
  DashboardInputError,
  type EntityType,
  type ScorePageQuery,
} from './data.js';

export interface LocalDashboardDeps {
  models: () => readonly LoadedModel[];
  scores: ScoreStore;
  runs: RunStore;
  alerts: AlertStore;
  entities: EntityStore;
  clock?: (() => number) | undefined;
}

/** Alerts listed without `since`: this many days back (as the API does). */
const DEFAULT_ALERT_DAYS = 30;

/** The dashboard's data read straight from the stores (local mode), in the scores API's shapes. */
export class LocalDashboardData implements DashboardData {
  readonly source = 'local store';
  private readonly clock: () => number;

  constructor(private readonly deps: LocalDashboardDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  async models() {
    return this.deps.models().map(modelView);
  }

  async runs(query: { model?: string | undefined; limit: number }) {
    const models = query.model ? [this.model(query.model).model.name] : this.deps.models().map((m) => m.model.name);
    const records = (await Promise.all(models.map((m) => this.deps.runs.list(m, query.limit)))).flat();
    records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return Promise.all(records.slice(0, query.limit).map((r) => runView(r, this.deps.runs, undefined)));
  }

  async scores(query: ScorePageQuery) {
    const bands = this.model(query.model).model.bands.map((b) => b.name);
    if (query.band !== undefined && !bands.includes(query.band)) {
      throw new DashboardInputError('band', `must be a band of model "${query.model}": ${bands.join(', ')}`);
    }
    try {
      return await this.deps.scores.list({ ...query, bands });
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new DashboardInputError('cursor', error.message, { cause: error });
      throw error;
    }
  }

  async entity(entityType: EntityType, entityId: string, model?: string) {
    const models = model
      ? [this.model(model).model.name]
      : this.deps
          .models()
          .filter((m) => m.model.level === entityType)
          .map((m) => m.model.name);
    const [stored, known] = await Promise.all([
      models.length > 0 ? this.deps.scores.getCurrent(entityType, entityId, models) : [],
      this.deps.entities.get(entityType, entityId),
    ]);
    if (stored.length === 0 && !known) return null;
    return { entityType, entityId, scores: stored.map(scoreView), ...(known ? { traits: known.traits } : {}) };
  }

  async history(entityType: EntityType, entityId: string, model: string) {
    const name = this.model(model).model.name;
    return (await this.deps.scores.history({ entityType, entityId, model: name })).map(historyView);
  }

  async alerts(query: AlertPageQuery) {
    const models = query.model ? [this.model(query.model).model.name] : this.deps.models().map((m) => m.model.name);
    const since =
      query.since === undefined ? this.clock() - DEFAULT_ALERT_DAYS * 86_400_000 : sinceInstant(query.since);
    try {
      return await this.deps.alerts.list({
        since: new Date(since).toISOString(),
        models,
        limit: query.limit,
        cursor: query.cursor,
      });
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new DashboardInputError('cursor', error.message, { cause: error });
      throw error;
    }
  }

  private model(name: string): LoadedModel {
    const found = this.deps.models().find((m) => m.model.name === name);
    if (!found) {
      const names = this.deps.models().map((m) => m.model.name);
      throw new DashboardInputError('model', `unknown model "${name}"; active models: ${names.join(', ') || '(none)'}`);
    }
    return found;
  }
}

/** A `since` date D includes runs as of D (their instant is after the start of D, UTC), as on the API. */
function sinceInstant(value: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return Date.parse(`${value}T00:00:00Z`) + 1;
  return Date.parse(value);
}
