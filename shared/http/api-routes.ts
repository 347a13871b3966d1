import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { BlankEnv } from 'hono/types';
import { DateTime } from 'luxon';
import type { FieldError } from '../domain/errors.js';
import { InvalidParameterError } from '../domain/errors.js';
import { BODY_PATH, fieldErrorsOf, formatPath, joinPath } from '../domain/field-errors.js';
import type { LoadedModel } from '../domain/model/load.js';
import { ModelSchema } from '../domain/model/schema.js';
import type { AlertStore } from '../ports/alert-sink.js';
import type { EntityStore } from '../ports/entity-store.js';
import type { OverrideStore } from '../ports/override-store.js';
import type { RunRecord, RunStore } from '../ports/run-store.js';
import type { HistoryEntry, ScoreStore } from '../ports/score-store.js';
import type { EntityExport } from '../run/export.js';
import { checkBackfillRange } from '../run/plan.js';
import type { ShadowReport, ShadowRequest } from '../run/shadow.js';
import { type ApiAuth, apiAuth } from './api-auth.js';
import {
  getEntityScores,
  getHistory,
  getRun,
  listAlerts,
  listModels,
  listRuns,
  listScores,
  shadowRoute,
  startRun,
} from './api-contracts.js';
import { NotFoundError } from './api-errors.js';
import { DEFAULT_LIST_LIMIT } from './api-schemas.js';
import { historyView, modelView, runView, scoreView } from './api-views.js';
import { registerEntityRoutes } from './entity-routes.js';
import { type ErasureRouteDeps, registerErasureRoutes } from './erasure-routes.js';
import { registerOverrideRoutes } from './override-routes.js';
import { errorToResponse } from './problem.js';

/** Steps of a run finished so far (shards of a run; dates of a backfill). */
export interface RunProgressView {
  done: number;
  total: number;
}

/** A request to score one model as of one date/instant, or a backfill over a date range. */
export type RunRequest = { model: string; asOf: string } | { model: string; from: string; to: string };

/**
 * Starts runs: the in-process runner locally, StartExecution of the run state machine in AWS. It records the run
 * (status `queued`) before returning, so `GET /v1/runs/{runId}` finds it at once.
 */
export interface RunLauncher {
  start(request: RunRequest): Promise<Pick<RunRecord, 'runId' | 'status'>>;
}

export interface ApiRouteDeps {
  auth: ApiAuth;
  /** The active models (read per request: local mode can reload them). */
  models: () => readonly LoadedModel[];
  scores: ScoreStore;
  runs: RunStore;
  alerts: AlertStore;
  launcher: RunLauncher;
  /** Tells a known-but-never-scored entity (200, no scores) from an unknown one (404). */
  entities?: EntityStore | undefined;
  /** Finer progress of a running run (shards scored), when the launcher knows it (local mode). */
  progressOf?: ((runId: string) => RunProgressView | undefined) | undefined;
  /**
   * Shadow runs (`POST /v1/models/{name}/shadow`): score a draft model without publishing anything. Local mode
   * provides it; the AWS API function does not (it has no access to the events table), so the route is absent.
   */
  shadow?: ((request: ShadowRequest) => Promise<ShadowReport>) | undefined;
  clock?: (() => number) | undefined;
  /** Manual overrides (`/v1/overrides…`); the routes are absent without a store. */
  overrides?: OverrideStore | undefined;
  /** Per-entity export (`/v1/entities/{type}/{id}/export`): where the API can read events (local mode). */
  exportEntity?: ((entityType: 'user' | 'account', entityId: string) => Promise<EntityExport>) | undefined;
  /** Erasure (`DELETE /v1/entities/{type}/{id}`, `/v1/erasures`, docs/api.md#erasure); absent without it. */
  erasure?: ErasureRouteDeps | undefined;
}

const DEFAULT_ALERT_LOOKBACK_DAYS = 7;
/** Zod issues of a request part as field errors naming the parameter (unknown parameters by their own name). */
export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return fieldErrorsOf(issues, {
    unknownKey: () => 'is not a parameter of this route',
    root: BODY_PATH,
    message: (issue) =>
      issue.code === 'invalid_type' && /received undefined$/.test(issue.message)
        ? 'is required'
        : issue.message.replace(/^Invalid input: /, ''),
  });
}

const AUTHENTICATED_PATHS = [
  '/openapi.json',
  '/v1/scores',
  '/v1/scores/*',
  '/v1/models',
  '/v1/models/*',
  '/v1/runs',
  '/v1/runs/*',
  '/v1/alerts',
  '/v1/overrides',
  '/v1/overrides/*',
  '/v1/entities/*',
  '/v1/erasures',
] as const;

