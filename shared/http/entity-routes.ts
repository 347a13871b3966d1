import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { BlankEnv } from 'hono/types';
import type { EntityExport } from '../run/export.js';
import { NotFoundError } from './api-errors.js';
import { EntityParams } from './api-schemas.js';
import { json, problem, problems, security } from './openapi-parts.js';

const exportRoute = createRoute({
  method: 'get',
  path: '/v1/entities/{entityType}/{entityId}/export',
  tags: ['data rights'],
  summary: 'Everything stored about one user or account: events, traits, scores, history, alerts, overrides',
  security,
  request: { params: EntityParams },
  responses: {
    200: json(
      z.record(z.string(), z.unknown()).openapi('EntityExport'),
      'The export (JSON); event timestamps as ISO instants.',
    ),
    ...problems,
    404: problem('Nothing is stored about this entity.'),
  },
});

/** `GET /v1/entities/{type}/{id}/export` (docs/api.md#export), where the API can read events (local mode). */
export function registerEntityRoutes(
  app: OpenAPIHono<BlankEnv>,
  exportEntity: (entityType: 'user' | 'account', entityId: string) => Promise<EntityExport>,
): void {
  app.openapi(exportRoute, async (c) => {
    const { entityType, entityId } = c.req.valid('param');
    const data = await exportEntity(entityType, entityId);
    const empty =
      data.entity === null &&
      data.events.length === 0 &&
      data.scores.length === 0 &&
      data.history.length === 0 &&
      data.alerts.length === 0 &&
      data.overrides.length === 0;
    if (empty) throw new NotFoundError(`nothing is stored about ${entityType} "${entityId}"`);
    const entity = data.entity
      ? {
          ...data.entity,
          firstSeenAt: isoOrNull(data.entity.firstSeenAt),
          lastSeenAt: isoOrNull(data.entity.lastSeenAt),
        }
      : null;
    return c.json(
      { ...data, entity, events: data.events.map((e) => ({ ...e, timestamp: new Date(e.timestamp).toISOString() })) },
      200,
    );
  });
}

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
