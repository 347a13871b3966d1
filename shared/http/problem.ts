import { HTTPException } from 'hono/http-exception';
import { InvalidAsOfError } from '../domain/time.js';
import { BODY_PATH, type FieldError, InvalidBodyError, PayloadTooLargeError } from '../ingest/errors.js';
import { logger as defaultLogger } from '../observability.js';
import { StoreUnavailableError } from '../ports/event-store.js';
import { InvalidCursorError } from '../ports/score-store.js';
import { InvalidRunRequestError, UnknownModelError } from '../run/errors.js';
import { ApiUnauthorizedError, InvalidParameterError, NotFoundError, RunsUnavailableError } from './api-errors.js';
import { UnauthorizedError, WriteKeysUnavailableError } from './auth.js';

/** RFC 9457 problem details, with Pulse's `errors[]` extension naming each bad field. */
export interface ProblemDetails {
  /** A URN identifying the kind of problem (`urn:pulse:problem:<kind>`), stable for clients to switch on. */
  type: string;
  title: string;
  status: number;
  detail?: string | undefined;
  errors?: FieldError[] | undefined;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(kind: string): string {
  return `urn:pulse:problem:${kind}`;
}

export function problemResponse(problem: ProblemDetails, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}

/** Seconds a client should wait before resending after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** What the mapper logs through: the Powertools logger, or a stand-in in tests. */
export type ErrorLog = Pick<typeof defaultLogger, 'error' | 'warn'>;

/**
 * The one place errors become HTTP responses, for ingest and the scores API alike (matched by class, never by
 * name). Unknown errors are a 500 that names no internals; their class and stack go to the log.
 */
export function errorToResponse(error: unknown, log: ErrorLog = defaultLogger): Response {
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
    return errorToResponse(InvalidParameterError.of('cursor', error.message));
  }
  if (error instanceof InvalidRunRequestError) {
    return errorToResponse(InvalidParameterError.of(error.field, error.message.replace(`${error.field}: `, '')));
  }
  if (error instanceof UnknownModelError) {
    return errorToResponse(InvalidParameterError.of('model', error.message));
  }
  if (error instanceof InvalidAsOfError) {
    return errorToResponse(InvalidParameterError.of('asOf', error.message));
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
  if (error instanceof InvalidBodyError) {
    return problemResponse({
      type: problemType('invalid-body'),
      title: 'The request body is not valid',
      status: 400,
      detail: error.message,
      errors: error.errors,
    });
  }
  if (error instanceof PayloadTooLargeError) {
    return problemResponse({
      type: problemType('payload-too-large'),
      title: 'The request is too large',
      status: 413,
      detail: error.message,
      errors: error.errors,
    });
  }
  if (error instanceof UnauthorizedError) {
    return problemResponse(
      { type: problemType('unauthorized'), title: 'Unauthorized', status: 401, detail: error.message },
      { 'www-authenticate': 'Basic realm="pulse", charset="UTF-8"' },
    );
  }
  if (error instanceof StoreUnavailableError || error instanceof WriteKeysUnavailableError) {
    log.warn('storage unavailable, answering 503', { error: error.name, unprocessed: unprocessedOf(error) });
    return problemResponse(
      {
        type: problemType('unavailable'),
        title: 'Service temporarily unavailable',
        status: 503,
        detail: 'Nothing in this request was reported accepted. Send the same request again after Retry-After seconds.',
      },
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }
  if (error instanceof HTTPException && error.status === 400 && /body/i.test(error.message)) {
    // The validator could not parse the body (e.g. malformed JSON): name the body like every other 400.
    return problemResponse({
      type: problemType('invalid-body'),
      title: 'The request body is not valid',
      status: 400,
      detail: error.message,
      errors: [{ path: BODY_PATH, message: `is not valid: ${error.message}` }],
    });
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    return problemResponse({
      type: problemType(status === 413 ? 'payload-too-large' : 'http-error'),
      title: error.message || 'Request failed',
      status,
    });
  }
  log.error('unhandled error', { error: error instanceof Error ? error.name : typeof error, stack: stackOf(error) });
  return problemResponse({ type: problemType('internal'), title: 'Internal error', status: 500 });
}

function unprocessedOf(error: Error): number | undefined {
  return error instanceof StoreUnavailableError ? error.unprocessed : undefined;
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
