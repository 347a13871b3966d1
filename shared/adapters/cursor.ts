import type { z } from 'zod';
import { InvalidCursorError } from '../ports/errors.js';

/**
 * Pagination cursors (docs/api.md#pagination): JSON in base64url, read back only through a zod schema, so a cursor
 * we did not produce (or one edited by hand) is a 400 naming `cursor` before any read, and every position in it
 * is one a store can continue from at the cost of one page.
 */

/** Longest cursor text accepted (a cursor holds a few keys of at most a few hundred bytes each). */
export const MAX_CURSOR_CHARS = 16_384;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends z.ZodType>(text: string, schema: T): z.infer<T> {
  if (text.length === 0 || text.length > MAX_CURSOR_CHARS || !BASE64URL.test(text)) throw new InvalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidCursorError(undefined, { cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidCursorError();
  return parsed.data;
}
