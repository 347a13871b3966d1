import type { Model } from './schema.js';

/** Minute 15 after local midnight: late events of the day have arrived, and it avoids the top-of-hour rush. */
export const PRESET_CRON: Record<'daily' | 'weekly' | 'monthly', string> = {
  daily: 'cron(15 0 * * ? *)',
  weekly: 'cron(15 0 ? * MON *)',
  monthly: 'cron(15 0 1 * ? *)',
};

/**
 * EventBridge Scheduler expression of a model's cadence, evaluated in the model's time zone: daily 00:15, weekly
 * Mondays 00:15, monthly on the 1st at 00:15, or the model's own `cron(...)` verbatim. AWS (EventBridge Scheduler)
 * and local mode (an in-process timer) both use it, so they fire at the same times.
 */
export function scheduleExpressionFor(cadence: Model['cadence']): string {
  return cadence === 'daily' || cadence === 'weekly' || cadence === 'monthly' ? PRESET_CRON[cadence] : cadence;
}
