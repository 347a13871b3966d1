import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { handle } from 'hono/aws-lambda';
import { apiRoutes } from '../../shared/http/api-routes.js';
import { composeApp } from '../../shared/http/app.js';
import { apiDeps, parseApiConfig } from './config.js';

// Cold start: configuration and models checked, clients created once, reused by every invocation.
const config = parseApiConfig(process.env);
const deps = apiDeps(config, { dynamo: new DynamoDBClient({}), sfn: new SFNClient({}) });

/** The scores API Lambda: the same app as local mode (without ingest, which has its own function). */
export const handler = handle(composeApp([apiRoutes(deps)]));
