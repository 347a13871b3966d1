import { z } from 'zod';
import { shardOf } from '../../domain/shard.js';
import type { EntityLevel } from '../../ports/event-store.js';
import {
  type HistoryEntry,
  type HistoryQuery,
  historyEntryOf,
  type ScoreListQuery,
  type ScorePage,
  type ScoreStore,
  type ScoreWrite,
  type ScoreWriteRefusal,
  type StoredScore,
  storedScoreOf,
} from '../../ports/score-store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

interface Position {
  b: number;
  s: number;
  k: string;
}

/** Current scores and history in memory, with the same rules and ordering as the DynamoDB store. */
export class InMemoryScoreStore implements ScoreStore {
  private readonly current = new Map<string, StoredScore>();
  private readonly historyRows = new Map<string, Map<string, HistoryEntry>>();
  /** Write calls so far (tests). */
  writes = 0;

  constructor(
    readonly shardCount = 16,
    private readonly pageSize = 1000,
  ) {}

  async getCurrent(entityType: EntityLevel, entityId: string, models: readonly string[]): Promise<StoredScore[]> {
    const out: StoredScore[] = [];
    for (const model of new Set(models)) {
      const row = this.current.get(currentKey(model, entityType, entityId));
      if (row) out.push(structuredClone(row));
    }
    return out;
  }

  async *listCurrentShard(model: string, shard: number): AsyncIterable<StoredScore[]> {
    const rows = [...this.current.values()]
      .filter((r) => r.model === model && shardOf(r.entityId, this.shardCount) === shard)
      .sort((a, b) => (a.entityId < b.entityId ? -1 : 1))
      .map((r) => structuredClone(r));
    for (let i = 0; i < rows.length; i += this.pageSize) yield rows.slice(i, i + this.pageSize);
  }

  async list(query: ScoreListQuery): Promise<ScorePage> {
    const bandIndex = new Map(query.bands.map((b, i) => [b, i]));
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, PositionSchema);
    const rows = [...this.current.values()]
      .filter((r) => r.model === query.model && (query.band === undefined || r.band === query.band))
      .map((r) => ({ row: r, pos: { b: bandIndex.get(r.band) ?? -1, s: r.score, k: `${r.entityType}#${r.entityId}` } }))
      .sort((x, y) => comparePositions(y.pos, x.pos))
      .filter((x) => after === undefined || comparePositions(x.pos, after) < 0);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(({ row }) => ({
        entityType: row.entityType,
        entityId: row.entityId,
        model: row.model,
        score: row.score,
        band: row.band,
        delta: row.delta,
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.pos) : null,
    };
  }

  async history(query: HistoryQuery): Promise<HistoryEntry[]> {
    const rows = this.historyRows.get(historyKey(query.model, query.entityType, query.entityId));
    if (!rows) return [];
    return [...rows.values()]
      .filter(
        (r) => (query.from === undefined || r.asOf >= query.from) && (query.to === undefined || r.asOf <= query.to),
      )
      .sort((a, b) => (a.asOf < b.asOf ? -1 : 1))
      .map((r) => structuredClone(r));
  }

  async latestBefore(...[entityType, entityIds, model, before]: Parameters<ScoreStore['latestBefore']>) {
    const out = new Map<string, HistoryEntry>();
    for (const id of entityIds) {
      const rows = this.historyRows.get(historyKey(model, entityType, id));
      let best: HistoryEntry | undefined;
      for (const r of rows?.values() ?? []) if (r.asOf < before && (!best || r.asOf > best.asOf)) best = r;
      if (best) out.set(id, structuredClone(best));
    }
    return out;
  }

  async write(rows: readonly ScoreWrite[]): Promise<ScoreWriteRefusal[]> {
    this.writes++;
    for (const { score, previous, current } of rows) {
      const hKey = historyKey(score.model, score.entityType, score.entityId);
      let entries = this.historyRows.get(hKey);
      if (!entries) {
        entries = new Map();
        this.historyRows.set(hKey, entries);
      }
      entries.set(score.asOf, structuredClone(historyEntryOf(score)));
      if (current) {
        this.current.set(
          currentKey(score.model, score.entityType, score.entityId),
          structuredClone(storedScoreOf(score, previous)),
        );
      }
    }
    return [];
  }

  /** Delete an entity's current scores and history under every model (erasure). */
  deleteEntity(entityType: EntityLevel, entityId: string): { scores: number; history: number } {
    let scores = 0;
    let history = 0;
    for (const [key, row] of this.current)
      if (row.entityType === entityType && row.entityId === entityId) {
        this.current.delete(key);
        scores++;
      }
    for (const [key, rows] of this.historyRows) {
      const first = rows.values().next().value;
      if (first && first.entityType === entityType && first.entityId === entityId) {
        history += rows.size;
        this.historyRows.delete(key);
      }
    }
    return { scores, history };
  }

  /** Every current row of a model (tests). */
  allCurrent(model: string): StoredScore[] {
    return [...this.current.values()].filter((r) => r.model === model).map((r) => structuredClone(r));
  }
}

const currentKey = (model: string, type: EntityLevel, id: string) => `${model}\u0000${type}\u0000${id}`;
const historyKey = currentKey;

/** Band (higher first), then score (higher first), then entity key (higher first), like the DynamoDB index. */
function comparePositions(a: Position, b: Position): number {
  if (a.b !== b.b) return a.b - b.b;
  if (a.s !== b.s) return a.s - b.s;
  return a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
}

const PositionSchema = z.object({ b: z.number().int(), s: z.number(), k: z.string() }).strict();
