import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { HistoryEntry } from '../../ports/score-store.js';
import { historyEntryOf } from '../../ports/score-store.js';
import { asOfOfHistory, historyEntryFrom, isCompactDoc, unpackCurrent, unpackDays, unpackRun } from './score-items.js';

type Item = Record<string, AttributeValue>;

/** Suffix of a backfilled day's own history row (sorts right after the day's run row). */
export const OVERLAY = '+';

/** A row that starts a run (or was written before runs existed, when every day had its row). */
export const startsRun = (item: Item) => item.r !== undefined || !isCompactDoc(item.doc?.S ?? '');

/**
 * The days of one entity's history under one model, from its rows and its current row: a backfilled day's row wins
 * over the day's run row, which wins over a day a run carries.
 */
export class HistoryDays {
  private readonly own = new Map<string, HistoryEntry>();
  private readonly carried = new Map<string, HistoryEntry>();
  /** Backfilled days: written after the day's run row, so they win. */
  private readonly overlaid = new Map<string, HistoryEntry>();

  constructor(private readonly model: string) {}

  add(item: Item): void {
    const key = asOfOfHistory(item, this.model);
    const doc = item.doc?.S;
    if (doc === undefined) return;
    if (key.endsWith(OVERLAY)) {
      const day = key.slice(0, -OVERLAY.length);
      this.overlaid.set(day, historyEntryFrom(doc, item, this.model, day));
      return;
    }
    this.own.set(key, historyEntryFrom(doc, item, this.model, key));
    const ds = item.ds?.S;
    if (ds === undefined) return;
    for (const day of unpackDays(key, ds)) this.carried.set(day, historyEntryFrom(doc, item, this.model, day));
  }

  /** The open run of the current row: its later days carry the current score's entry. */
  addOpenRun(current: Item): void {
    if (current.hr?.S === undefined) return;
    const run = unpackRun(current.hr.S);
    if (run.days.length === 0) return;
    const entry = historyEntryOf(unpackCurrent(current));
    for (const day of run.days) this.carried.set(day, { ...entry, asOf: day });
  }

  /** Entries with `from ≤ asOf ≤ to` (`< to` when `toExclusive`), oldest first. */
  entries(from: string | undefined, to: string | undefined, toExclusive: boolean): HistoryEntry[] {
    const all = new Map(this.carried);
    for (const [day, entry] of this.own) all.set(day, entry);
    for (const [day, entry] of this.overlaid) all.set(day, entry);
    return [...all.entries()]
      .filter(
        ([day]) => (from === undefined || day >= from) && (to === undefined || (toExclusive ? day < to : day <= to)),
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => entry);
  }
}
