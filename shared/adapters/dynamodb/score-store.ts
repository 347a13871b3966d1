import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type QueryCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_SHARD_COUNT } from '../../config/defaults.js';
import { shardOf } from '../../domain/shard.js';
import type { EntityLevel } from '../../ports/event-store.js';
import {
  type HistoryEntry,
  type HistoryQuery,
  type HistoryRun,
  historyEntryOf,
  historyFingerprint,
  InvalidCursorError,
  type ScoreListItem,
  type ScoreListQuery,
  type ScorePage,
  type ScoreStore,
  type ScoreWrite,
  type ScoreWriteRefusal,
  type StoredScore,
  storedScoreOf,
} from '../../ports/score-store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { HistoryDays, OVERLAY, startsRun } from './history-days.js';
import { type Keyed, mergeDescending, type Source } from './merge-descending.js';
import { queryPages } from './query-pages.js';
import { batchPutAll, chunk, DEFAULT_RETRY, type RetryPolicy, sendAll, withRetries } from './retry.js';
import { bandPartition, SCORE_INDEX_SPREAD, ScoreCursorSchema, sortableNumber } from './score-index.js';
import {
  asOfOfHistory,
  isCanonicalAsOf,
  packCurrent,
  packDays,
  packHistory,
  packRun,
  unpackCurrent,
  unpackRun,
} from './score-items.js';
import { SCORES_BY_SCORE_INDEX } from './tables.js';
import { isValidationError } from './validation.js';

type Item = Record<string, AttributeValue>;

// Reachable from here as before the store was split along its seams.
export { type Keyed, mergeDescending, type Source } from './merge-descending.js';
export { SCORE_INDEX_SPREAD, sortableNumber } from './score-index.js';

/** Batch calls in flight at once per write call. */
const WRITE_CONCURRENCY = 8;

export interface DynamoScoreStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Must equal the event store's shard count (current rows are partitioned by run shard). */
  shardCount?: number | undefined;
  retry?: RetryPolicy | undefined;
  /** Items a query page returns at most. */
  pageSize?: number | undefined;
}

/**
 * Current scores and history in the scores table (docs/runs.md):
 * - current: `pk` = CUR#<model>#<shard>, `sk` = <type>#<id>: GetItem by (entity, model), Query by run shard;
 *   GSI byScore `gpk` = SCORE#<model>#<band>#<shard mod 8>, `gsk` = <sortable score>#<type>#<id>;
 * - history: `pk` = HIST#<type>#<id>, `sk` = <model>#<asOf>: one Query per entity and model, oldest first.
 * The stored score is compact JSON in `doc` (score-items.ts); list fields are top-level so the index query reads little.
 */
export class DynamoScoreStore implements ScoreStore {
  readonly shardCount: number;
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly retry: RetryPolicy;
  private readonly pageSize: number | undefined;

  constructor(options: DynamoScoreStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.pageSize = options.pageSize;
  }

