import { type Env, Hono, type MiddlewareHandler, type Schema } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { BODY_PATH, PayloadTooLargeError } from '../ingest/errors.js';
import { logger as defaultLogger } from '../observability.js';
import { INGEST_PATHS } from './ingest-paths.js';
import { type IngestRouteDeps, ingestRoutes } from './ingest-routes.js';
import { type ErrorLog, errorToResponse, problemResponse, problemType } from './problem.js';

export interface AppDeps {
  /** The ingest routes; absent in the API function (API Gateway routes ingest to its own function). */
  ingest?: IngestRouteDeps | undefined;
  /**
   * The scores API (docs/api.md), mounted at the root next to the ingest routes. It brings its own auth (bearer
   * token / IAM); errors it throws are mapped by the same handler as ingest's.
   */
  apiRoutes?: Hono<Env, Schema, string> | undefined;
  /** The dashboard pages (docs/dashboard.md), local mode only; they bring their own sign-in. */
  dashboard?: Hono | undefined;
  logger?: ErrorLog | undefined;
}

/** One Hono app for both the Lambda (hono/aws-lambda) and local mode (@hono/node-server). */
export function createApp(deps: AppDeps): Hono {
  const routes = deps.ingest ? [ingestRoutes(deps.ingest)] : [];
  if (deps.apiRoutes) routes.push(deps.apiRoutes);
  if (deps.dashboard) routes.push(deps.dashboard);
  return composeApp(routes, deps.logger);
}

/**
 * The app around routes built by the caller: the scores API function composes its own routes only, so its code
 * (and so the IAM its role is checked against, docs/deploy.md#security-notes) never reaches ingest.
 */
export function composeApp(routes: readonly Hono<Env, Schema, string>[], logger?: ErrorLog): Hono {
  const app = new Hono();
  app.use('*', requestBodyLimit());
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  for (const r of routes) app.route('/', r);
  app.notFound((c) =>
    problemResponse({
      type: problemType('not-found'),
      title: 'Not found',
      status: 404,
      detail: `${c.req.method} ${c.req.path}`,
    }),
  );
  app.onError((error) => errorToResponse(error, logger ?? defaultLogger));
  return app;
}

/**
 * Bytes of a request body on every route but ingest (docs/api.md#limits): the largest legitimate body is a shadow
 * run's draft model, a few KB. Far below API Gateway's 10 MB and Lambda's 6 MB, so an oversized body is refused
 * here with a problem, not by the platform.
 */
export const API_MAX_BODY_BYTES = 256 * 1024;

/**
 * 413 for a body over API_MAX_BODY_BYTES, counted as it streams in (never buffered whole), whatever the route or
 * method, before authentication reads anything. The ingest routes keep their own, larger limit (ingest-routes.ts).
 */
/** The ingest paths bring their own body limit (IngestLimits.maxRequestBytes), counted decompressed too. */
const ingestPaths: ReadonlySet<string> = new Set(INGEST_PATHS);

function requestBodyLimit(): MiddlewareHandler {
  const kb = API_MAX_BODY_BYTES / 1024;
  const tooLarge = () =>
    errorToResponse(
      new PayloadTooLargeError(`A request body may be at most ${kb} KB on this route.`, [
        { path: BODY_PATH, message: `is larger than ${kb} KB` },
      ]),
    );
  const limit = bodyLimit({ maxSize: API_MAX_BODY_BYTES, onError: tooLarge });
  return (c, next) => {
    if (ingestPaths.has(c.req.path)) return next();
    // A declared body is refused whatever the method: GET and DELETE bodies are not streamed to the route at all.
    if (Number(c.req.header('content-length') ?? 0) > API_MAX_BODY_BYTES) return Promise.resolve(tooLarge());
    return limit(c, next);
  };
}
