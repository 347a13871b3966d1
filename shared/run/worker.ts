import { ScoringRun } from '../domain/engine/scoring-run.js';
import type { KnownEntity, RawScore } from '../domain/engine/types.js';
import { idProblem } from '../domain/input-limits.js';
import type { Model, Traits } from '../domain/model/schema.js';
import { DAY_MS } from '../domain/time.js';
import type { EntityStore } from '../ports/entity-store.js';
import type { EntityLevel, EventStore } from '../ports/event-store.js';
import { priorOf, type ScoreStore, type StoredScore } from '../ports/score-store.js';
import { decodeCheckpoint, encodeCheckpoint, type ShardCheckpoint } from './checkpoint.js';
import { mapLimit } from './concurrency.js';
import { modelNamed, type RunDeps, silentLogger } from './deps.js';
import { ModelChangedError, RunStateError } from './errors.js';
import { checkpointKey, rawNumbersKey, rawRowsKey } from './keys.js';
import { previousOf, previousRule } from './previous.js';
import { encodeNumbers, encodeShardRows, type ShardRow } from './raw-rows.js';

/** What a worker returns to the state machine when the shard is scored: counts and a pointer, never scores. */
export interface ShardResult {
  runId: string;
  shard: number;
  done: true;
  entities: number;
  events: number;
  /** Entities skipped because their rows cannot be written (reasons in the log). */
  skipped: number;
  rawKey: string;
}

/** What a worker returns when its time ran out first: the state machine invokes it again with this as input. */
export interface ShardProgress {
  runId: string;
  shard: number;
  done: false;
  /** Key of the checkpoint the next invocation resumes from. */
  checkpoint: string;
  /** Events read so far. */
  events: number;
}

export interface ScoredShard {
  raws: RawScore[];
  /** Current scores of the model in this shard, by entity id. */
  currents: Map<string, StoredScore>;
  /** Events read from the store. */
  events: number;
}

export interface PausedShard {
  paused: ShardCheckpoint;
}

export interface ScoreShardOptions {
  /** Carry on from here instead of starting the shard afresh. */
  resume?: ShardCheckpoint | undefined;
  /**
   * Asked after each UTC day of events: true stops and returns the state as a checkpoint. At least one day is read
   * per call, so every invocation makes progress.
   */
  shouldPause?: (() => boolean) | undefined;
  runId?: string | undefined;
}

/** The stores scoring a shard reads. */
type ShardStores = { events: EventStore; entities: EntityStore; scores: ScoreStore };

/** Trait lookups that run concurrently: entity records are fetched one by one (see EntityStore.get). */
const LOOKUP_CONCURRENCY = 16;

/**
 * Score one shard of one model as of T: the shard's known entities (entity records and current scores) and its
 * events in the lookback period, streamed page by page through the engine. Memory is O(entities × signals).
 */
export async function scoreShard(
  deps: ShardStores,
  model: Model,
  asOf: number,
  shard: number,
  scoresOf: string = model.name,
): Promise<ScoredShard> {
  const scored = await scoreShardResumable(deps, model, asOf, shard, scoresOf);
  if ('paused' in scored) throw new Error('scoreShard: paused without a pause rule');
  return scored;
}

/**
 * scoreShard that may stop between two UTC days of events (see ScoreShardOptions) and resume from a checkpoint:
 * the engine state is exported and imported exactly (ScoringRun.exportState/importState), so a shard scored in
 * several invocations gives the same scores as one scored in one.
 */
