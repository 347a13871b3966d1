/** One problem in a model file: where it is and why it is wrong. */
export interface ModelIssue {
  file: string;
  /** Dotted path to the field, e.g. `signals[2].weight`; empty for the whole file. */
  path: string;
  message: string;
  line?: number | undefined;
}

export class ModelValidationError extends Error {
  constructor(readonly issues: ModelIssue[]) {
    super(issues.map(formatModelIssue).join('\n'));
    this.name = 'ModelValidationError';
  }
}

export function formatModelIssue(issue: ModelIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return `${where}: ${issue.path || '(file)'}: ${issue.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}
