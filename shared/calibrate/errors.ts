import { PulseError } from '../domain/errors.js';

/** A calibration that cannot go on because of its input data (exit code 1). The message says what to fix. */
export class CalibrateError extends PulseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { kind: 'invalid-input', status: 400, cause: options?.cause });
    this.name = 'CalibrateError';
  }
}

/** A flag is missing or has a value that cannot be used (exit code 2). */
export class CalibrateUsageError extends PulseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { kind: 'invalid-input', status: 400, cause: options?.cause });
    this.name = 'CalibrateUsageError';
  }
}

/** One problem in an outcomes file, with its 1-based line number. */
export interface OutcomeIssue {
  line: number;
  message: string;
}

const MAX_LISTED = 20;

/** Problems in the outcomes file: every one found is listed (up to 20) with its line, so one run shows them all. */
export class OutcomesFileError extends CalibrateError {
  constructor(
    readonly file: string,
    readonly issues: OutcomeIssue[],
  ) {
    const listed = issues.slice(0, MAX_LISTED).map((i) => `${file}:${i.line}: ${i.message}`);
    if (issues.length > MAX_LISTED) listed.push(`… and ${issues.length - MAX_LISTED} more`);
    super(listed.join('\n'));
    this.name = 'OutcomesFileError';
  }
}
