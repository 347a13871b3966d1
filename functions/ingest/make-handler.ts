import { handle } from 'hono/aws-lambda';
import { type AppDeps, createApp } from '../../shared/http/app.js';

/** The ingest Lambda (API Gateway HTTP API) for the given dependencies. */
export function makeHandler(deps: AppDeps) {
  return handle(createApp(deps));
}
