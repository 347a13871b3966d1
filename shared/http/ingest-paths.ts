import { SEGMENT_TYPES } from '../ingest/segment.js';

/**
 * The ingest paths (docs/api.md#ingest): native `/v1/events`, Segment's `/v1/batch` and one path a Segment call.
 * The routes, the gateway (infra) and the tests all read this list.
 */
export const INGEST_PATHS: readonly string[] = [
  '/v1/events',
  '/v1/batch',
  ...SEGMENT_TYPES.map((type) => `/v1/${type}`),
];
