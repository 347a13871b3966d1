import type { ScoringEvent } from '../domain/event.js';
import type { LoadedModel } from '../domain/model/load.js';
import type { StoredOverride } from '../domain/override.js';
import { shardOf } from '../domain/shard.js';
import { DAY_MS } from '../domain/time.js';
import type { AlertStore, StoredAlert } from '../ports/alert-sink.js';
import type { EntityRecord, EntityStore } from '../ports/entity-store.js';
import type { EntityLevel, EventStore } from '../ports/event-store.js';
import type { OverrideStore } from '../ports/override-store.js';
import type { HistoryEntry, ScoreStore, StoredScore } from '../ports/score-store.js';

/** Everything stored about one user or account (docs/api.md#export), as JSON. */
export interface EntityExport {
  entityType: EntityLevel;
  entityId: string;
  exportedAt: string;
  entity: EntityRecord | null;
  events: ScoringEvent[];
  /** True when `events` stopped at the export's cap (AWS; docs/api.md#export). */
  eventsTruncated: boolean;
  scores: StoredScore[];
  history: HistoryEntry[];
  alerts: StoredAlert[];
  overrides: StoredOverride[];
}

export interface ExportDeps {
  models: () => readonly LoadedModel[];
  /** Events by shard scan (local mode: the table and the archive) ... */
  events?: EventStore | undefined;
  /** ... or a bounded read of the entity's own partitions (AWS: the events table only). One of the two. */
  readEvents?:
    | ((
        level: EntityLevel,
        entityId: string,
        from: number,
        to: number,
      ) => Promise<{ events: ScoringEvent[]; truncated: boolean }>)
    | undefined;
  entities: EntityStore;
  scores: ScoreStore;
  alertStore: AlertStore;
  overrides?: OverrideStore | undefined;
  /** Events older than this many days have expired (TTL) and are not looked for. */
  retentionDays: number;
  clock?: (() => number) | undefined;
}

/** Alerts are kept 90 days; the export reads that far back, a page at a time. */
const ALERT_LOOKBACK_DAYS = 90;
/** Ingest accepts timestamps up to 5 minutes ahead. */
const FUTURE_SLACK_MS = 5 * 60_000;

/**
 * Collect one entity's data from every store. Events: the entity's shard over the retention period, filtered to
 * the entity (a user's own events; an account's events by its account index) — a full read of one shard, fine for
 * a data-subject request, not for a hot path.
 */
export async function exportEntity(deps: ExportDeps, entityType: EntityLevel, entityId: string): Promise<EntityExport> {
  const now = (deps.clock ?? Date.now)();
  const models = deps
    .models()
    .filter((m) => m.model.level === entityType)
    .map((m) => m.model.name);
  let events: ScoringEvent[] = [];
  let eventsTruncated = false;
  const from = now - deps.retentionDays * DAY_MS;
  if (deps.readEvents) {
    const read = await deps.readEvents(entityType, entityId, from, now + FUTURE_SLACK_MS);
    events = read.events;
    eventsTruncated = read.truncated;
  } else if (deps.events) {
    const shard = shardOf(entityId, deps.events.shardCount);
    for await (const page of deps.events.readShard({ level: entityType, shard, from, to: now + FUTURE_SLACK_MS })) {
      for (const event of page)
        if (entityType === 'user' ? event.userId === entityId : event.accountId === entityId) events.push(event);
    }
  }
  events.sort((a, b) => a.timestamp - b.timestamp);

  const history: HistoryEntry[] = [];
  for (const model of models) history.push(...(await deps.scores.history({ entityType, entityId, model })));

  const alerts: StoredAlert[] = [];
  const allModels = deps.models().map((m) => m.model.name);
  if (allModels.length > 0) {
    let cursor: string | undefined;
    const since = new Date(now - ALERT_LOOKBACK_DAYS * DAY_MS).toISOString();
    do {
      const page = await deps.alertStore.list({ since, models: allModels, limit: 1000, cursor });
      for (const a of page.items) if (a.entityType === entityType && a.entityId === entityId) alerts.push(a);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  const overrides: StoredOverride[] = [];
  if (deps.overrides)
    for (const model of models) {
      const found = await deps.overrides.get(entityType, entityId, model);
      if (found) overrides.push(found);
    }

  return {
    entityType,
    entityId,
    exportedAt: new Date(now).toISOString(),
    entity: (await deps.entities.get(entityType, entityId)) ?? null,
    events,
    eventsTruncated,
    scores: models.length > 0 ? await deps.scores.getCurrent(entityType, entityId, models) : [],
    history,
    alerts,
    overrides,
  };
}