export async function scoreShardResumable(
  deps: ShardStores,
  model: Model,
  asOf: number,
  shard: number,
  scoresOf: string = model.name,
  options: ScoreShardOptions = {},
): Promise<ScoredShard | PausedShard> {
  const level = model.level;
  const { resume } = options;
  const traits = new TraitCache(deps.entities);
  const known = new Map<string, KnownEntity>();
  const userAccounts = new Map<string, string>();
  for await (const page of deps.entities.listShard(level, shard)) {
    for (const record of page) {
      traits.set(level, record.entityId, record.traits);
      if (level === 'user' && record.accountId !== undefined) userAccounts.set(record.entityId, record.accountId);
      known.set(record.entityId, {
        entityId: record.entityId,
        traits: record.traits,
        accountId: record.accountId,
        firstSeenAt: record.firstSeenAt,
        // Not the record's lastSeenAt: that is the last identify/group call, and docs/models.md#semantics-exact makes inactivity
        // "no event at all". The run reads far enough back (the longest inactiveDays) to know from events alone.
        archived: record.archived,
      });
    }
  }
  const currents = new Map<string, StoredScore>();
  for await (const page of deps.scores.listCurrentShard(scoresOf, shard)) {
    for (const score of page) {
      currents.set(score.entityId, score);
      if (!known.has(score.entityId))
        known.set(score.entityId, { entityId: score.entityId, accountId: score.accountId ?? undefined });
    }
  }

  const run = new ScoringRun(model, {
    asOf,
    dedupe: false,
    accountOf: (userId) => userAccounts.get(userId) ?? traits.accountOf(userId),
    traitsOf: (type, id) => traits.get(type, id),
  });
  // The run's memory goes back for the next shard this warm worker scores (array-pool.ts): what it returns is copied.
  try {
    // A resumed shard's known entities are in its state already.
    if (resume) run.importState(resume.state);
    else run.addKnown(known.values());
    known.clear();

    // Traits from other shards the engine asks for synchronously: fetched ahead of the events that need them.
    const needsUserTraits = model.breakdown !== undefined;
    const needsAccountTraits = level === 'user' && (model.appliesTo?.length ?? 0) > 0;
    const accounts = needsAccountTraits
      ? new Set<string>([...userAccounts.values(), ...(resume?.accounts ?? [])])
      : null;
    let events = resume?.events ?? 0;
    // One UTC day (one partition per shard) at a time: a day is where a worker may stop and hand over.
    let from = resume?.resumeFrom ?? run.lookbackFrom;
    while (from < asOf) {
      const to = Math.min(asOf, (Math.floor(from / DAY_MS) + 1) * DAY_MS);
      const pages = readAhead(deps.events.readShard({ level, shard, from, to }), READ_AHEAD);
      for await (const page of pages) {
        events += page.length;
        if (needsUserTraits)
          await traits.prefetch(
            'user',
            page.map((e) => e.userId),
          );
        if (accounts) for (const e of page) if (e.accountId !== undefined) accounts.add(e.accountId);
        run.add(page);
      }
      from = to;
      if (from < asOf && options.shouldPause?.()) {
        return {
          paused: {
            runId: options.runId ?? resume?.runId ?? '',
            shard,
            resumeFrom: from,
            events,
            invocations: (resume?.invocations ?? 0) + 1,
            accounts: accounts ? [...accounts] : null,
            state: run.exportState(),
          },
        };
      }
    }
    if (accounts) await traits.prefetch('account', [...accounts]);
    return { raws: run.finish(), currents, events };
  } finally {
    run.release();
  }
}

/**
 * The worker step: score one shard, pair each raw score with the previous score the run compares it with, and
 * write the rows to the snapshot bucket for finalise (percentile models also get the bare numbers). With a
 * `shouldPause` rule (the Lambda's remaining time), it may instead write a checkpoint and return ShardProgress;
 * called again with that progress, it carries on.
 */
export async function runShard(
  deps: Pick<RunDeps, 'models' | 'runs' | 'events' | 'entities' | 'scores' | 'objects' | 'logger'>,
  item: { runId: string; shard: number; checkpoint?: string | undefined },
  options: { shouldPause?: (() => boolean) | undefined } = {},
): Promise<ShardResult | ShardProgress> {
  const log = deps.logger ?? silentLogger;
  const run = await deps.runs.get(item.runId);
  if (!run) throw new RunStateError(item.runId, 'does not exist');
  if (!(Number.isInteger(item.shard) && item.shard >= 0 && item.shard < run.shardCount)) {
    throw new RunStateError(run.runId, `shard ${item.shard} is outside 0..${run.shardCount - 1}`);
  }
  const loaded = modelNamed(deps.models, run.model);
  if (loaded.contentHash !== run.contentHash) throw new ModelChangedError(run.model, run.runId);
  const model = loaded.model;
  const started = Date.now();
  let resume: ShardCheckpoint | undefined;
  if (item.checkpoint !== undefined) {
    if (item.checkpoint !== checkpointKey(run.runId, item.shard))
      throw new RunStateError(run.runId, `checkpoint ${item.checkpoint} is not shard ${item.shard}'s`);
    const body = await deps.objects.get(item.checkpoint);
    // Gone (expired scratch): starting the shard afresh gives the same result, only later.
    if (body) resume = decodeCheckpoint(body);
    else log.warn('checkpoint missing: scoring the shard from the start', { runId: run.runId, shard: item.shard });
  }
  const scored = await scoreShardResumable(deps, model, Date.parse(run.asOf), item.shard, model.name, {
    resume,
    shouldPause: options.shouldPause,
    runId: run.runId,
  });
  if ('paused' in scored) {
    const key = checkpointKey(run.runId, item.shard);
    await deps.objects.put(key, encodeCheckpoint(scored.paused), 'application/octet-stream');
    log.info('shard paused', {
      runId: run.runId,
      shard: item.shard,
      events: scored.paused.events,
      invocations: scored.paused.invocations,
      resumeFrom: new Date(scored.paused.resumeFrom).toISOString(),
      ms: Date.now() - started,
    });
    return { runId: run.runId, shard: item.shard, done: false, checkpoint: key, events: scored.paused.events };
  }
  const skipped = skipUnwritable(scored, (reason) =>
    (deps.logger ?? silentLogger).warn('row skipped', { runId: run.runId, shard: item.shard, reason }),
  );
  const rows = await pairWithPrevious(deps.scores, model, run.asOf, scored);
  const rawKey = rawRowsKey(run.runId, item.shard);
  const header = { runId: run.runId, shard: item.shard, entities: rows.length, events: scored.events, skipped };
  await deps.objects.put(rawKey, encodeShardRows(header, rows), 'application/gzip');
  if (model.normalize.method === 'percentile') {
    await deps.objects.put(
      rawNumbersKey(run.runId, item.shard),
      encodeNumbers(rows.map((r) => r.raw.rawScore)),
      'application/octet-stream',
    );
  }
  log.info('shard scored', {
    runId: run.runId,
    shard: item.shard,
    entities: rows.length,
    events: scored.events,
    skipped,
    ms: Date.now() - started,
  });
  return {
    runId: run.runId,
    shard: item.shard,
    done: true,
    entities: rows.length,
    events: scored.events,
    skipped,
    rawKey,
  };
}

