import { countDates, isCalendarDate } from '../domain/dates.js';
import type { LoadedModel } from '../domain/model/load.js';
import { dateRange, InvalidAsOfError, lastCompleteDay, resolveAsOf } from '../domain/time.js';
import type { EventStore } from '../ports/event-store.js';
import type { RunRecord } from '../ports/run-store.js';
import { modelNamed, type RunDeps } from './deps.js';
import { InvalidRunRequestError, RunStateError } from './errors.js';
import { shardItemsKey } from './keys.js';

/** At most this many dates in one backfill (a year and a day). */
export const MAX_BACKFILL_DAYS = 366;

export interface RunRequest {
  model: string;
  /** `scheduled` (the last complete day in the model's zone), a date `YYYY-MM-DD`, or an ISO instant. */
  asOf: string;
  /** Publish alerts for scores that become current (default true). */
  alerts?: boolean | undefined;
}

export interface BackfillRequest {
  model: string;
  from: string;
  to: string;
}

/** A shard of a run: one item of the Distributed Map (small JSON, never score data). */
export interface ShardItem {
  runId: string;
  shard: number;
}

/** What the plan step returns: pointers only (the state machine's payloads stay far below 256 KB). */
export interface PlanResult {
  runId: string;
  /** The backfill this run belongs to. */
  parentRunId: string | null;
  model: string;
  shardCount: number;
  /** Key of the JSON array of ShardItem in the snapshot bucket (the Map's ItemReader). */
  itemsKey: string;
  /** True when there is nothing left to run (a finished backfill): the state machine ends. */
  done: boolean;
}

type PlanDeps = Pick<RunDeps, 'models' | 'runs' | 'events' | 'objects' | 'clock' | 'random'>;

/**
 * What recording a run needs: the models, the run store and the shard count a run fans out over, so the API
 * function records runs without an event or snapshot store (it has no access to either).
 */
export type CreateRunDeps = Pick<RunDeps, 'models' | 'runs' | 'clock' | 'random'> & {
  events: Pick<EventStore, 'shardCount'>;
};

/** A queued run record of `model` as of `asOf`, stamped now: what createRun and createBackfill store. */
function queuedRecord(
  deps: CreateRunDeps,
  { model, contentHash }: LoadedModel,
  asOf: { instant: number; date: string },
  now: number,
  {
    runId,
    kind,
    alerts,
    ...family
  }: Pick<RunRecord, 'runId' | 'kind' | 'alerts'> & Partial<Pick<RunRecord, 'parentRunId' | 'runs'>>,
): RunRecord {
  const stamp = new Date(now).toISOString();
  // The fields in the order runs have always been stored in.
  return {
    runId,
    kind,
    model: model.name,
    modelVersion: model.version,
    contentHash,
    asOf: new Date(asOf.instant).toISOString(),
    date: asOf.date,
    status: 'queued',
    counts: { entities: 0, events: 0, skipped: 0 },
    snapshot: null,
    error: null,
    shardCount: deps.events.shardCount,
    alerts,
    ...family,
    createdAt: stamp,
    updatedAt: stamp,
  };
}

/** Create a queued run of a model as of an instant (what POST /v1/runs and the schedule do first). */
export async function createRun(deps: CreateRunDeps, request: RunRequest, parentRunId?: string): Promise<RunRecord> {
  const loaded = modelNamed(deps.models, request.model);
  const { model } = loaded;
  const now = (deps.clock ?? Date.now)();
  const asOfValue = request.asOf === 'scheduled' ? lastCompleteDay(now, model.timezone) : request.asOf;
  let asOf: ReturnType<typeof resolveAsOf>;
  try {
    asOf = resolveAsOf(asOfValue, model.timezone);
  } catch (error) {
    if (error instanceof InvalidAsOfError) throw new InvalidRunRequestError('asOf', error.message, { cause: error });
    throw error;
  }
  const run = queuedRecord(deps, loaded, asOf, now, {
    runId: newRunId(model.name, asOf.date, deps.random),
    kind: 'run',
    alerts: request.alerts ?? true,
    parentRunId,
  });
  await deps.runs.create(run);
  return run;
}

