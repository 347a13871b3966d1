import { type Env, Hono, type Schema } from 'hono';
import { logger as defaultLogger } from '../observability.js';
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
