import { BatchGetItemCommand, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { DEFAULT_SHARD_COUNT } from '../../config/defaults.js';
import { chunk } from '../../domain/chunk.js';
import type { EntityLevel } from '../../domain/entity.js';
import { shardOf } from '../../domain/shard.js';
import { InvalidCursorError } from '../../ports/errors.js';
import type {
  HistoryEntry,
  HistoryQuery,
  ScoreListItem,
  ScoreListQuery,
  ScorePage,
  ScoreStore,
  ScoreWrite,
  ScoreWriteRefusal,
  StoredScore,
} from '../../ports/score-store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { HistoryDays, startsRun } from './history-days.js';
import { mergeDescending, type Source } from './merge-descending.js';
import { batchPutAll, sendAll } from './retry.js';
import { bandPartition, SCORE_INDEX_SPREAD, ScoreCursorSchema } from './score-index.js';
import { asOfOfHistory, unpackCurrent, unpackRun } from './score-items.js';
import { planScoreWrite } from './score-writes.js';
import { DynamoTable, type DynamoTableOptions, type Item, isConditionalCheckFailed, type TableQuery } from './table.js';
import { SCORES_BY_SCORE_INDEX } from './tables.js';
import { isValidationError } from './validation.js';

/** Batch calls in flight at once per write call. */
const WRITE_CONCURRENCY = 8;

export interface DynamoScoreStoreOptions extends DynamoTableOptions {
  /** Must equal the event store's shard count (current rows are partitioned by run shard). */
  shardCount?: number | undefined;
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
  private readonly table: DynamoTable;
  private readonly pageSize: number | undefined;

  constructor(options: DynamoScoreStoreOptions) {
    this.table = new DynamoTable(options);
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
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
    const { client, name } = this.table;
    for (const part of chunk(keys, 100)) {
      await sendAll(
        part,
        async (pending) => {
          const result = await client.send(
            new BatchGetItemCommand({ RequestItems: { [name]: { Keys: pending as Item[], ConsistentRead: true } } }),
          );
          for (const item of result.Responses?.[name] ?? []) found.push(unpackCurrent(item));
          return (result.UnprocessedKeys?.[name]?.Keys ?? []) as Item[];
        },
        this.table.retry,
        'reading current scores',
      );
    }
    const order = new Map(unique.map((m, i) => [m, i]));
    return found.sort((a, b) => (order.get(a.model) ?? 0) - (order.get(b.model) ?? 0));
  }

  async *listCurrentShard(model: string, shard: number): AsyncIterable<StoredScore[]> {
    const input = {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `CUR#${model}#${shard}` } },
      ConsistentRead: true,
      Limit: this.pageSize,
    };
    for await (const items of this.table.items(input, 'reading scores')) {
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
        const input = {
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: {
            ':pk': { S: pk },
            ':lo': { S: `${query.model}#${query.from ?? ''}` },
            // Up to and with the last day's overlay row (`<asOf>+`).
            ':hi': { S: `${query.model}#${query.to ?? ''}\uffff` },
          },
        };
        for await (const items of this.table.items(input, 'reading scores')) {
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
      const plan = planScoreWrite(row, this.table.name, this.shardCount);
      puts.push(...plan.puts);
      updates.push(...plan.updates);
    }
    try {
      // Runs are closed first: a crash in between leaves a closed run and the old current row, which a retry repeats.
      await this.updateAll(updates);
      await this.putAll(puts, WRITE_CONCURRENCY);
      return [];
    } catch (error) {
      if (!isValidationError(error)) throw error;
    }
    // DynamoDB refused a batch as invalid (one item over its limits fails all 25): row by row, skipping only those.
    const refused: ScoreWriteRefusal[] = [];
    for (const row of rows) {
      try {
        const plan = planScoreWrite(row, this.table.name, this.shardCount);
        await this.updateAll(plan.updates);
        await this.putAll(plan.puts, 1);
      } catch (error) {
        if (!isValidationError(error)) throw error;
        refused.push({ row, reason: error.message });
      }
    }
    return refused;
  }

  private putAll(items: readonly Item[], concurrency: number): Promise<void> {
    return batchPutAll(this.table.client, this.table.name, items, this.table.retry, 'writing scores', concurrency);
  }

  private async updateAll(updates: readonly UpdateItemCommandInput[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < updates.length) {
        const update = updates[next++]!;
        try {
          await this.table.retrying('writing score history', () =>
            this.table.client.send(new UpdateItemCommand(update)),
          );
        } catch (error) {
          // The run's first row is gone (erased): there is nothing left to carry.
          if (!isConditionalCheckFailed(error)) throw error;
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
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':lo': { S: `${model}#` }, ':hi': { S: `${model}#${before}` } },
      ScanIndexForward: false,
      Limit: 4,
    };
    for await (const items of this.table.items(input, 'reading score history')) {
      for (const item of items) {
        if (asOfOfHistory(item, model) >= before) continue;
        days.add(item);
        if (startsRun(item)) return;
      }
    }
  }

  private currentItem(entityType: EntityLevel, entityId: string, model: string): Promise<Item | undefined> {
    const key = {
      pk: { S: `CUR#${model}#${shardOf(entityId, this.shardCount)}` },
      sk: { S: `${entityType}#${entityId}` },
    };
    return this.table.get(key, 'reading current scores');
  }

  private bandSource(model: string, band: string, g: number): Source<Item> {
    return {
      fetch: async (after, n) => {
        const input: TableQuery = {
          IndexName: SCORES_BY_SCORE_INDEX,
          KeyConditionExpression: after === null ? 'gpk = :gpk' : 'gpk = :gpk AND gsk < :after',
          ExpressionAttributeValues: { ':gpk': { S: bandPartition(model, band, g) } },
          ProjectionExpression: 'gsk, et, eid, s, b, d',
          ScanIndexForward: false,
        };
        if (after !== null) input.ExpressionAttributeValues![':after'] = { S: after };
        return this.table.upTo(input, 'listing scores', n, (item) => item.gsk!.S!);
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
