import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { BlankEnv } from 'hono/types';
import type { ErasureRecord } from '../domain/erasure.js';
import type { EraseRequest, EraseResult, LiftResult } from '../erasure/erase.js';
import { NotFoundError } from './api-errors.js';
import { EntityParams, ProblemSchema } from './api-schemas.js';

const PROBLEM = { content: { 'application/problem+json': { schema: ProblemSchema } } };
const problems = {
  400: { description: 'A parameter is not valid; errors[] names it.', ...PROBLEM },
  401: { description: 'Missing or wrong credentials.', ...PROBLEM },
} as const;
const security = [{ bearer: [] }];

const CountsSchema = z
  .object({
    events: z.number().int(),
    entity: z.number().int(),
    scores: z.number().int(),
    history: z.number().int(),
    alerts: z.number().int(),
    overrides: z.number().int(),
  })
  .openapi('ErasureCounts');

const ObjectCountsSchema = z
  .object({
    snapshotFiles: z.number().int(),
    snapshotRows: z.number().int(),
    archiveFiles: z.number().int(),
    archiveRows: z.number().int(),
  })
  .openapi('ErasureObjectCounts');

const PendingSchema = z.array(z.enum(['snapshots', 'archive']));

const EraseResultSchema = z
  .object({
    erasureId: z.string(),
    entityType: z.enum(['user', 'account']),
    entityId: z.string(),
    status: z.enum(['completed', 'pending']),
    requestedAt: z.string(),
    erasedSince: z.string().openapi({ description: 'When the entity was first erased (its tombstone).' }),
    erased: CountsSchema,
    objects: ObjectCountsSchema.nullable(),
    pending: PendingSchema,
  })
  .openapi('ErasureResult');

const ErasureRecordSchema = z
  .object({
    erasureId: z.string(),
    action: z.enum(['erase', 'lift']),
    entityType: z.enum(['user', 'account']),
    idHash: z.string().openapi({ description: 'SHA-256 of `pulse-erasure:<type>:<id>`, hex: never the id itself.' }),
    shard: z.number().int(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    counts: CountsSchema,
    pending: PendingSchema,
    objects: ObjectCountsSchema.nullable(),
    completedAt: z.string().nullable(),
  })
  .openapi('ErasureRecord');

const ErasureListQuery = z
  .object({
    limit: z.coerce
      .number({ error: 'must be an integer from 1 to 1000' })
      .int('must be an integer from 1 to 1000')
      .min(1, 'must be an integer from 1 to 1000')
      .max(1000, 'must be an integer from 1 to 1000')
      .optional(),
    cursor: z.string().min(1).max(512).optional(),
  })
  .strict();

const eraseRoute = createRoute({
  method: 'delete',
  path: '/v1/entities/{entityType}/{entityId}',
  tags: ['data rights'],
  summary: 'Erase everything stored about one user or account; later data about it is refused',
  security,
  request: { params: EntityParams },
  responses: {
    200: {
      description: 'Erased everywhere (local mode).',
      content: { 'application/json': { schema: EraseResultSchema } },
    },
    202: {
      description: 'Erased from the tables; snapshots and the event archive are rewritten by the next daily sweep.',
      content: { 'application/json': { schema: EraseResultSchema } },
    },
    ...problems,
  },
});

const liftRoute = createRoute({
  method: 'delete',
  path: '/v1/entities/{entityType}/{entityId}/tombstone',
  tags: ['data rights'],
  summary: "Lift an erased entity's tombstone: its new data is accepted again (nothing erased comes back)",
  security,
  request: { params: EntityParams },
  responses: {
    200: {
      description: 'The tombstone was lifted.',
      content: {
        'application/json': {
          schema: z.object({ entityType: z.enum(['user', 'account']), entityId: z.string(), lifted: z.boolean() }),
        },
      },
    },
    ...problems,
    404: { description: 'The entity has no tombstone.', ...PROBLEM },
  },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/erasures',
  tags: ['data rights'],
  summary: 'The erasure audit log, newest first (ids appear only as hashes)',
  security,
  request: { query: ErasureListQuery },
  responses: {
    200: {
      description: 'Audit records.',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(ErasureRecordSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    ...problems,
  },
});

export interface ErasureRouteDeps {
  erase: (request: EraseRequest) => Promise<EraseResult>;
  lift: (request: EraseRequest) => Promise<LiftResult>;
  list: (limit: number, cursor?: string) => Promise<{ items: ErasureRecord[]; nextCursor: string | null }>;
}

/** Erasure (docs/api.md#erasure): `DELETE /v1/entities/{type}/{id}`, lifting a tombstone, the audit log. */
export function registerErasureRoutes(app: OpenAPIHono<BlankEnv>, deps: ErasureRouteDeps): void {
  app.openapi(eraseRoute, async (c) => {
    const { entityType, entityId } = c.req.valid('param');
    const result = await deps.erase({ entityType, entityId, requestedBy: principalOf(c) });
    return c.json(result, result.status === 'completed' ? 200 : 202);
  });

  app.openapi(liftRoute, async (c) => {
    const { entityType, entityId } = c.req.valid('param');
    const result = await deps.lift({ entityType, entityId, requestedBy: principalOf(c) });
    if (!result.lifted) throw new NotFoundError(`${entityType} "${entityId}" has no tombstone`);
    return c.json(result, 200);
  });

  app.openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    return c.json(await deps.list(query.limit ?? 100, query.cursor), 200);
  });
}

interface GatewayIdentity {
  event?: {
    requestContext?: {
      authorizer?: {
        iam?: { userArn?: string; userId?: string } | null;
        jwt?: { claims?: Record<string, unknown> } | null;
      } | null;
    };
  };
}

/**
 * Who made the request, for the audit log: the IAM principal ARN or the JWT subject that API Gateway authorised
 * (AWS), or `api-token` (local mode's single bearer token). Never a secret.
 */
export function principalOf(c: Context): string {
  const authorizer = (c.env as GatewayIdentity | undefined)?.event?.requestContext?.authorizer;
  const arn = authorizer?.iam?.userArn ?? authorizer?.iam?.userId;
  if (arn) return `iam:${arn}`;
  const sub = authorizer?.jwt?.claims?.sub;
  if (typeof sub === 'string' && sub.length > 0) return `jwt:${sub}`;
  return 'api-token';
}
