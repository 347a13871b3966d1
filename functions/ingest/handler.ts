import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ingestDeps, parseIngestConfig } from './config.js';
import { makeHandler } from './make-handler.js';

// Cold start: configuration checked, clients created once, reused by every invocation of this instance.
const config = parseIngestConfig(process.env);
const dynamo = new DynamoDBClient({});
const secrets = new SecretsManagerClient({});

export const handler = makeHandler(ingestDeps(config, { dynamo, secrets }));
