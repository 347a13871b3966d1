import { PulseError } from '../errors.js';

/** One problem in a model file: where it is and why it is wrong. */
export interface ModelIssue {
  file: string;
  /** Dotted path to the field, e.g. `signals[2].weight`; empty for the whole file. */
  path: string;
  message: string;
  line?: number | undefined;
}

/** A model file (or draft) that is not a valid model: every issue found, each with its file, path and line. */
export class ModelValidationError extends PulseError {
  constructor(readonly issues: ModelIssue[]) {
    super(issues.map(formatModelIssue).join('\n'), { kind: 'invalid-input', status: 400 });
    this.name = 'ModelValidationError';
  }
}

export function formatModelIssue(issue: ModelIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return `${where}: ${issue.path || '(file)'}: ${issue.message}`;
}