  async getCurrent(entityType: EntityLevel, entityId: string, models: readonly string[]): Promise<StoredScore[]> {
    const shard = shardOf(entityId, this.shardCount);
    // Each model once, in the order first asked for.
    const unique = [...new Set(models)];
    const keys: Item[] = unique.map((m) => ({
      pk: { S: `CUR#${m}#${shard}` },
      sk: { S: `${entityType}#${entityId}` },
    }));
    const found: StoredScore[] = [];
    for (const part of chunk(keys, 100)) {
      await sendAll(
        part,
        async (pending) => {
          const result = await this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.tableName]: { Keys: pending as Item[], ConsistentRead: true } },
            }),
          );
          for (const item of result.Responses?.[this.tableName] ?? []) found.push(unpackCurrent(item));
          return (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
        },
        this.retry,
        'reading current scores',
      );
    }
    const order = new Map(unique.map((m, i) => [m, i]));
    return found.sort((a, b) => (order.get(a.model) ?? 0) - (order.get(b.model) ?? 0));
  }

  async *listCurrentShard(model: string, shard: number): AsyncIterable<StoredScore[]> {
    for await (const items of this.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `CUR#${model}#${shard}` } },
      ConsistentRead: true,
      Limit: this.pageSize,
    })) {
      // With the open history run: the worker hands it to the write that replaces this score.
      yield items.map((item) => {
        const score = unpackCurrent(item);
        if (item.hr?.S !== undefined) score.historyRun = unpackRun(item.hr.S);
        return score;
      });
    }
  }

  async list(query: ScoreListQuery): Promise<ScorePage> {
    // Highest band first; one band only when asked.
    const walk = query.band === undefined ? [...query.bands].reverse() : [query.band];
    const fresh = (): (string | null)[] => Array.from({ length: SCORE_INDEX_SPREAD }, () => null);
    let position = 0;
    let after = fresh();
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor, ScoreCursorSchema);
      // Bound to its query, and to a band position this walk has: one page of reads whatever it says.
      if (cursor.m !== query.model || cursor.f !== (query.band ?? null) || cursor.b >= walk.length) {
        throw new InvalidCursorError();
      }
      position = cursor.b;
      after = cursor.a;
    }
    const items: ScoreListItem[] = [];
    let more = false;
    while (items.length < query.limit && position < walk.length) {
      const band = walk[position]!;
      const sources = Array.from({ length: SCORE_INDEX_SPREAD }, (_, g) => this.bandSource(query.model, band, g));
      const page = await mergeDescending(sources, after, query.limit - items.length);
      for (const picked of page.picked) items.push(listItem(picked.item, query.model));
      after = page.after;
      if (page.exhausted) {
        position++;
        after = fresh();
      } else more = true;
    }
    more =
      more ||
      (items.length >= query.limit &&
        position < walk.length &&
        (await this.anyLeft(query.model, walk, position, after)));
    return {
      items,
      nextCursor: more ? encodeCursor({ m: query.model, f: query.band ?? null, b: position, a: after }) : null,
    };
  }

  async history(query: HistoryQuery): Promise<HistoryEntry[]> {
    const days = new HistoryDays(query.model);
    const pk = `HIST#${query.entityType}#${query.entityId}`;
    const [, current] = await Promise.all([
      (async () => {
        for await (const items of this.query({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: {
            ':pk': { S: pk },
            ':lo': { S: `${query.model}#${query.from ?? ''}` },
            // Up to and with the last day's overlay row (`<asOf>+`).
            ':hi': { S: `${query.model}#${query.to ?? ''}\uffff` },
          },
        })) {
          for (const item of items) days.add(item);
        }
        // A range that starts inside a run: the run's row is before it (docs/data-model.md#history-runs).
        if (query.from !== undefined) await this.runsReaching(pk, query.model, query.from, days);
      })(),
      this.currentItem(query.entityType, query.entityId, query.model),
    ]);
    if (current) days.addOpenRun(current);
    return days.entries(query.from, query.to, false);
  }

  async latestBefore(
    entityType: EntityLevel,
    entityIds: readonly string[],
    model: string,
    before: string,
  ): Promise<Map<string, HistoryEntry>> {
    const out = new Map<string, HistoryEntry>();
    const ids = [...new Set(entityIds)];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const days = new HistoryDays(model);
        const [, current] = await Promise.all([
          this.runsReaching(`HIST#${entityType}#${id}`, model, before, days),
          this.currentItem(entityType, id, model),
        ]);
        if (current) days.addOpenRun(current);
        const entry = days.entries(undefined, before, true).at(-1);
        if (entry) out.set(id, entry);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, ids.length) }, worker));
    return out;
  }

  async write(rows: readonly ScoreWrite[]): Promise<ScoreWriteRefusal[]> {
    const puts: Item[] = [];
    const updates: UpdateItemCommandInput[] = [];
    for (const row of rows) {
      const plan = this.planOf(row);
      puts.push(...plan.puts);
      updates.push(...plan.updates);
    }
    try {
      // Runs are closed first: a crash in between leaves a closed run and the old current row, which a retry repeats.
      await this.updateAll(updates);
      await batchPutAll(this.client, this.tableName, puts, this.retry, 'writing scores', WRITE_CONCURRENCY);
      return [];
    } catch (error) {
      if (!isValidationError(error)) throw error;
    }
    // DynamoDB refused a batch as invalid (one item over its limits fails all 25): row by row, skipping only those.
    const refused: ScoreWriteRefusal[] = [];
    for (const row of rows) {
      try {
        const plan = this.planOf(row);
        await this.updateAll(plan.updates);
        await batchPutAll(this.client, this.tableName, plan.puts, this.retry, 'writing scores');
      } catch (error) {
        if (!isValidationError(error)) throw error;
        refused.push({ row, reason: error.message });
      }
    }
    return refused;
  }

  /**
   * The items a score writes (docs/data-model.md#history-runs): a score that becomes current writes its current row
   * and, only when its history entry differs from the one it replaces, a history row (closing the run of equal
   * days before it); an unchanged score extends the open run held by the current row. A backfilled day (not
   * current) overlays its own history row, keeping what the row carries for later days.
   */
  private planOf(row: ScoreWrite): { puts: Item[]; updates: UpdateItemCommandInput[] } {
    const entry = historyEntryOf(row.score);
    if (!row.current) return { puts: [this.overlayItem(entry)], updates: [] };
    const asOf = row.score.asOf;
    const puts: Item[] = [];
    const updates: UpdateItemCommandInput[] = [];
    let run: HistoryRun = { from: asOf, days: [] };
    const prior = row.prior;
    const open = prior ? (prior.run ?? { from: prior.asOf, days: [] }) : undefined;
    const consistent =
      prior !== undefined &&
      open !== undefined &&
      (open.days.at(-1) ?? open.from) === prior.asOf &&
      isCanonicalAsOf(open.from) &&
      isCanonicalAsOf(asOf);
    const same = consistent && historyFingerprint(entry) === prior.fingerprint;
    if (consistent && same && Date.parse(asOf) > Date.parse(prior.asOf)) {
      run = { from: open.from, days: [...open.days, asOf] };
    } else if (consistent && same && asOf === prior.asOf) run = open;
    else {
      if (consistent && open.days.length > 0) {
        // Close the open run: its days up to the one before this score (a re-run of its last day replaces that one).
        const closed = { from: open.from, days: asOf === prior.asOf ? open.days.slice(0, -1) : open.days };
        if (closed.days.length > 0) {
          if (prior.entry) puts.push(this.historyItem({ ...prior.entry, asOf: closed.from }, closed));
          else updates.push(this.closeRun(entry, closed));
        }
      }
      puts.push(this.historyItem(entry));
    }
    puts.push(this.currentItemOf(row, run));
    return { puts, updates };
  }

  private currentItemOf({ score, previous }: ScoreWrite, run: HistoryRun): Item {
    const shard = shardOf(score.entityId, this.shardCount);
    const item: Item = {
      pk: { S: `CUR#${score.model}#${shard}` },
      sk: { S: `${score.entityType}#${score.entityId}` },
      gpk: { S: bandPartition(score.model, score.band, shard % SCORE_INDEX_SPREAD) },
      gsk: { S: `${sortableNumber(score.score)}#${score.entityType}#${score.entityId}` },
      et: { S: score.entityType },
      eid: { S: score.entityId },
      s: { N: String(score.score) },
      b: { S: score.band },
      doc: { S: packCurrent(storedScoreOf(score, previous)) },
      hr: { S: packRun(run) },
    };
    if (score.delta !== null) item.d = { N: String(score.delta) };
    return item;
  }

  /** The stored row of a day that starts a run (`r`), with the run's later days once it is closed (`ds`). */
  private historyItem(entry: HistoryEntry, run?: HistoryRun): Item {
    const item: Item = {
      pk: { S: `HIST#${entry.entityType}#${entry.entityId}` },
      sk: { S: `${entry.model}#${entry.asOf}` },
      r: { BOOL: true },
      doc: { S: packHistory(entry) },
    };
    if (run) item.ds = { S: packDays(run.from, run.days) };
    return item;
  }

  /** A run's later days on its first row, when the caller had no entry to write the row whole with. */
  private closeRun(entry: HistoryEntry, run: HistoryRun): UpdateItemCommandInput {
    return {
      TableName: this.tableName,
      Key: { pk: { S: `HIST#${entry.entityType}#${entry.entityId}` }, sk: { S: `${entry.model}#${run.from}` } },
      UpdateExpression: 'SET ds = :ds',
      ConditionExpression: 'attribute_exists(doc)',
      ExpressionAttributeValues: { ':ds': { S: packDays(run.from, run.days) } },
    };
  }

  /**
   * A backfilled day (not current): a row of its own next to the day's run row (`<model>#<asOf>+`), so it replaces
   * that one day and never what a run carries to later days.
   */
  private overlayItem(entry: HistoryEntry): Item {
    return {
      pk: { S: `HIST#${entry.entityType}#${entry.entityId}` },
      sk: { S: `${entry.model}#${entry.asOf}${OVERLAY}` },
      doc: { S: packHistory(entry) },
    };
  }

  private async updateAll(updates: readonly UpdateItemCommandInput[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < updates.length) {
        const update = updates[next++]!;
        try {
          await withRetries(() => this.client.send(new UpdateItemCommand(update)), this.retry, 'writing score history');
        } catch (error) {
          // The run's first row is gone (erased): there is nothing left to carry.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, updates.length) }, worker));
  }

  /**
   * Rows before `before` (exclusive) back to the first one that starts a run, newest first: together with the
   * current row's open run they hold every day a run carries into `before` or later.
   */
  private async runsReaching(pk: string, model: string, before: string, days: HistoryDays): Promise<void> {
    const input = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':lo': { S: `${model}#` }, ':hi': { S: `${model}#${before}` } },
      ScanIndexForward: false,
      Limit: 4,
    };
    for await (const page of queryPages(this.client, input, { retry: this.retry, what: 'reading score history' })) {
      for (const item of page.Items ?? []) {
        if (asOfOfHistory(item, model) >= before) continue;
        days.add(item);
        if (startsRun(item)) return;
      }
    }
  }

  private async currentItem(entityType: EntityLevel, entityId: string, model: string): Promise<Item | undefined> {
    const result = await withRetries(
      () =>
        this.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: {
              pk: { S: `CUR#${model}#${shardOf(entityId, this.shardCount)}` },
              sk: { S: `${entityType}#${entityId}` },
            },
            ConsistentRead: true,
          }),
        ),
      this.retry,
      'reading current scores',
    );
    return result.Item;
  }

  private bandSource(model: string, band: string, g: number): Source<Item> {
    return {
      fetch: async (after, n) => {
        const input: QueryCommandInput = {
          TableName: this.tableName,
          IndexName: SCORES_BY_SCORE_INDEX,
          KeyConditionExpression: after === null ? 'gpk = :gpk' : 'gpk = :gpk AND gsk < :after',
          ExpressionAttributeValues: { ':gpk': { S: bandPartition(model, band, g) } },
          ProjectionExpression: 'gsk, et, eid, s, b, d',
          ScanIndexForward: false,
        };
        if (after !== null) input.ExpressionAttributeValues![':after'] = { S: after };
        return this.queryUpTo(input, n);
      },
    };
  }

  /** Whether any band from `position` on still has items after `after` (so a full page gets a cursor). */
  private async anyLeft(model: string, walk: string[], position: number, after: (string | null)[]): Promise<boolean> {
    for (let p = position; p < walk.length; p++) {
      const band = walk[p]!;
      for (let g = 0; g < SCORE_INDEX_SPREAD; g++) {
        const page = await this.bandSource(model, band, g).fetch(p === position ? (after[g] ?? null) : null, 1);
        if (page.items.length > 0) return true;
      }
    }
    return false;
  }

  /** Follow a query (descending by gsk) until `n` items or its end. */
  private async queryUpTo(input: QueryCommandInput, n: number): Promise<{ items: Keyed<Item>[]; more: boolean }> {
    const items: Keyed<Item>[] = [];
    let more = false;
    const pages = queryPages(this.client, input, {
      retry: this.retry,
      what: 'listing scores',
      remaining: () => n - items.length,
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) items.push({ key: item.gsk!.S!, item });
      more = page.LastEvaluatedKey !== undefined;
      if (items.length >= n) break;
    }
    return { items, more };
  }

  private async *query(input: QueryCommandInput): AsyncIterable<Item[]> {
    for await (const page of queryPages(this.client, input, { retry: this.retry, what: 'reading scores' })) {
      if (page.Items && page.Items.length > 0) yield page.Items;
    }
  }
}

function listItem(item: Item, model: string): ScoreListItem {
  return {
    entityType: item.et!.S as EntityLevel,
    entityId: item.eid!.S!,
    model,
    score: Number(item.s!.N),
    band: item.b!.S!,
    delta: item.d?.N === undefined ? null : Number(item.d.N),
  };
}
