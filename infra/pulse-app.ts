import { isAbsolute, join } from 'node:path';
import { App, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadModelsForSynth } from './constructs/models.js';
import { PROJECT_ROOT } from './constructs/pulse-function.js';
import { glueDatabaseNameFor } from './constructs/snapshot-table.js';
import { DataStack } from './stacks/data-stack.js';
import { ServiceStack } from './stacks/service-stack.js';

/** CDK context keys the standalone app reads (`cdk.json` or `cdk deploy -c key=value`). */
export const CONTEXT = {
  modelsDir: 'pulse:modelsDir',
  stackPrefix: 'pulse:stackPrefix',
  jwtIssuer: 'pulse:jwtIssuer',
  jwtAudience: 'pulse:jwtAudience',
  shardCount: 'pulse:shardCount',
  retentionDays: 'pulse:retentionDays',
  hotMarginDays: 'pulse:hotMarginDays',
  maxConcurrency: 'pulse:maxConcurrency',
  throttleRateLimit: 'pulse:throttleRateLimit',
  throttleBurstLimit: 'pulse:throttleBurstLimit',
  alarmEmail: 'pulse:alarmEmail',
  schedulesEnabled: 'pulse:schedulesEnabled',
  eventsWarmWriteUnits: 'pulse:eventsWarmWriteUnits',
  nag: 'pulse:nag',
  glue: 'pulse:glue',
  alertWebhookUrl: 'pulse:alertWebhookUrl',
  alertWebhookSecretName: 'pulse:alertWebhookSecretName',
  alertWebhookHeader: 'pulse:alertWebhookHeader',
} as const;

/**
 * Feature flags the app is written and tested against. Set in code (not only in cdk.json) so tests that build the
 * app in-process get exactly what `cdk synth` gets; a value given as context still wins.
 */
export const FEATURE_FLAGS: Readonly<Record<string, unknown>> = {
  '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2': true,
  '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
  '@aws-cdk/core:checkSecretUsage': true,
  '@aws-cdk/core:validateSnapshotRemovalPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-apigateway:disableCloudWatchRole': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  // CloudFormation exports: the data stack cannot be deleted while the service stack uses its tables and bucket.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};

export interface PulseApp {
  app: App;
  data: DataStack;
  service: ServiceStack;
}

/**
 * The standalone Pulse app: a data stack and a service stack, checked by cdk-nag (AwsSolutions). Models are read
 * and validated here, at synth time: an invalid model stops the synth naming the file and field.
 */
export function createPulseApp(app: App = new App(), env?: Environment): PulseApp {
  for (const [flag, value] of Object.entries(FEATURE_FLAGS))
    if (app.node.tryGetContext(flag) === undefined) app.node.setContext(flag, value);
  const ctx = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const num = (key: string): number | undefined => {
    const value = ctx(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`context ${key} must be a positive whole number, got "${value}"`);
    return n;
  };

  const modelsDirSetting = ctx(CONTEXT.modelsDir) ?? 'models';
  const modelsDir = isAbsolute(modelsDirSetting) ? modelsDirSetting : join(PROJECT_ROOT, modelsDirSetting);
  const models = loadModelsForSynth(modelsDir);
  const prefix = ctx(CONTEXT.stackPrefix) ?? 'Pulse';
  const issuer = ctx(CONTEXT.jwtIssuer);
  const audience = ctx(CONTEXT.jwtAudience);
  if ((issuer === undefined) !== (audience === undefined))
    throw new Error(`set both ${CONTEXT.jwtIssuer} and ${CONTEXT.jwtAudience} for JWT auth, or neither for IAM auth`);

  const alertWebhookUrl = ctx(CONTEXT.alertWebhookUrl);
  const data = new DataStack(app, `${prefix}Data`, {
    env,
    description: 'Pulse engagement scoring: events and scores tables, snapshot bucket, write keys (retained)',
    data: { eventsWarmWriteUnits: num(CONTEXT.eventsWarmWriteUnits), archiveRetentionDays: num(CONTEXT.retentionDays) },
  });
  const service = new ServiceStack(app, `${prefix}Service`, {
    env,
    description: 'Pulse engagement scoring: ingest and scores API, scoring runs, schedules, alerts, Athena table',
    data: data.data,
    models,
    jwt: issuer && audience ? { issuer, audience: audience.split(',').map((a) => a.trim()) } : undefined,
    shardCount: num(CONTEXT.shardCount),
    retentionDays: num(CONTEXT.retentionDays),
    hotMarginDays: num(CONTEXT.hotMarginDays),
    maxConcurrency: num(CONTEXT.maxConcurrency),
    throttleRateLimit: num(CONTEXT.throttleRateLimit),
    throttleBurstLimit: num(CONTEXT.throttleBurstLimit),
    schedulesEnabled: ctx(CONTEXT.schedulesEnabled) !== 'false',
    // Account-unique names come from the prefix, so a second copy (another prefix) deploys beside the first.
    glueDatabaseName: glueDatabaseNameFor(prefix),
    glue: ctx(CONTEXT.glue) !== 'false',
    alertWebhook: alertWebhookUrl
      ? {
          url: alertWebhookUrl,
          secretName: ctx(CONTEXT.alertWebhookSecretName),
          headerName: ctx(CONTEXT.alertWebhookHeader),
        }
      : undefined,
  });

  const email = ctx(CONTEXT.alarmEmail);
  if (email) {
    const topic = new Topic(service, 'AlarmTopic', { displayName: 'Pulse alarms', enforceSSL: true });
    topic.addSubscription(new EmailSubscription(email));
    const action = new SnsAction(topic);
    for (const alarm of service.service.monitoring.alarms) alarm.addAlarmAction(action);
  }

  for (const stack of [data, service]) Tags.of(stack).add('app', 'pulse');
  if (ctx(CONTEXT.nag) !== 'false') Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, data, service };
}