/**
 * Check a backfill's dates before any work (docs/api.md#runs): both calendar dates, in order, at most
 * MAX_BACKFILL_DAYS dates, counted arithmetically so even a range of millennia is refused at once.
 */
export function checkBackfillRange(request: Pick<BackfillRequest, 'from' | 'to'>): void {
  for (const field of ['from', 'to'] as const) {
    if (!isCalendarDate(request[field])) {
      throw new InvalidRunRequestError(field, 'must be a calendar date (YYYY-MM-DD)');
    }
  }
  if (request.from > request.to) throw new InvalidRunRequestError('from', `must not be after to (${request.to})`);
  const days = countDates(request.from, request.to);
  if (days > MAX_BACKFILL_DAYS) {
    throw new InvalidRunRequestError('to', `a backfill covers at most ${MAX_BACKFILL_DAYS} dates (got ${days})`);
  }
}

/**
 * Create a backfill: one queued run per date from `from` to `to` (inclusive, in date order, so each day's
 * trend compares with the day before). Backfill runs do not fire alerts.
 */
export async function createBackfill(deps: CreateRunDeps, request: BackfillRequest): Promise<RunRecord> {
  const loaded = modelNamed(deps.models, request.model);
  const { model } = loaded;
  checkBackfillRange(request);
  const dates = dateRange(request.from, request.to);
  const now = (deps.clock ?? Date.now)();
  const last = resolveAsOf(request.to, model.timezone);
  const parent = queuedRecord(deps, loaded, last, now, {
    runId: newRunId(model.name, `${request.from}-${request.to}`, deps.random),
    kind: 'backfill',
    alerts: false,
    runs: [],
  });
  await deps.runs.create(parent);
  const children: string[] = [];
  for (const date of dates) {
    const child = await createRun(deps, { model: model.name, asOf: date, alerts: false }, parent.runId);
    children.push(child.runId);
  }
  return deps.runs.update(parent.runId, { runs: children });
}

/**
 * Plan the next step of a run: mark it running and write its shard list. For a backfill, plan its first run that
 * has not succeeded yet (or report `done`).
 */
export async function planRun(deps: PlanDeps, runId: string): Promise<PlanResult & { items: ShardItem[] }> {
  const run = await deps.runs.get(runId);
  if (!run) throw new RunStateError(runId, 'does not exist');
  if (run.kind === 'backfill') {
    if (run.status === 'queued') await deps.runs.update(run.runId, { status: 'running' });
    for (const childId of run.runs ?? []) {
      const child = await deps.runs.get(childId);
      if (!child) throw new RunStateError(run.runId, `its run ${childId} is missing`);
      if (child.status !== 'succeeded') return planRun(deps, childId);
    }
    return {
      runId: run.runId,
      parentRunId: null,
      model: run.model,
      shardCount: 0,
      itemsKey: '',
      done: true,
      items: [],
    };
  }
  if (run.status === 'succeeded') {
    return {
      runId,
      parentRunId: run.parentRunId ?? null,
      model: run.model,
      shardCount: run.shardCount,
      itemsKey: '',
      done: true,
      items: [],
    };
  }
  const loaded = modelNamed(deps.models, run.model);
  const items: ShardItem[] = Array.from({ length: run.shardCount }, (_, shard) => ({ runId, shard }));
  const itemsKey = shardItemsKey(runId);
  await deps.objects.put(itemsKey, JSON.stringify(items), 'application/json');
  await deps.runs.update(runId, { status: 'running', error: null });
  return {
    runId,
    parentRunId: run.parentRunId ?? null,
    model: loaded.model.name,
    shardCount: run.shardCount,
    itemsKey,
    done: false,
    items,
  };
}

/** `<model>-<YYYYMMDD>-<6 random base36 chars>`: readable, sortable by date, unique per attempt. */
export function newRunId(model: string, date: string, random: (() => number) | undefined = Math.random): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += Math.floor(random() * 36).toString(36);
  return `${model}-${date.replaceAll('-', '')}-${suffix}`;
}
