import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { makeArchiveHandler } from '../../shared/archive/archive-step.js';
import { awsArchiveDeps, awsRunDeps, parseRunConfig } from '../../shared/run/aws-config.js';
import { makeWorkerHandler } from '../../shared/run/handlers.js';

// Cold start: configuration and models checked, clients created once, reused by every invocation.
const config = parseRunConfig(process.env);
const clients = { dynamo: new DynamoDBClient({}), s3: new S3Client({}), eventBridge: new EventBridgeClient({}) };
const scoreShards = makeWorkerHandler(awsRunDeps(config, clients));
// The daily archive step runs here too: it reads what a worker reads (the events table) and writes to the bucket.
const archive = makeArchiveHandler(awsArchiveDeps(config, clients));

// The Lambda context goes on to the worker: its remaining time is what makes a shard checkpoint instead of timing out.
export const handler = (input: unknown, context?: Parameters<typeof scoreShards>[1]) =>
  input !== null && typeof input === 'object' && 'archive' in input ? archive(input) : scoreShards(input, context);
