import { statSync } from 'node:fs';
import type { ScoringEvent } from '../domain/event.js';
import { readJsonlPages } from '../files/jsonl-events.js';
import type { EntityStore } from '../ports/entity-store.js';
import type { EntityLevel, EventStore } from '../ports/event-store.js';
import { mapLimit } from '../run/concurrency.js';
import { CalibrateUsageError } from './errors.js';

/** What the backtest needs read: every event of `level` entities in [from, to). */
export interface EventRange {
  level: EntityLevel;
  from: number;
  to: number;
}

/** Counts of what a source read (a file's lines; a store has no invalid lines). */
export interface EventStats {
  lines: number;
  invalid: number;
  /** First few invalid lines (line number and reason; never the line's content). */
  invalidSamples: { line: number; message: string }[];
  firstAt: number | null;
  lastAt: number | null;
}

/** One page of events with the progress so far (bytes of a file, shards of a store). */
export interface EventPage {
  events: ScoringEvent[];
  done: number;
  total: number;
}

/**
 * Where a backtest's events come from: a JSONL file (read whole, once) or an event store (read shard by shard for
 * the range the outcomes need). A source may return events outside the range; the engine ignores them.
 */
export interface EventSource {
  kind: 'file' | 'store';
  /** A file source: its path (what a parallel replay reads directly). */
  file?: string | undefined;
  /** For messages: the file name, or "the local store in .pulse". */
  label: string;
  /** What `done` and `total` of a page count. */
  unit: 'bytes' | 'shards';
  /**
   * Events are unique already (a store keeps each event once): the engine need not de-duplicate by id, which also
   * keeps the store's identity (id, user, day) rather than the id alone.
   */
  unique: boolean;
  /** Only the requested range is read, so the first and last events seen bound the range, not the data. */
  ranged: boolean;
  pages(range: EventRange, stats: EventStats): AsyncIterable<EventPage>;
  /** Of these entities (no events in the range), the ones the source knows anyway (identify/group records). */
  known?(level: EntityLevel, ids: readonly string[]): Promise<Set<string>>;
}

export const emptyStats = (): EventStats => ({
  lines: 0,
  invalid: 0,
  invalidSamples: [],
  firstAt: null,
  lastAt: null,
});

/** Native events (docs/data-model.md#ingest-contract-details), one JSON object a line; invalid lines are counted, not fatal. */
export function fileEventSource(file: string, pageSize = 10_000): EventSource {
  return {
    kind: 'file',
    file,
    label: file,
    unit: 'bytes',
    unique: false,
    ranged: false,
    pages: (_range, stats) => readFilePages(file, pageSize, stats),
  };
}

/** The size of an events file, or a usage error naming why it cannot be read. */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch (error) {
    throw new CalibrateUsageError(
      `--events ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Count an invalid line and keep the first few as samples. */
export function recordIssue(stats: EventStats, { line, message }: { line: number; message: string }): void {
  stats.invalid++;
  // JSON.parse messages quote the line: keep only the kind of problem, never event content.
  const shown = message.startsWith('not JSON') ? 'not JSON' : message;
  if (stats.invalidSamples.length < 5) stats.invalidSamples.push({ line, message: shown });
}

async function* readFilePages(file: string, pageSize: number, stats: EventStats): AsyncGenerator<EventPage> {
  const totalBytes = fileSize(file);
  // The byte-level reader (docs/models.md#reading-jsonl-files): exactly the events of the validating path.
  const pages = readJsonlPages(file, { pageSize, onIssue: (issue) => recordIssue(stats, issue) });
  for (;;) {
    const next = await pages.next();
    if (next.done) {
      stats.lines = next.value;
      break;
    }
    yield { events: next.value.events, done: next.value.bytesRead, total: totalBytes };
  }
  yield { events: [], done: totalBytes, total: totalBytes };
}

export interface StoreEventSourceOptions {
  events: EventStore;
  /** Entity records (identify/group): an outcome entity with a record but no events in the range is known. */
  entities?: EntityStore | undefined;
  label: string;
  /** Shards read at once (default 4): a store answers one query per shard and UTC day. */
  concurrency?: number | undefined;
}

/**
 * An event store read the way a run's workers read it: every shard, page by page, through `readShard` for the
 * range only, a few shards at a time. Memory holds at most one page per shard in flight (plus the engine's
 * per-entity state).
 */
export function storeEventSource(options: StoreEventSourceOptions): EventSource {
  const { events, entities } = options;
  return {
    kind: 'store',
    label: options.label,
    unit: 'shards',
    unique: true,
    ranged: true,
    async *pages(range, stats) {
      const total = events.shardCount;
      let done = 0;
      const shards = Array.from({ length: total }, (_, shard) =>
        events.readShard({ level: range.level, shard, from: range.from, to: range.to }),
      );
      for await (const item of mergePages(shards, options.concurrency ?? 4)) {
        if (item === 'end') done++;
        else stats.lines += item.length;
        yield { events: item === 'end' ? [] : item, done, total };
      }
    },
    known: entities
      ? async (level, ids) => {
          const found = await mapLimit(ids, 16, async (id) => ((await entities.get(level, id)) ? id : undefined));
          return new Set(found.filter((id): id is string => id !== undefined));
        }
      : undefined,
  };
}

/**
 * The pages of several shards as one stream, at most `concurrency` shards read at once, each with one page in
 * flight; `'end'` marks a shard finished. Pages come in whatever order the shards answer (the engine does not care).
 */
export async function* mergePages<T>(
  sources: readonly AsyncIterable<T>[],
  concurrency: number,
): AsyncGenerator<T | 'end'> {
  type Pending = Promise<{ iterator: AsyncIterator<T>; result: IteratorResult<T> }>;
  const pending = new Map<AsyncIterator<T>, Pending>();
  const pull = (iterator: AsyncIterator<T>): void => {
    pending.set(
      iterator,
      iterator.next().then((result) => ({ iterator, result })),
    );
  };
  let next = 0;
  const start = (): void => {
    while (pending.size < Math.max(1, concurrency) && next < sources.length)
      pull(sources[next++]![Symbol.asyncIterator]());
  };
  start();
  try {
    while (pending.size > 0) {
      const { iterator, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(iterator);
        start();
        yield 'end';
      } else {
        pull(iterator);
        yield result.value;
      }
    }
  } finally {
    // Stop the shards still being read when the consumer stops early (an error, a break).
    for (const [iterator, promise] of pending) {
      promise.catch(() => undefined);
      void iterator.return?.()?.catch(() => undefined);
    }
  }
}
