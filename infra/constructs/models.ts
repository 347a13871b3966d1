import { formatModelIssue, ModelValidationError } from '../../shared/domain/model/errors.js';
import { type LoadedModel, loadModels } from '../../shared/domain/model/load.js';
import type { Model } from '../../shared/domain/model/schema.js';

/**
 * Read and validate the models at synth time. A bad model stops `cdk synth` with every problem listed as
 * `file:line: field: why`, so nothing invalid is ever deployed.
 */
export function loadModelsForSynth(dirOrFile: string): LoadedModel[] {
  try {
    return loadModels(dirOrFile);
  } catch (error) {
    if (error instanceof ModelValidationError) {
      throw new Error(
        `Pulse models are invalid, fix them and synth again:\n${error.issues.map(formatModelIssue).join('\n')}`,
      );
    }
    throw error;
  }
}

/** Minute 15 after local midnight: late events of the day have arrived, and it avoids the top-of-hour rush. */
const PRESET_CRON: Record<'daily' | 'weekly' | 'monthly', string> = {
  daily: 'cron(15 0 * * ? *)',
  weekly: 'cron(15 0 ? * MON *)',
  monthly: 'cron(15 0 1 * ? *)',
};

/**
 * EventBridge Scheduler expression of a model's cadence, evaluated in the model's time zone: daily 00:15, weekly
 * Mondays 00:15, monthly on the 1st at 00:15, or the model's own `cron(...)` verbatim.
 */
export function scheduleExpressionFor(cadence: Model['cadence']): string {
  return cadence === 'daily' || cadence === 'weekly' || cadence === 'monthly' ? PRESET_CRON[cadence] : cadence;
}
