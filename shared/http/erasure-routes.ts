import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { BlankEnv } from 'hono/types';
import type { ErasureRecord } from '../domain/erasure.js';
import type { EraseRequest, EraseResult, LiftResult } from '../erasure/erase.js';
import { NotFoundError } from './api-errors.js';
import { EntityParams, pageLimit } from './api-schemas.js';
import { json, problem, problems, security } from './openapi-parts.js';

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
    limit: pageLimit(1000),
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
    200: json(EraseResultSchema, 'Erased everywhere (local mode).'),
    202: json(
      EraseResultSchema,
      'Erased from the tables; snapshots and the event archive are rewritten by the next daily sweep.',
    ),
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
    200: json(
      z.object({ entityType: z.enum(['user', 'account']), entityId: z.string(), lifted: z.boolean() }),
      'The tombstone was lifted.',
    ),
    ...problems,
    404: problem('The entity has no tombstone.'),
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
    200: json(z.object({ items: z.array(ErasureRecordSchema), nextCursor: z.string().nullable() }), 'Audit records.'),
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
