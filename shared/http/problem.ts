import { HTTPException } from 'hono/http-exception';
import { describeFieldErrors, type ErrorKind, type FieldError, PulseError } from '../domain/errors.js';
import { BODY_PATH } from '../domain/field-errors.js';
import { logger as defaultLogger } from '../observability.js';
import { StoreUnavailableError } from '../ports/errors.js';
import { UnauthorizedError } from './auth.js';

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

/** The problem kinds a client may see (docs/api.md#errors), with their titles. Other kinds answer 500. */
const PROBLEM_TITLES: Partial<Record<ErrorKind, string>> = {
  'invalid-parameter': 'A request parameter is not valid',
  'invalid-body': 'The request body is not valid',
  'payload-too-large': 'The request is too large',
  unauthorized: 'Unauthorized',
  'not-found': 'Not found',
  unavailable: 'Service temporarily unavailable',
  'runs-unavailable': 'Runs cannot be started here',
};

/** What a 503 says: nothing was reported accepted, so resending is safe. */
const UNAVAILABLE_DETAIL =
  'Nothing in this request was reported accepted. Send the same request again after Retry-After seconds.';

/**
 * The one place errors become HTTP responses, for ingest and the scores API alike: a PulseError answers with its
 * status and kind (`urn:pulse:problem:<kind>`), its message as `detail` and its field errors as `errors`. Unknown
 * errors are a 500 that names no internals; their class and stack go to the log.
 */
export function errorToResponse(error: unknown, log: ErrorLog = defaultLogger): Response {
  if (error instanceof PulseError) {
    const title = PROBLEM_TITLES[error.kind];
    if (title !== undefined) return pulseProblem(error, title, log);
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

function pulseProblem(error: PulseError, title: string, log: ErrorLog): Response {
  const headers: Record<string, string> = {};
  let detail = error.message;
  let errors: FieldError[] | undefined = error.errors;
  if (error.kind === 'unavailable') {
    // Retryable: say so, and never echo what failed inside.
    log.warn('storage unavailable, answering 503', {
      error: error.name,
      unprocessed: error instanceof StoreUnavailableError ? error.unprocessed : undefined,
    });
    headers['retry-after'] = String(RETRY_AFTER_SECONDS);
    detail = UNAVAILABLE_DETAIL;
    errors = undefined;
  } else if (error.kind === 'invalid-parameter' && errors !== undefined) {
    detail = describeFieldErrors(errors);
  }
  if (error instanceof UnauthorizedError) headers['www-authenticate'] = error.challenge;
  return problemResponse({ type: problemType(error.kind), title, status: error.status, detail, errors }, headers);
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
