import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * Dashboard sign-in (docs/dashboard.md#sign-in). The browser holds a session cookie whose value is an HMAC of the
 * dashboard token, never the token itself: HttpOnly (no script reads it), SameSite=Strict (no other site's page
 * sends it), Secure when served over https. Changing the token signs every browser out.
 */

export const SESSION_COOKIE = 'pulse_session';

/** The cookie value for a token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('pulse-dashboard-session-v1').digest('base64url');
}

export function tokenMatches(candidate: string, token: string): boolean {
  return equalDigests(sessionValue(candidate), sessionValue(token));
}

function equalDigests(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function hasSession(c: Context, token: string): boolean {
  const value = getCookie(c, SESSION_COOKIE);
  return value !== undefined && equalDigests(value, sessionValue(token));
}

export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, sessionValue(token), {
    httpOnly: true,
    sameSite: 'Strict',
    secure: new URL(c.req.url).protocol === 'https:',
    path: '/',
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** A redirect target inside this site only: a path starting with one `/` (no scheme, no `//host`). */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) {
    return '/';
  }
  return value;
}

/** The request's path and query without the `token` parameter. */
export function withoutToken(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete('token');
  const query = parsed.searchParams.toString();
  return `${parsed.pathname}${query ? `?${query}` : ''}`;
}
