import { PulseError } from '../domain/errors.js';
import { UnauthorizedError } from './auth.js';

/** Missing or wrong API credentials: 401 with a Bearer challenge (the ingest routes use Basic and the write key). */
export class ApiUnauthorizedError extends UnauthorizedError {
  constructor(message: string) {
    super(message, 'Bearer realm="pulse"');
    this.name = 'ApiUnauthorizedError';
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
