import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { shardOf } from '../../domain/shard.js';
import {
  type HistoryEntry,
  type HistoryRun,
  historyEntryOf,
  historyFingerprint,
  type ScoreWrite,
  storedScoreOf,
} from '../../ports/score-store.js';
import { OVERLAY } from './history-days.js';
import { bandPartition, SCORE_INDEX_SPREAD, sortableNumber } from './score-index.js';
import { isCanonicalAsOf, packCurrent, packDays, packHistory, packRun } from './score-items.js';
import type { Item } from './table.js';

/** What one score write does to the scores table: items to put, and history rows whose run it closes. */
export interface ScoreWritePlan {
  puts: Item[];
  updates: UpdateItemCommandInput[];
}

/**
 * The items a score writes (docs/data-model.md#history-runs): a score that becomes current writes its current row
 * and, only when its history entry differs from the one it replaces, a history row (closing the run of equal
 * days before it); an unchanged score extends the open run held by the current row. A backfilled day (not
 * current) overlays its own history row, keeping what the row carries for later days.
 */
export function planScoreWrite(row: ScoreWrite, tableName: string, shardCount: number): ScoreWritePlan {
  const entry = historyEntryOf(row.score);
  if (!row.current) return { puts: [overlayItem(entry)], updates: [] };
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
        if (prior.entry) puts.push(historyItem({ ...prior.entry, asOf: closed.from }, closed));
        else updates.push(closeRun(tableName, entry, closed));
      }
    }
    puts.push(historyItem(entry));
  }
  puts.push(currentItemOf(row, run, shardCount));
  return { puts, updates };
}

function currentItemOf({ score, previous }: ScoreWrite, run: HistoryRun, shardCount: number): Item {
  const shard = shardOf(score.entityId, shardCount);
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
function historyItem(entry: HistoryEntry, run?: HistoryRun): Item {
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
function closeRun(tableName: string, entry: HistoryEntry, run: HistoryRun): UpdateItemCommandInput {
  return {
    TableName: tableName,
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
function overlayItem(entry: HistoryEntry): Item {
  return {
    pk: { S: `HIST#${entry.entityType}#${entry.entityId}` },
    sk: { S: `${entry.model}#${entry.asOf}${OVERLAY}` },
    doc: { S: packHistory(entry) },
  };
}
