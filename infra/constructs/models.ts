import { formatModelIssue, ModelValidationError } from '../../shared/domain/model/errors.js';
import { type LoadedModel, loadModels } from '../../shared/domain/model/load.js';

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

export { scheduleExpressionFor } from '../../shared/domain/model/cadence.js';
