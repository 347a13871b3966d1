import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { shardOf } from '../../domain/shard.js';
import type { EntityLevel } from '../../ports/event-store.js';
import {
  type HistoryEntry,
  type HistoryQuery,
  historyEntryOf,
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
import { batchPutAll, chunk, DEFAULT_RETRY, type RetryPolicy, sendAll, withRetries } from './retry.js';
import { packCurrent, packHistory, unpackCurrent, unpackHistory } from './score-items.js';
import { SCORES_BY_SCORE_INDEX } from './tables.js';
import { isValidationError } from './validation.js';

type Item = Record<string, AttributeValue>;

/**
 * Each band of a model is spread over this many index partitions (by entity shard), so a run writing a million
 * scores is not capped by one GSI partition's ~1,000 writes a second; listing merges the spread partitions.
 */
export const SCORE_INDEX_SPREAD = 8;

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
    this.shardCount = options.shardCount ?? 16;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.pageSize = options.pageSize;
  }

  async getCurrent(entityType: EntityLevel, entityId: string, models: readonly string[]): Promise<StoredScore[]> {
    const shard = shardOf(entityId, this.shardCount);
    const keys: Item[] = [...new Set(models)].map((m) => ({
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
    const order = new Map(models.map((m, i) => [m, i]));
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
      yield items.map(unpackCurrent);
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
    const out: HistoryEntry[] = [];
    const lo = `${query.model}#${query.from ?? ''}`;
    const hi = `${query.model}#${query.to ?? '\uffff'}`;
    for await (const items of this.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: {
        ':pk': { S: `HIST#${query.entityType}#${query.entityId}` },
        ':lo': { S: lo },
        ':hi': { S: hi },
      },
    })) {
      for (const item of items) out.push(unpackHistory(item, query.model));
    }
    return out;
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
        const result = await withRetries(
          () =>
            this.client.send(
              new QueryCommand({
                TableName: this.tableName,
                KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
                ExpressionAttributeValues: {
                  ':pk': { S: `HIST#${entityType}#${id}` },
                  ':lo': { S: `${model}#` },
                  ':hi': { S: `${model}#${before}` },
                },
                ScanIndexForward: false,
                Limit: 2,
              }),
            ),
          this.retry,
          'reading score history',
        );
        const entry = (result.Items ?? []).map((i) => unpackHistory(i, model)).find((h) => h.asOf < before);
        if (entry) out.set(id, entry);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, ids.length) }, worker));
    return out;
  }

  async write(rows: readonly ScoreWrite[]): Promise<ScoreWriteRefusal[]> {
    const items: Item[] = [];
    for (const row of rows) items.push(...this.itemsOf(row));
    try {
      await batchPutAll(this.client, this.tableName, items, this.retry, 'writing scores', WRITE_CONCURRENCY);
      return [];
    } catch (error) {
      if (!isValidationError(error)) throw error;
    }
    // DynamoDB refused a batch as invalid (one item over its limits fails all 25): row by row, skipping only those.
    const refused: ScoreWriteRefusal[] = [];
    for (const row of rows) {
      try {
        await batchPutAll(this.client, this.tableName, this.itemsOf(row), this.retry, 'writing scores');
      } catch (error) {
        if (!isValidationError(error)) throw error;
        refused.push({ row, reason: error.message });
      }
    }
    return refused;
  }

  private itemsOf(row: ScoreWrite): Item[] {
    return row.current ? [this.historyItem(row), this.currentItem(row)] : [this.historyItem(row)];
  }

  private currentItem({ score, previous }: ScoreWrite): Item {
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
    };
    if (score.delta !== null) item.d = { N: String(score.delta) };
    return item;
  }

  private historyItem({ score }: ScoreWrite): Item {
    const item: Item = {
      pk: { S: `HIST#${score.entityType}#${score.entityId}` },
      sk: { S: `${score.model}#${score.asOf}` },
      s: { N: String(score.score) },
      b: { S: score.band },
      doc: { S: packHistory(historyEntryOf(score)) },
    };
    if (score.delta !== null) item.d = { N: String(score.delta) };
    return item;
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
    let startKey: Item | undefined;
    do {
      const page = await withRetries(
        () => this.client.send(new QueryCommand({ ...input, Limit: n - items.length, ExclusiveStartKey: startKey })),
        this.retry,
        'listing scores',
      );
      for (const item of page.Items ?? []) items.push({ key: item.gsk!.S!, item });
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < n);
    return { items, more: startKey !== undefined };
  }

  private async *query(input: QueryCommandInput): AsyncIterable<Item[]> {
    let startKey: Item | undefined;
    do {
      const page = await withRetries(
        () => this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })),
        this.retry,
        'reading scores',
      );
      startKey = page.LastEvaluatedKey;
      if (page.Items && page.Items.length > 0) yield page.Items;
    } while (startKey);
  }
}

const bandPartition = (model: string, band: string, g: number) => `SCORE#${model}#${band}#${g}`;

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

/**
 * A fixed-width hex string whose lexicographic order is the numeric order of any double (negative scores
 * included): flip the sign bit of positives, every bit of negatives.
 */
export function sortableNumber(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x === 0 ? 0 : x);
  let hi = view.getUint32(0);
  let lo = view.getUint32(4);
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else hi = (hi | 0x80000000) >>> 0;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

export interface Keyed<T> {
  key: string;
  item: T;
}

/** A descending stream of keyed items, read `n` at a time after a key. */
export interface Source<T> {
  fetch(after: string | null, n: number): Promise<{ items: Keyed<T>[]; more: boolean }>;
}

/**
 * The `n` highest items of several descending sources after their positions (a k-way merge). `exhausted` is
 * true when every source is known to have nothing left beyond what was picked.
 */
export async function mergeDescending<T>(
  sources: readonly Source<T>[],
  after: readonly (string | null)[],
  n: number,
): Promise<{ picked: (Keyed<T> & { source: number })[]; after: (string | null)[]; exhausted: boolean }> {
  const pages = await Promise.all(sources.map((s, i) => s.fetch(after[i] ?? null, n)));
  const all = pages.flatMap((p, source) => p.items.map((it) => ({ ...it, source })));
  all.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : a.source - b.source));
  const picked = all.slice(0, n);
  const next = [...after];
  const pickedPer = new Array<number>(sources.length).fill(0);
  for (const p of picked) {
    next[p.source] = p.key;
    pickedPer[p.source]!++;
  }
  const exhausted = pages.every((p, i) => !p.more && pickedPer[i] === p.items.length);
  return { picked, after: next, exhausted };
}

/** A key of the byScore index: `<16 hex digits>#<type>#<id>`. */
const INDEX_KEY = /^[0-9a-f]{16}#(user|account)#.+$/s;

/** The score list's position: model, band filter, band index of the walk, last key read per index partition. */
const ScoreCursorSchema = z
  .object({
    m: z.string(),
    f: z.string().nullable(),
    b: z.number().int().min(0),
    a: z.array(z.string().max(2048).regex(INDEX_KEY).nullable()).length(SCORE_INDEX_SPREAD),
  })
  .strict();
