import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TABLE, SCORES_TABLE } from '../../shared/adapters/dynamodb/tables.js';
import { FIXTURE_MODELS, synthApp, Template } from './support.js';

describe('data stack', () => {
  let template: Template;

  beforeAll(() => {
    const { data } = synthApp({ 'pulse:modelsDir': FIXTURE_MODELS });
    template = Template.fromStack(data);
  });

  it.each([
    ['events', EVENTS_TABLE, 'byAccount'],
    ['scores', SCORES_TABLE, 'byScore'],
  ] as const)(
    'creates the %s table from the shared key spec: on demand, PITR, encrypted, TTL, protected',
    (_name, spec, index) => {
      // Arrange: the spec local mode and tests use is the one CDK must follow.
      const gsi = spec.globalSecondaryIndexes[0]!;

      // Act + Assert
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          KeySchema: [
            { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: spec.sortKey.name, KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          TimeToLiveSpecification: { AttributeName: spec.timeToLiveAttribute, Enabled: true },
          DeletionProtectionEnabled: true,
          GlobalSecondaryIndexes: [
            {
              IndexName: index,
              KeySchema: [
                { AttributeName: gsi.partitionKey.name, KeyType: 'HASH' },
                { AttributeName: gsi.sortKey.name, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      });
    },
  );

  it('has exactly two tables', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
  });

  it('keeps snapshots private, TLS-only, encrypted, versioned, with lifecycle rules and access logs', () => {
    // Act
    const buckets = template.findResources('AWS::S3::Bucket', {
      Properties: { VersioningConfiguration: { Status: 'Enabled' } },
    });
    const [id, bucket] = Object.entries(buckets)[0]!;

    // Assert
    expect(Object.keys(buckets)).toHaveLength(1);
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/AccessLogBucket/) } },
    });
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
    expect(rules).toContainEqual(
      expect.objectContaining({
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    );
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'runs/', ExpirationInDays: 14 }));
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('generates the write key in Secrets Manager, never in the template', () => {
    // Act
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    const [secret] = Object.values(secrets);

    // Assert
    expect(Object.keys(secrets)).toHaveLength(1);
    expect(secret!.Properties.GenerateSecretString).toMatchObject({
      GenerateStringKey: 'writeKeys',
      PasswordLength: 40,
    });
    expect(secret!.Properties.SecretString).toBeUndefined();
    expect(secret!.DeletionPolicy).toBe('Retain');
  });

  it('pre-warms the events table and its index when asked', () => {
    // Act
    const warm = Template.fromStack(
      synthApp({ 'pulse:modelsDir': FIXTURE_MODELS, 'pulse:eventsWarmWriteUnits': 10_000 }).data,
    );

    // Assert
    warm.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: Match.arrayWith([{ AttributeName: EVENTS_TABLE.partitionKey.name, KeyType: 'HASH' }]),
      WarmThroughput: { WriteUnitsPerSecond: 10_000 },
      GlobalSecondaryIndexes: [Match.objectLike({ WarmThroughput: { WriteUnitsPerSecond: 10_000 } })],
    });
    template.allResourcesProperties('AWS::DynamoDB::Table', { WarmThroughput: Match.absent() });
  });
});
