/** What a store may throw, whatever the adapter behind it: callers map these, never an SDK's own errors. */

/** Storage was unavailable after retries: the caller must report a retryable failure, never success. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly unprocessed: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** A cursor that was not produced by this API (or was tampered with): a 400 for the caller. */
export class InvalidCursorError extends Error {
  constructor(message = 'cursor is not valid: pass the nextCursor of a previous page unchanged') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

export class RunNotFoundError extends Error {
  constructor(readonly runId: string) {
    super(`run "${runId}" does not exist`);
    this.name = 'RunNotFoundError';
  }
}

export class RunExistsError extends Error {
  constructor(readonly runId: string) {
    super(`run "${runId}" already exists`);
    this.name = 'RunExistsError';
  }
}
