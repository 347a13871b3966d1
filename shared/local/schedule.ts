import { DateTime } from 'luxon';
import { PulseError } from '../domain/errors.js';
import { scheduleExpressionFor } from '../domain/model/cadence.js';
import type { Model } from '../domain/model/schema.js';

/**
 * Model schedules in local mode. AWS runs them with EventBridge Scheduler (infra/constructs/models.ts); locally a
 * timer per model fires at the same times: daily 00:15, weekly Mondays 00:15, monthly on the 1st at 00:15, or the
 * model's own EventBridge `cron(min hour day-of-month month day-of-week year)`, in the model's time zone.
 */

export class UnsupportedCronError extends PulseError {
  constructor(expression: string, reason: string) {
    super(`schedule ${expression} cannot run locally: ${reason}`, { kind: 'invalid-input', status: 400 });
    this.name = 'UnsupportedCronError';
  }
}

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number> | null;
  months: Set<number>;
  /** Luxon weekdays, 1 = Monday … 7 = Sunday; null for `?`. */
  daysOfWeek: Set<number> | null;
  years: Set<number> | null;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** EventBridge numbers days 1 = SUN … 7 = SAT. */
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseField(
  expression: string,
  field: string,
  min: number,
  max: number,
  names: readonly string[] = [],
): Set<number> | null {
  if (field === '?') return null;
  if (/[LW#]/.test(field)) throw new UnsupportedCronError(expression, `"${field}" (L, W and # are not supported)`);
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase());
    const n = named >= 0 ? named + min : Number(token);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UnsupportedCronError(expression, `"${token}" is out of range`);
    return n;
  };
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new UnsupportedCronError(expression, `bad step in "${part}"`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = min;
      to = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      from = value(a);
      to = value(b);
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

/** Parse `cron(m h dom mon dow year)` (EventBridge syntax). */
export function parseCron(expression: string): CronFields {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const parts = match?.[1]?.trim().split(/\s+/) ?? [];
  if (parts.length !== 6) throw new UnsupportedCronError(expression, 'expected 6 fields');
  const [m, h, dom, mon, dow, year] = parts as [string, string, string, string, string, string];
  const dowSet = parseField(expression, dow, 1, 7, DAYS);
  return {
    minutes: parseField(expression, m, 0, 59) ?? new Set([0]),
    hours: parseField(expression, h, 0, 23) ?? new Set([0]),
    daysOfMonth: parseField(expression, dom, 1, 31),
    months: parseField(expression, mon, 1, 12, MONTHS) ?? new Set(Array.from({ length: 12 }, (_, i) => i + 1)),
    // EventBridge 1 (SUN) … 7 (SAT) → luxon 7 (Sun), 1 (Mon) … 6 (Sat).
    daysOfWeek: dowSet === null ? null : new Set([...dowSet].map((d) => (d === 1 ? 7 : d - 1))),
    years: year === '*' ? null : parseField(expression, year, 1970, 2199),
  };
}

/** The first instant strictly after `after` (epoch ms) matching the cadence in `timezone`; undefined if none in 5 years. */
export function nextFire(cadence: Model['cadence'], timezone: string, after: number): number | undefined {
  const cron = parseCron(scheduleExpressionFor(cadence));
  const minutes = [...cron.minutes].sort((a, b) => a - b);
  const hours = [...cron.hours].sort((a, b) => a - b);
  let day = DateTime.fromMillis(after, { zone: timezone }).startOf('day');
  for (let i = 0; i < 5 * 366; i++, day = day.plus({ days: 1 })) {
    if (cron.years && !cron.years.has(day.year)) continue;
    if (!cron.months.has(day.month)) continue;
    const domOk = cron.daysOfMonth === null || cron.daysOfMonth.has(day.day);
    const dowOk = cron.daysOfWeek === null || cron.daysOfWeek.has(day.weekday);
    if (!domOk || !dowOk) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const at = day.set({ hour, minute, second: 0, millisecond: 0 }).toMillis();
        if (at > after) return at;
      }
    }
  }
  return undefined;
}

export interface ScheduledModel {
  name: string;
  cadence: Model['cadence'];
  timezone: string;
}

/** Longest single setTimeout (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A timer per model that calls `fire(model)` at each scheduled time while the process runs. Missed times (the
 * machine was off) are not replayed: `pulse run` scores any date on demand.
 */
export class LocalScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly next = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly fire: (model: string) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Arm every model; returns the models that cannot be scheduled locally, with why. */
  start(models: readonly ScheduledModel[]): { model: string; reason: string }[] {
    const skipped: { model: string; reason: string }[] = [];
    for (const model of models) {
      try {
        this.arm(model);
      } catch (error) {
        if (!(error instanceof UnsupportedCronError)) throw error;
        skipped.push({ model: model.name, reason: error.message });
      }
    }
    return skipped;
  }

  /** The next time each model fires (epoch ms). */
  upcoming(): Map<string, number> {
    return new Map(this.next);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.next.clear();
  }

  private arm(model: ScheduledModel, target?: number): void {
    if (this.stopped) return;
    const at = target ?? nextFire(model.cadence, model.timezone, this.clock());
    if (at === undefined) return;
    this.next.set(model.name, at);
    const wait = Math.max(0, at - this.clock());
    const timer = setTimeout(
      () => {
        if (this.clock() < at) return this.arm(model, at);
        this.fire(model.name);
        this.arm(model);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(model.name, timer);
  }
}
