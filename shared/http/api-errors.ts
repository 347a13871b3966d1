import { describeFieldErrors, type FieldError, PulseError } from '../domain/errors.js';
import { UnauthorizedError } from './auth.js';

/** Missing or wrong API credentials: 401 with a Bearer challenge (the ingest routes use Basic and the write key). */
export class ApiUnauthorizedError extends UnauthorizedError {
  constructor(message: string) {
    super(message, 'Bearer realm="pulse"');
    this.name = 'ApiUnauthorizedError';
  }
}

/** One or more query/path/body parameters are invalid: 400 naming each parameter. */
export class InvalidParameterError extends PulseError {
  declare readonly errors: FieldError[];

  constructor(errors: FieldError[], options?: { cause?: unknown }) {
    super(describeFieldErrors(errors), { kind: 'invalid-parameter', status: 400, errors, cause: options?.cause });
    this.name = 'InvalidParameterError';
  }

  static of(path: string, message: string, options?: { cause?: unknown }): InvalidParameterError {
    return new InvalidParameterError([{ path, message }], options);
  }
}

/** The entity, run or model does not exist: 404. */
export class NotFoundError extends PulseError {
  constructor(message: string) {
    super(message, { kind: 'not-found', status: 404 });
    this.name = 'NotFoundError';
  }
}

/** Runs cannot be started in this deployment (e.g. no state machine configured): 503. */
export class RunsUnavailableError extends PulseError {
  constructor(message: string) {
    super(message, { kind: 'runs-unavailable', status: 503 });
    this.name = 'RunsUnavailableError';
  }
}