/**
 * Drop the scores whose rows cannot be written: an entity or account id past the id limits (stored before they
 * existed) would make every key built from it invalid, and one such row must not fail the run (docs/runs.md).
 * Returns how many were dropped; `log` gets each reason (never the id: ids may be personal data).
 */
export function skipUnwritable(scored: ScoredShard, log: (reason: string) => void): number {
  let skipped = 0;
  scored.raws = scored.raws.filter((raw) => {
    const problem = idProblem(raw.entityId) ?? (raw.accountId === null ? undefined : idProblem(raw.accountId));
    if (problem === undefined) return true;
    skipped++;
    log(`${raw.entityType} id ${problem}`);
    return false;
  });
  return skipped;
}

/** Apply the previous-score rules (see previous.ts); backfilled dates look their previous up in history. */
export async function pairWithPrevious(
  scores: ScoreStore,
  model: Model,
  asOf: string,
  scored: ScoredShard,
): Promise<ShardRow[]> {
  const rows: ShardRow[] = new Array(scored.raws.length);
  const fromHistory: number[] = [];
  scored.raws.forEach((raw, i) => {
    const stored = scored.currents.get(raw.entityId);
    const rule = previousRule(stored, asOf);
    if (rule.kind === 'resolved') {
      rows[i] = { raw, previous: rule.previous, current: true };
      if (stored) rows[i]!.prior = priorOf(stored);
    } else {
      rows[i] = { raw, previous: null, current: false };
      fromHistory.push(i);
    }
  });
  if (fromHistory.length > 0) {
    const ids = fromHistory.map((i) => scored.raws[i]!.entityId);
    const found = await scores.latestBefore(model.level, ids, model.name, asOf);
    for (const i of fromHistory) {
      const entry = found.get(scored.raws[i]!.entityId);
      if (entry) rows[i]!.previous = previousOf(entry);
    }
  }
  return rows;
}

/** Query pages requested ahead of the one being scored, so the store's latency overlaps the engine's work. */
const READ_AHEAD = 2;

/** Iterate `source` while keeping up to `depth` further items in flight. */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  const pending: Promise<IteratorResult<T>>[] = [];
  try {
    for (;;) {
      while (pending.length <= depth) pending.push(iterator.next());
      const next = await pending.shift()!;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Settle what is still in flight before closing the source.
    await Promise.allSettled(pending);
    await iterator.return?.();
  }
}

/** Traits and user accounts of entities outside the shard, fetched once each. */
class TraitCache {
  private readonly traits = new Map<string, Traits | null>();
  private readonly accounts = new Map<string, string>();

  constructor(private readonly store: EntityStore) {}

  set(type: EntityLevel, id: string, traits: Traits): void {
    this.traits.set(`${type}\u0000${id}`, traits);
  }

  get(type: EntityLevel, id: string): Traits | undefined {
    return this.traits.get(`${type}\u0000${id}`) ?? undefined;
  }

  accountOf(userId: string): string | undefined {
    return this.accounts.get(userId);
  }

  async prefetch(type: EntityLevel, ids: readonly string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.traits.has(`${type}\u0000${id}`));
    if (missing.length === 0) return;
    await mapLimit(missing, LOOKUP_CONCURRENCY, async (id) => {
      const record = await this.store.get(type, id);
      this.traits.set(`${type}\u0000${id}`, record?.traits ?? null);
      if (type === 'user' && record?.accountId !== undefined) this.accounts.set(id, record.accountId);
    });
  }
}
