import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import {
  isKnownKey,
  UnauthorizedError,
  WriteKeysUnavailableError,
  writeKeyFromHeader,
} from '../../../shared/http/auth.js';
import { errorToResponse, PROBLEM_CONTENT_TYPE } from '../../../shared/http/problem.js';
import { InvalidBodyError, PayloadTooLargeError } from '../../../shared/ingest/errors.js';
import { StoreUnavailableError } from '../../../shared/ports/errors.js';

function recordingLog() {
  const lines: { level: string; message: string; extra: unknown }[] = [];
  return {
    lines,
    log: {
      error: (message: string, extra?: unknown) => lines.push({ level: 'error', message, extra }),
      warn: (message: string, extra?: unknown) => lines.push({ level: 'warn', message, extra }),
    },
  };
}

describe('errorToResponse', () => {
  it.each([
    [
      new InvalidBodyError('bad', [{ path: '(body)', message: 'is not valid JSON' }]),
      400,
      'urn:pulse:problem:invalid-body',
    ],
    [
      new PayloadTooLargeError('big', [{ path: 'events', message: 'too many' }]),
      413,
      'urn:pulse:problem:payload-too-large',
    ],
    [new UnauthorizedError('who?'), 401, 'urn:pulse:problem:unauthorized'],
    [new StoreUnavailableError('down', 3), 503, 'urn:pulse:problem:unavailable'],
    [new WriteKeysUnavailableError(), 503, 'urn:pulse:problem:unavailable'],
    [new HTTPException(413), 413, 'urn:pulse:problem:payload-too-large'],
  ])('maps %s to an RFC 9457 problem', async (error, status, type) => {
    // Act
    const res = errorToResponse(error, recordingLog().log as never);
    const body = (await res.json()) as { type: string; status: number; title: string };

    // Assert
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(body).toMatchObject({ type, status });
    expect(body.title.length).toBeGreaterThan(0);
  });

  it('keeps the field errors of a 400 and sets Retry-After on a 503', async () => {
    // Act
    const bad = errorToResponse(new InvalidBodyError('bad', [{ path: 'events', message: 'is required' }]));
    const down = errorToResponse(new StoreUnavailableError('down', 1), recordingLog().log as never);

    // Assert
    expect(((await bad.json()) as { errors: unknown }).errors).toEqual([{ path: 'events', message: 'is required' }]);
    expect(down.headers.get('retry-after')).toBe('5');
  });

  it('answers 500 without internals for anything unknown, and logs only its class and stack', async () => {
    // Arrange
    const { lines, log } = recordingLog();
    const secret = new Error('connection string postgres://user:hunter2@db');

    // Act
    const res = errorToResponse(secret, log as never);
    const text = await res.text();

    // Assert
    expect(res.status).toBe(500);
    expect(text).not.toContain('hunter2');
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0]?.extra)).not.toContain('connection string postgres://user:hunter2@db"');
  });
});

describe('write key from the Authorization header', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

  it('takes the Basic user name and ignores the password', () => {
    expect(writeKeyFromHeader(basic('wk_1:'))).toBe('wk_1');
    expect(writeKeyFromHeader(basic('wk_1:secret'))).toBe('wk_1');
    expect(writeKeyFromHeader(basic('wk_1'))).toBe('wk_1');
    expect(writeKeyFromHeader(basic(':pw'))).toBeUndefined();
    expect(writeKeyFromHeader('Bearer wk_1')).toBeUndefined();
    expect(writeKeyFromHeader(undefined)).toBeUndefined();
  });

  it('matches keys exactly', () => {
    expect(isKnownKey('a', ['b', 'a'])).toBe(true);
    expect(isKnownKey('a ', ['a'])).toBe(false);
    expect(isKnownKey('', [])).toBe(false);
  });
});
