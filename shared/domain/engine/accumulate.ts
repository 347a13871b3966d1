import { DAY_MS, type RunCalendar } from '../time.js';
import {
  type CompiledModel,
  type CompiledSignal,
  EVENTS_SLOT,
  type EventHandler,
  FIRST_SEEN_SLOT,
  KIND_DAYS,
  KIND_PER_DAY,
  KIND_PLAIN,
  KIND_USERS,
  KIND_WEEKS,
  LAST_SEEN_SLOT,
} from './compile.js';
import { type StateTable, setBit } from './state-table.js';

const HALF = 0.5;

/**
 * What folding an event reads of it (an event, or a reader's fields): its time, its properties, and its user (only
 * distinctUsers signals). Passed as the object, not as values: a time passed to a call is a heap number each time.
 */
export interface ObservedEvent {
  readonly timestamp: number;
  readonly properties?: Record<string, unknown> | undefined;
  readonly userId: string;
}

/**
 * Folds one event into a state row: activity (first and last seen, events, active days) and each signal the event
 * feeds (sums, per-day counts, day and week bitmaps, distinct users). The hot loop of a run: no allocation.
 */
export class Accumulator {
  constructor(
    private readonly compiled: CompiledModel,
    private readonly calendar: RunCalendar,
    /** T, epoch ms (decay counts back from it). */
    private readonly asOf: number,
    private readonly firstWindowDay: number,
    private readonly firstWindowWeek: number,
  ) {}

  /** What an event of this name triggers (its signals and `absent` penalty slots). */
  handlerOf(name: string): EventHandler {
    return this.compiled.handlers.get(name) ?? this.compiled.anyHandler;
  }

  /**
   * Record an event's activity and, when `withSignals`, the signal and penalty state its handler (`handlerOf` its
   * name) feeds. `day` is the window day or −1.
   */
  observe(
    table: StateTable,
    row: number,
    handler: EventHandler,
    event: ObservedEvent,
    day: number,
    withSignals: boolean,
  ): void {
    const data = table.dataOf(row);
    const base = table.baseOf(row);
    const ts = event.timestamp;
    if (ts < data[base + FIRST_SEEN_SLOT]!) data[base + FIRST_SEEN_SLOT] = ts;
    if (ts > data[base + LAST_SEEN_SLOT]!) data[base + LAST_SEEN_SLOT] = ts;
    if (day < 0) return;
    data[base + EVENTS_SLOT]!++;
    setBit(data, base + this.compiled.activeSlot, day);
    if (!withSignals) return;
    const signals = handler.signals;
    for (let i = 0; i < signals.length; i++) this.apply(signals[i]!, table, row, data, base, event, day);
    const absent = handler.absentSlots;
    for (let i = 0; i < absent.length; i++) data[base + absent[i]!]!++;
  }

  private apply(
    s: CompiledSignal,
    table: StateTable,
    row: number,
    data: Float64Array,
    base: number,
    event: ObservedEvent,
    day: number,
  ): void {
    const properties = event.properties;
    if (s.where !== null && !s.where(properties)) return;
    switch (s.kindCode) {
      case KIND_PLAIN:
      case KIND_PER_DAY: {
        let value = 1;
        if (s.sumProperty !== null) {
          value = toNumber(properties?.[s.sumProperty]);
          if (Number.isNaN(value)) return;
        }
        if (s.halfLifeDays !== null) value *= HALF ** ((this.asOf - event.timestamp) / DAY_MS / s.halfLifeDays);
        if (s.kindCode === KIND_PLAIN) data[base + s.slot]! += value;
        else {
          const at = base + s.slot + 2 * day;
          data[at]!++;
          data[at + 1]! += value;
        }
        return;
      }
      case KIND_DAYS:
        setBit(data, base + s.slot, day);
        return;
      case KIND_WEEKS:
        setBit(data, base + s.slot, this.calendar.weekOfDay(day + this.firstWindowDay) - this.firstWindowWeek);
        return;
      case KIND_USERS:
        table.sets![row]![s.setIndex]!.add(event.userId);
        return;
    }
  }
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}
