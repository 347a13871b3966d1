import { InvalidAsOfError } from '../domain/time.js';
import type { FieldError } from '../ingest/errors.js';
import { InvalidCursorError } from '../ports/score-store.js';
import { InvalidRunRequestError, UnknownModelError } from '../run/errors.js';
import { errorToResponse, problemResponse, problemType } from './problem.js';

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

/**
 * The scores API's errors as problem+json; everything else (storage unavailable, unknown errors) goes to the one
 * shared mapper in problem.ts, so both route groups answer alike.
 */
export function apiErrorToResponse(error: unknown): Response {
  if (error instanceof ApiUnauthorizedError) {
    return problemResponse(
      { type: problemType('unauthorized'), title: 'Unauthorized', status: 401, detail: error.message },
      { 'www-authenticate': 'Bearer realm="pulse"' },
    );
  }
  if (error instanceof InvalidParameterError) {
    return problemResponse({
      type: problemType('invalid-parameter'),
      title: 'A request parameter is not valid',
      status: 400,
      detail: error.message,
      errors: error.errors,
    });
  }
  if (error instanceof InvalidCursorError) {
    return apiErrorToResponse(InvalidParameterError.of('cursor', error.message));
  }
  if (error instanceof InvalidRunRequestError) {
    return apiErrorToResponse(InvalidParameterError.of(error.field, error.message.replace(`${error.field}: `, '')));
  }
  if (error instanceof UnknownModelError) {
    return apiErrorToResponse(InvalidParameterError.of('model', error.message));
  }
  if (error instanceof InvalidAsOfError) {
    return apiErrorToResponse(InvalidParameterError.of('asOf', error.message));
  }
  if (error instanceof NotFoundError) {
    return problemResponse({ type: problemType('not-found'), title: 'Not found', status: 404, detail: error.message });
  }
  if (error instanceof RunsUnavailableError) {
    return problemResponse({
      type: problemType('runs-unavailable'),
      title: 'Runs cannot be started here',
      status: 503,
      detail: error.message,
    });
  }
  return errorToResponse(error);
}
