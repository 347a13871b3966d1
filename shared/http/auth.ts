import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { PulseError } from '../domain/errors.js';

/** Where the accepted write keys come from: static (local mode) or a cached secret (AWS). */
export type WriteKeySource = () => Promise<readonly string[]> | readonly string[];

/** Missing or wrong write key: 401 with a Basic challenge (the write key is the user name). */
export class UnauthorizedError extends PulseError {
  constructor(
    message: string,
    /** The `WWW-Authenticate` challenge sent with the 401. */
    readonly challenge: string = 'Basic realm="pulse", charset="UTF-8"',
  ) {
    super(message, { kind: 'unauthorized', status: 401 });
    this.name = 'UnauthorizedError';
  }
}

/** The write keys could not be loaded (e.g. Secrets Manager unreachable): a retryable 503, never a 401. */
export class WriteKeysUnavailableError extends PulseError {
  constructor(options?: { cause?: unknown }) {
    super('write keys are unavailable', { kind: 'unavailable', status: 503, cause: options?.cause });
    this.name = 'WriteKeysUnavailableError';
  }
}

export function staticWriteKeys(keys: readonly string[]): WriteKeySource {
  const list = keys.filter((k) => k.length > 0);
  return () => list;
}

/**
 * The write key from `Authorization: Basic base64(<writeKey>:<anything>)` — Segment's convention: the key is
 * the user name, the password empty.
 */
export function writeKeyFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  return user.length > 0 ? user : undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time membership: compares digests, so neither length nor content leaks through timing. */
export function isKnownKey(candidate: string, keys: readonly string[]): boolean {
  const c = digest(candidate);
  let found = false;
  for (const key of keys) found = timingSafeEqual(c, digest(key)) || found;
  return found;
}

/** Middleware: 401 problem unless the request carries a known write key. */
export function writeKeyAuth(source: WriteKeySource): MiddlewareHandler {
  return async (_c, next) => {
    const candidate = writeKeyFromHeader(_c.req.header('authorization'));
    if (candidate === undefined) {
      throw new UnauthorizedError('Send the write key as the HTTP Basic user name (Authorization: Basic <key>:).');
    }
    let keys: readonly string[];
    try {
      keys = await source();
    } catch (error) {
      throw new WriteKeysUnavailableError({ cause: error });
    }
    if (!isKnownKey(candidate, keys)) throw new UnauthorizedError('The write key is not valid.');
    await next();
  };
}
