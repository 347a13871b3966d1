import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidParameterError, PulseError } from '../../../shared/domain/errors.js';
import { fieldErrorsOf } from '../../../shared/domain/field-errors.js';
import { InvalidOverrideError } from '../../../shared/domain/override.js';
import { InvalidAsOfError } from '../../../shared/domain/time.js';
import { ApiUnauthorizedError, NotFoundError, RunsUnavailableError } from '../../../shared/http/api-errors.js';
import { issuesToFieldErrors } from '../../../shared/http/api-routes.js';
import { UnauthorizedError, WriteKeysUnavailableError } from '../../../shared/http/auth.js';
import { errorToResponse } from '../../../shared/http/problem.js';
import { InvalidBodyError, PayloadTooLargeError } from '../../../shared/ingest/errors.js';
import { toFieldErrors } from '../../../shared/ingest/issues.js';
import { InvalidCursorError, RunExistsError, StoreUnavailableError } from '../../../shared/ports/errors.js';
import { InvalidRunRequestError, UnknownModelError } from '../../../shared/run/errors.js';

const quietLog = { error: () => undefined, warn: () => undefined } as never;

async function answer(error: unknown): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = errorToResponse(error, quietLog);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** What every invalid request parameter answers: 400, naming the parameter and why. */
const invalidParameter = (path: string, message: string) => ({
  type: 'urn:pulse:problem:invalid-parameter',
  title: 'A request parameter is not valid',
  status: 400,
  detail: `${path}: ${message}`,
  errors: [{ path, message }],
});

/** What a request without valid credentials answers (the challenge goes in `WWW-Authenticate`). */
const UNAUTHORIZED = { type: 'urn:pulse:problem:unauthorized', title: 'Unauthorized', status: 401 };
const unauthorized = (detail: string) => ({ ...UNAUTHORIZED, detail });

const RETRY_DETAIL =
  'Nothing in this request was reported accepted. Send the same request again after Retry-After seconds.';

