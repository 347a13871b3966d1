import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { awsRunDeps, parseRunConfig } from '../../shared/run/aws-config.js';
import { makePlanHandler } from '../../shared/run/handlers.js';

// Cold start: configuration and models checked, clients created once, reused by every invocation.
const config = parseRunConfig(process.env);
const deps = awsRunDeps(config, {
  dynamo: new DynamoDBClient({}),
  s3: new S3Client({}),
  eventBridge: new EventBridgeClient({}),
});

export const handler = makePlanHandler(deps, config.snapshotBucket);
