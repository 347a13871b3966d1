import type { LoadedModel } from '../domain/model/load.js';
import type { ErasedCheck } from '../erasure/tombstones.js';
import type { AlertSink, AlertStore } from '../ports/alert-sink.js';
import type { EntityStore } from '../ports/entity-store.js';
import type { EventStore } from '../ports/event-store.js';
import type { OverrideStore } from '../ports/override-store.js';
import type { RunStore } from '../ports/run-store.js';
import type { ScoreStore } from '../ports/score-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { UnknownModelError } from './errors.js';

/** Structured log lines with counts and ids only (never event properties or traits). */
export interface RunLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Everything the run use cases touch. Each step takes only what it needs (see the Pick<> in each signature). */
export interface RunDeps {
  /** The active models by name. */
  models: ReadonlyMap<string, LoadedModel>;
  events: EventStore;
  entities: EntityStore;
  scores: ScoreStore;
  runs: RunStore;
  objects: SnapshotStore;
  alertSink: AlertSink;
  alertStore: AlertStore;
  /** Manual overrides (docs/api.md#overrides); none when absent. */
  overrides?: OverrideStore | undefined;
  /** Tombstones (docs/api.md#erasure): erased entities are left out of a run's scores, history, snapshot and alerts. */
  erased?: ErasedCheck | undefined;
  /** Epoch ms; injectable for tests. */
  clock?: (() => number) | undefined;
  /** [0, 1); injectable for tests (run ids). */
  random?: (() => number) | undefined;
  logger?: RunLogger | undefined;
  /** Rows per snapshot Parquet part (default DEFAULT_SNAPSHOT_PART_ROWS). */
  snapshotPartRows?: number | undefined;
}

export const silentLogger: RunLogger = { info() {}, warn() {} };

export function modelNamed(models: ReadonlyMap<string, LoadedModel>, name: string): LoadedModel {
  const loaded = models.get(name);
  if (!loaded) throw new UnknownModelError(name);
  return loaded;
}

/** A name → model map from loadModels' result. */
export function modelMap(loaded: readonly LoadedModel[]): Map<string, LoadedModel> {
  return new Map(loaded.map((l) => [l.model.name, l]));
}