describe('errorToResponse maps every PulseError by its kind and status (docs/api.md#errors)', () => {
  it.each([
    [
      'a bad parameter',
      InvalidParameterError.of('limit', 'must be an integer from 1 to 1000'),
      invalidParameter('limit', 'must be an integer from 1 to 1000'),
    ],
    [
      'a bad cursor',
      new InvalidCursorError(),
      invalidParameter('cursor', 'cursor is not valid: pass the nextCursor of a previous page unchanged'),
    ],
    [
      'a bad run request',
      new InvalidRunRequestError('from', 'must not be after to'),
      invalidParameter('from', 'must not be after to'),
    ],
    [
      'an unknown model',
      new UnknownModelError('nope'),
      invalidParameter('model', 'model "nope" is not one of the active models'),
    ],
    [
      'a bad as-of',
      new InvalidAsOfError('soon'),
      invalidParameter('asOf', 'asOf "soon" must be a date (YYYY-MM-DD) or an ISO 8601 instant with a time zone'),
    ],
    [
      'a bad override',
      new InvalidOverrideError('band', 'is not a band of model usage'),
      invalidParameter('band', 'is not a band of model usage'),
    ],
    [
      'an unreadable body',
      new InvalidBodyError('The request body is not valid JSON.', [{ path: '(body)', message: 'is not valid JSON' }]),
      {
        type: 'urn:pulse:problem:invalid-body',
        title: 'The request body is not valid',
        status: 400,
        detail: 'The request body is not valid JSON.',
        errors: [{ path: '(body)', message: 'is not valid JSON' }],
      },
    ],
    [
      'a body too large',
      new PayloadTooLargeError('A request may carry at most 500 events; split the batch.', [
        { path: 'events', message: 'has 501 events' },
      ]),
      {
        type: 'urn:pulse:problem:payload-too-large',
        title: 'The request is too large',
        status: 413,
        detail: 'A request may carry at most 500 events; split the batch.',
        errors: [{ path: 'events', message: 'has 501 events' }],
      },
    ],
    [
      'an unknown run',
      new NotFoundError('run "r1" does not exist'),
      { type: 'urn:pulse:problem:not-found', title: 'Not found', status: 404, detail: 'run "r1" does not exist' },
    ],
    [
      'runs that cannot start',
      new RunsUnavailableError('no state machine'),
      {
        type: 'urn:pulse:problem:runs-unavailable',
        title: 'Runs cannot be started here',
        status: 503,
        detail: 'no state machine',
      },
    ],
  ])('%s', async (_what, error, problem) => {
    const { status, body } = await answer(error);
    expect(status).toBe(problem.status);
    expect(body).toEqual(problem);
  });

  it('answers 401 with the challenge of the credentials asked for', async () => {
    const basic = await answer(new UnauthorizedError('The write key is not valid.'));
    const bearer = await answer(new ApiUnauthorizedError('The API token is not valid.'));

    expect(basic.body).toEqual(unauthorized('The write key is not valid.'));
    expect(basic.headers.get('www-authenticate')).toBe('Basic realm="pulse", charset="UTF-8"');
    expect(bearer.body).toEqual(unauthorized('The API token is not valid.'));
    expect(bearer.headers.get('www-authenticate')).toBe('Bearer realm="pulse"');
  });

  it('answers 503 with Retry-After and a fixed detail that never echoes what failed inside', async () => {
    for (const error of [
      new StoreUnavailableError('table events: throttled after 5 tries', 3),
      new WriteKeysUnavailableError({ cause: new Error('secret not found') }),
    ]) {
      const { status, headers, body } = await answer(error);
      expect(status).toBe(503);
      expect(headers.get('retry-after')).toBe('5');
      expect(body).toEqual({
        type: 'urn:pulse:problem:unavailable',
        title: 'Service temporarily unavailable',
        status: 503,
        detail: RETRY_DETAIL,
      });
    }
  });

  it('answers 500 naming no internals for a PulseError no client should see, and logs it', async () => {
    const logged: string[] = [];
    const log = {
      error: (_message: string, extra?: unknown) => {
        logged.push((extra as { error: string }).error);
      },
      warn: () => undefined,
    };
    const res = errorToResponse(new RunExistsError('r1'), log as never);

    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ type: 'urn:pulse:problem:internal', title: 'Internal error', status: 500 });
    expect(logged).toEqual(['RunExistsError']);
  });
});

describe('PulseError', () => {
  it('keeps its kind, status, name and cause', () => {
    const cause = new SyntaxError('Unexpected token');
    const error = new InvalidBodyError('The request body is not valid JSON.', [], { cause });

    expect(error).toBeInstanceOf(PulseError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ kind: 'invalid-body', status: 400, name: 'InvalidBodyError' });
    expect(error.cause).toBe(cause);
    expect(new InvalidCursorError(undefined, { cause }).cause).toBe(cause);
    expect(new StoreUnavailableError('down', 1, { cause }).cause).toBe(cause);
  });
});

describe('field paths: one formatter for ingest, the API and model files', () => {
  const Body = z.object({ items: z.array(z.object({ id: z.string() })), 'plan tier': z.string() }).strict();

  it('names array elements and odd keys the same way on both paths', () => {
    const parsed = Body.safeParse({ items: [{ id: 'a' }, { id: 7 }], 'plan tier': 1, extra: true });
    if (parsed.success) throw new Error('expected a failure');

    const ingest = toFieldErrors(parsed.error.issues).map((e) => e.path);
    const api = issuesToFieldErrors(parsed.error.issues).map((e) => e.path);

    expect(ingest).toEqual(['items[1].id', '"plan tier"', 'extra']);
    expect(api).toEqual(ingest);
  });

  it('names the value as a whole by the root given', () => {
    const parsed = z.string().safeParse(1);
    if (parsed.success) throw new Error('expected a failure');

    expect(fieldErrorsOf(parsed.error.issues, { unknownKey: () => '', root: '(body)' })[0]?.path).toBe('(body)');
    expect(issuesToFieldErrors(parsed.error.issues)[0]?.path).toBe('(body)');
  });
});
