import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiUnauthorizedError } from './api-errors.js';

/**
 * Who may call the scores API.
 *
 * - `token` (local mode): `Authorization: Bearer <PULSE_API_TOKEN>`, compared in constant time.
 * - `gateway` (AWS): API Gateway's HTTP API authorises every request before the function runs, with IAM (SigV4)
 *   or a JWT authorizer chosen at deploy time, and forwards only authorised requests. The function cannot check a
 *   SigV4 signature itself (the gateway consumed it), so it trusts the gateway: it requires the authorizer context
 *   the gateway attaches (`requestContext.authorizer.iam` or `.jwt`) and refuses a request without one, so a
 *   misconfigured route (no authorizer) fails closed with 401 instead of serving data.
 */
export type ApiAuth = { mode: 'token'; token: string } | { mode: 'gateway' };

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The bearer token of an `Authorization` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Constant-time comparison of a candidate token with the expected one (digests, so length does not leak). */
export function tokenMatches(candidate: string, expected: string): boolean {
  return timingSafeEqual(digest(candidate), digest(expected));
}

interface GatewayEnv {
  event?: { requestContext?: { authorizer?: { iam?: unknown; jwt?: unknown; lambda?: unknown } | null } };
}

/** The gateway's authorizer context of a Lambda invocation (Hono's aws-lambda adapter puts the event in `env`). */
export function hasGatewayAuthorizer(env: unknown): boolean {
  const authorizer = (env as GatewayEnv | undefined)?.event?.requestContext?.authorizer;
  if (!authorizer) return false;
  return Boolean(authorizer.iam || authorizer.jwt || authorizer.lambda);
}

/** Middleware: 401 problem unless the request is authorised as `auth` says. */
export function apiAuth(auth: ApiAuth): MiddlewareHandler {
  if (auth.mode === 'token' && auth.token.length === 0) throw new Error('the API token must not be empty');
  return async (c, next) => {
    if (auth.mode === 'gateway') {
      if (!hasGatewayAuthorizer(c.env)) {
        throw new ApiUnauthorizedError('This request did not pass the API gateway authorizer (IAM or JWT).');
      }
    } else {
      const candidate = bearerToken(c.req.header('authorization'));
      if (candidate === undefined) {
        throw new ApiUnauthorizedError(
          'Send the API token as a bearer token (Authorization: Bearer <PULSE_API_TOKEN>).',
        );
      }
      if (!tokenMatches(candidate, auth.token)) throw new ApiUnauthorizedError('The API token is not valid.');
    }
    await next();
  };
}
