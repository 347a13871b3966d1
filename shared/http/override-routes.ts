import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { BlankEnv } from 'hono/types';
import { isoDateOrDateTime } from '../domain/dates.js';
import { InvalidParameterError } from '../domain/errors.js';
import type { LoadedModel } from '../domain/model/load.js';
import { isActive, type StoredOverride, validateOverride } from '../domain/override.js';
import type { OverrideStore } from '../ports/override-store.js';
import { NotFoundError } from './api-errors.js';
import { EntityParams, EntityTypeSchema } from './api-schemas.js';
import { json, jsonBody, problem, problems, security } from './openapi-parts.js';

const modelName = z.string().regex(/^[a-z0-9-]+$/, 'must be a model name ([a-z0-9-]+)');

export const OverrideRequestSchema = z
  .object({
    model: modelName,
    band: z.string().min(1).max(100).optional().openapi({ description: "One of the model's bands." }),
    score: z.number().finite().optional().openapi({ description: 'The score to publish.' }),
    reason: z.string().trim().min(1, 'must say why').max(500),
    expiresAt: isoDateOrDateTime().openapi({
      description: 'Required, in the future, at most 366 days ahead (ISO instant or date).',
      example: '2026-04-01T00:00:00Z',
    }),
  })
  .strict()
  .openapi('OverrideRequest');

export const StoredOverrideSchema = z
  .object({
    entityType: EntityTypeSchema,
    entityId: z.string(),
    model: z.string(),
    band: z.string().optional(),
    score: z.number().optional(),
    reason: z.string(),
    expiresAt: z.string(),
    createdAt: z.string(),
  })
  .openapi('Override');

const OverrideListSchema = z
  .object({ items: z.array(StoredOverrideSchema), nextCursor: z.string().nullable() })
  .openapi('OverrideList');

const putOverride = createRoute({
  method: 'put',
  path: '/v1/overrides/{entityType}/{entityId}',
  tags: ['overrides'],
  summary: "Override an entity's published band and/or score under one model until an expiry",
  security,
  request: {
    params: EntityParams,
    body: jsonBody(OverrideRequestSchema),
  },
  responses: {
    200: json(StoredOverrideSchema, 'The override, applied from the next run.'),
    ...problems,
  },
});

const listOverrides = createRoute({
  method: 'get',
  path: '/v1/overrides',
  tags: ['overrides'],
  summary: 'Overrides in force',
  security,
  request: { query: z.object({ model: modelName.optional() }).strict() },
  responses: {
    200: json(OverrideListSchema, 'Overrides not yet expired.'),
    ...problems,
  },
});

const deleteOverride = createRoute({
  method: 'delete',
  path: '/v1/overrides/{entityType}/{entityId}',
  tags: ['overrides'],
  summary: 'End an override now (the next run publishes the computed score)',
  security,
  request: { params: EntityParams, query: z.object({ model: modelName }).strict() },
  responses: {
    204: { description: 'Removed.' },
    ...problems,
    404: problem('No override for this entity and model.'),
  },
});

export interface OverrideRouteDeps {
  overrides: OverrideStore;
  models: () => readonly LoadedModel[];
  /** Throws a 400 naming `parameter` for a model that is not active. */
  modelNamed: (name: string, parameter?: string) => LoadedModel;
  clock: () => number;
}

/** `PUT/GET/DELETE /v1/overrides…` (docs/api.md#overrides), added to the scores API app. */
export function registerOverrideRoutes(app: OpenAPIHono<BlankEnv>, deps: OverrideRouteDeps): void {
  app.openapi(putOverride, async (c) => {
    const { entityType, entityId } = c.req.valid('param');
    const body = c.req.valid('json');
    const { model } = deps.modelNamed(body.model);
    if (model.level !== entityType)
      throw InvalidParameterError.of('model', `scores ${model.level}s, not ${entityType}s`);
    // An InvalidOverrideError is a 400 naming its field (shared/http/problem.ts).
    const accepted = validateOverride({ ...body, model }, deps.clock());
    const stored: StoredOverride = { entityType, entityId, model: model.name, ...accepted };
    await deps.overrides.put(stored);
    return c.json(stored, 200);
  });

  app.openapi(listOverrides, async (c) => {
    const { model } = c.req.valid('query');
    const names = model ? [deps.modelNamed(model).model.name] : deps.models().map((m) => m.model.name);
    const now = deps.clock();
    const items: StoredOverride[] = [];
    for (const name of names) items.push(...(await deps.overrides.list(name)).filter((o) => isActive(o, now)));
    items.sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : 0));
    return c.json({ items, nextCursor: null }, 200);
  });

  app.openapi(deleteOverride, async (c) => {
    const { entityType, entityId } = c.req.valid('param');
    const { model } = c.req.valid('query');
    const name = deps.modelNamed(model).model.name;
    if (!(await deps.overrides.delete(entityType, entityId, name)))
      throw new NotFoundError(`no override of ${entityType} "${entityId}" under model ${name}`);
    return c.body(null, 204);
  });
}
