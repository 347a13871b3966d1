import type { FieldError } from '../ingest/errors.js';

/** Missing or wrong API credentials: 401 with a Bearer challenge (the ingest routes use Basic and the write key). */
export class ApiUnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnauthorizedError';
  }
}

/** One or more query/path/body parameters are invalid: 400 naming each parameter. */
export class InvalidParameterError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    this.name = 'InvalidParameterError';
  }

  static of(path: string, message: string): InvalidParameterError {
    return new InvalidParameterError([{ path, message }]);
  }
}

/** The entity, run or model does not exist: 404. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** Runs cannot be started in this deployment (e.g. no state machine configured): 503. */
export class RunsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunsUnavailableError';
  }
}
