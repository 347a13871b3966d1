import { createRoute } from '@hono/zod-openapi';
import {
  AlertListSchema,
  AlertQuerySchema,
  EntityParams,
  EntityScoreQuery,
  EntityScoresSchema,
  HistoryQuerySchema,
  HistorySchema,
  ModelListSchema,
  RunAcceptedSchema,
  RunListQuery,
  RunListSchema,
  RunParams,
  RunRequestSchema,
  RunSchema,
  ScoreListQuery,
  ScoreListSchema,
  ShadowParams,
  ShadowReportSchema,
  ShadowRequestSchema,
} from './api-schemas.js';
import { json, jsonBody, problem, problems, security } from './openapi-parts.js';

/** The scores API's route contracts: paths, parameters, bodies and responses, as published in OpenAPI (docs/api.md). */

export const getEntityScores = createRoute({
  method: 'get',
  path: '/v1/scores/{entityType}/{entityId}',
  tags: ['scores'],
  summary: 'Current scores of one user or account',
  security,
  request: { params: EntityParams, query: EntityScoreQuery },
  responses: {
    200: json(EntityScoresSchema, 'Current score under each model, with contributions, penalties, coverage, trend.'),
    ...problems,
    404: problem('Unknown entity.'),
  },
});

export const listScores = createRoute({
  method: 'get',
  path: '/v1/scores',
  tags: ['scores'],
  summary: 'Scores of a model, highest first',
  security,
  request: { query: ScoreListQuery },
  responses: { 200: json(ScoreListSchema, 'One page of scores, highest first.'), ...problems },
});

export const getHistory = createRoute({
  method: 'get',
  path: '/v1/scores/{entityType}/{entityId}/history',
  tags: ['scores'],
  summary: 'Score history of one user or account, one item per run, oldest first',
  security,
  request: { params: EntityParams, query: HistoryQuerySchema },
  responses: { 200: json(HistorySchema, 'One item per run, oldest first.'), ...problems },
});

export const listModels = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'The active models',
  security,
  responses: { 200: json(ModelListSchema, 'Every active model.'), 401: problems[401] },
});

export const startRun = createRoute({
  method: 'post',
  path: '/v1/runs',
  tags: ['runs'],
  summary: 'Start a run (asOf) or a backfill (from, to)',
  security,
  request: { body: jsonBody(RunRequestSchema) },
  responses: { 202: json(RunAcceptedSchema, 'The run was queued; poll GET /v1/runs/{runId}.'), ...problems },
});

export const getRun = createRoute({
  method: 'get',
  path: '/v1/runs/{runId}',
  tags: ['runs'],
  summary: 'Status of a run or backfill',
  security,
  request: { params: RunParams },
  responses: { 200: json(RunSchema, 'The run.'), ...problems, 404: problem('Unknown run.') },
});

export const listRuns = createRoute({
  method: 'get',
  path: '/v1/runs',
  tags: ['runs'],
  summary: 'Recent runs and backfills, newest first, with their summaries',
  security,
  request: { query: RunListQuery },
  responses: { 200: json(RunListSchema, 'The latest runs (one page).'), ...problems },
});

export const listAlerts = createRoute({
  method: 'get',
  path: '/v1/alerts',
  tags: ['alerts'],
  summary: 'Recent drops, spikes and band changes, newest first',
  security,
  request: { query: AlertQuerySchema },
  responses: { 200: json(AlertListSchema, 'One page of alerts, newest first.'), ...problems },
});

export const shadowRoute = createRoute({
  method: 'post',
  path: '/v1/models/{name}/shadow',
  tags: ['models'],
  summary: 'Shadow run: score a draft model and report band changes, publishing nothing',
  security,
  request: {
    params: ShadowParams,
    body: jsonBody(ShadowRequestSchema),
  },
  responses: { 200: json(ShadowReportSchema, 'What the draft would change.'), ...problems },
});