/**
 * The scores API (docs/api.md) as a Hono app, mounted next to the ingest routes by createApp. Every route but
 * /healthz needs credentials (see api-auth.ts); query parameters are checked against the zod schemas that also
 * generate `GET /openapi.json`.
 */
export function apiRoutes(deps: ApiRouteDeps): OpenAPIHono<BlankEnv> {
  const clock = deps.clock ?? Date.now;
  const app = new OpenAPIHono<BlankEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new InvalidParameterError(issuesToFieldErrors(result.error.issues));
    },
  });
  const auth: MiddlewareHandler = apiAuth(deps.auth);
  // Scoped paths, not '*': this app is mounted at '/', next to the ingest routes and /healthz.
  for (const path of AUTHENTICATED_PATHS) app.use(path, auth);
  app.onError((error) => errorToResponse(error));

  const activeModels = () => deps.models();
  const modelNamed = (name: string, parameter = 'model'): LoadedModel => {
    const found = activeModels().find((m) => m.model.name === name);
    if (!found) {
      const names = activeModels().map((m) => m.model.name);
      throw InvalidParameterError.of(
        parameter,
        `unknown model "${name}"; active models: ${names.join(', ') || '(none)'}`,
      );
    }
    return found;
  };

  app.openapi(getEntityScores, async (c) => {
    const { entityType, entityId } = c.req.valid('param');
    const { model } = c.req.valid('query');
    const models = model
      ? [modelNamed(model).model.name]
      : activeModels()
          .filter((m) => m.model.level === entityType)
          .map((m) => m.model.name);
    const [stored, known] = await Promise.all([
      models.length > 0 ? deps.scores.getCurrent(entityType, entityId, models) : [],
      deps.entities?.get(entityType, entityId),
    ]);
    if (stored.length === 0 && !known) {
      throw new NotFoundError(`no ${entityType} "${entityId}" has been seen or scored`);
    }
    const traits = known ? { traits: known.traits } : {};
    return c.json({ entityType, entityId, scores: stored.map(scoreView), ...traits }, 200);
  });

  app.openapi(listScores, async (c) => {
    const query = c.req.valid('query');
    const loaded = query.model ? modelNamed(query.model) : onlyModel(activeModels());
    const bands = loaded.model.bands.map((b) => b.name);
    if (query.band !== undefined && !bands.includes(query.band)) {
      throw InvalidParameterError.of('band', `must be a band of model "${loaded.model.name}": ${bands.join(', ')}`);
    }
    const page = await deps.scores.list({
      model: loaded.model.name,
      bands,
      band: query.band,
      limit: query.limit ?? DEFAULT_LIST_LIMIT,
      cursor: query.cursor,
    });
    return c.json({ items: page.items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(getHistory, async (c) => {
    const { entityType, entityId } = c.req.valid('param');
    const query = c.req.valid('query');
    const models = query.model ? [modelNamed(query.model)] : activeModels().filter((m) => m.model.level === entityType);
    const entries: HistoryEntry[] = [];
    for (const { model } of models) {
      const from = query.from === undefined ? undefined : lowerBound(query.from, model.timezone);
      const to = query.to === undefined ? undefined : upperBound(query.to, model.timezone);
      if (from !== undefined && to !== undefined && from > to) {
        throw InvalidParameterError.of('from', `must not be after to (${query.to})`);
      }
      entries.push(...(await deps.scores.history({ entityType, entityId, model: model.name, from, to })));
    }
    entries.sort((a, b) => (a.asOf < b.asOf ? -1 : a.asOf > b.asOf ? 1 : a.model < b.model ? -1 : 1));
    return c.json({ items: entries.map(historyView), nextCursor: null }, 200);
  });

  app.openapi(listModels, (c) => c.json({ items: activeModels().map(modelView), nextCursor: null }, 200));

  app.openapi(startRun, async (c) => {
    const body = c.req.valid('json');
    const loaded = modelNamed(body.model);
    let request: RunRequest;
    if (body.asOf !== undefined) {
      if (body.from !== undefined || body.to !== undefined) {
        throw InvalidParameterError.of('asOf', 'give either asOf, or from and to (a backfill), not both');
      }
      request = { model: loaded.model.name, asOf: body.asOf };
    } else if (body.from !== undefined && body.to !== undefined) {
      // Checked here, before anything is launched: a range of millennia is a 400 at once.
      checkBackfillRange({ from: body.from, to: body.to });
      request = { model: loaded.model.name, from: body.from, to: body.to };
    } else if (body.from !== undefined || body.to !== undefined) {
      throw InvalidParameterError.of(body.from === undefined ? 'from' : 'to', 'is required for a backfill');
    } else {
      throw InvalidParameterError.of('asOf', 'is required (or from and to for a backfill)');
    }
    const run = await deps.launcher.start(request);
    c.header('location', `/v1/runs/${encodeURIComponent(run.runId)}`);
    return c.json({ runId: run.runId, status: run.status }, 202);
  });

  app.openapi(getRun, async (c) => {
    const { runId } = c.req.valid('param');
    const run = await deps.runs.get(runId);
    if (!run) throw new NotFoundError(`run "${runId}" does not exist`);
    return c.json(await runView(run, deps.runs, deps.progressOf), 200);
  });

  app.openapi(listRuns, async (c) => {
    const query = c.req.valid('query');
    const models = query.model ? [modelNamed(query.model).model.name] : activeModels().map((m) => m.model.name);
    const limit = query.limit ?? 20;
    const records = (await Promise.all(models.map((m) => deps.runs.list(m, limit)))).flat();
    records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    const items = await Promise.all(records.slice(0, limit).map((r) => runView(r, deps.runs, deps.progressOf)));
    return c.json({ items, nextCursor: null }, 200);
  });

  app.openapi(listAlerts, async (c) => {
    const query = c.req.valid('query');
    const models = query.model ? [modelNamed(query.model).model.name] : activeModels().map((m) => m.model.name);
    const since =
      query.since === undefined
        ? new Date(clock() - DEFAULT_ALERT_LOOKBACK_DAYS * 86_400_000).toISOString()
        : lowerBound(query.since, 'UTC');
    const page = await deps.alerts.list({ since, models, limit: query.limit ?? 100, cursor: query.cursor });
    return c.json({ items: page.items, nextCursor: page.nextCursor }, 200);
  });

  if (deps.exportEntity) registerEntityRoutes(app, deps.exportEntity);
  if (deps.erasure) registerErasureRoutes(app, deps.erasure);
  if (deps.overrides)
    registerOverrideRoutes(app, { overrides: deps.overrides, models: activeModels, modelNamed, clock });

  const shadow = deps.shadow;
  if (shadow) {
    app.openapi(shadowRoute, async (c) => {
      const { name } = c.req.valid('param');
      const body = c.req.valid('json');
      const live = modelNamed(name, 'name').model;
      const parsed = ModelSchema.safeParse(body.draft);
      if (!parsed.success) {
        throw new InvalidParameterError(
          parsed.error.issues.map((i) => ({ path: joinPath('draft', formatPath(i.path)), message: i.message })),
        );
      }
      if (parsed.data.level !== live.level) {
        throw InvalidParameterError.of('draft.level', `must be "${live.level}" like the live model "${name}"`);
      }
      const report = await shadow({
        draft: parsed.data,
        asOf: body.asOf ?? new Date(clock()).toISOString(),
        compareWith: name,
      });
      return c.json(report, 200);
    });
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'Local mode: PULSE_API_TOKEN. In AWS the API gateway authorises requests (IAM SigV4 or a JWT).',
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['health'],
    summary: 'Liveness (no credentials needed)',
    responses: { 200: { description: 'The service is up: {"status":"ok"}.' } },
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Pulse scores API',
      version: '1',
      description:
        'Current scores, history, runs and alerts of Pulse (customer engagement scoring). Ingest routes ' +
        '(POST /v1/events and the Segment-compatible /v1/batch, /v1/track, ...) use the write key and are described ' +
        'in docs/api.md.',
    },
  });
  return app;
}

function onlyModel(models: readonly LoadedModel[]): LoadedModel {
  if (models.length === 1) return models[0]!;
  throw InvalidParameterError.of(
    'model',
    models.length === 0
      ? 'no model is active'
      : `is required when several models are active: ${models.map((m) => m.model.name).join(', ')}`,
  );
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A `from`/`since` bound as an ISO instant: a date D includes runs as of D (T after the start of D). */
function lowerBound(value: string, timezone: string): string {
  if (!DATE_ONLY.test(value)) return new Date(value).toISOString();
  return new Date(DateTime.fromISO(value, { zone: timezone }).startOf('day').toMillis() + 1).toISOString();
}

/** A `to` bound as an ISO instant: a date D includes runs as of D (T up to the start of D+1). */
function upperBound(value: string, timezone: string): string {
  if (!DATE_ONLY.test(value)) return new Date(value).toISOString();
  return new Date(
    DateTime.fromISO(value, { zone: timezone }).plus({ days: 1 }).startOf('day').toMillis(),
  ).toISOString();
}
