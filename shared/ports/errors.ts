import { InvalidFieldError, PulseError } from '../domain/errors.js';

/** What a store may throw, whatever the adapter behind it: callers map these, never an SDK's own errors. */

/** Storage was unavailable after retries: the caller must report a retryable failure, never success. */
export class StoreUnavailableError extends PulseError {
  constructor(
    message: string,
    readonly unprocessed: number,
    options?: { cause?: unknown },
  ) {
    super(message, { kind: 'unavailable', status: 503, cause: options?.cause });
    this.name = 'StoreUnavailableError';
  }
}

/** A cursor that was not produced by this API (or was tampered with): a 400 naming `cursor`. */
export class InvalidCursorError extends InvalidFieldError {
  constructor(
    message = 'cursor is not valid: pass the nextCursor of a previous page unchanged',
    options?: { cause?: unknown },
  ) {
    super('cursor', message, { message, cause: options?.cause });
    this.name = 'InvalidCursorError';
  }
}

export class RunNotFoundError extends PulseError {
  constructor(readonly runId: string) {
    super(`run "${runId}" does not exist`, { kind: 'not-found', status: 404 });
    this.name = 'RunNotFoundError';
  }
}

export class RunExistsError extends PulseError {
  constructor(readonly runId: string) {
    super(`run "${runId}" already exists`, { kind: 'conflict', status: 409 });
    this.name = 'RunExistsError';
  }
}
