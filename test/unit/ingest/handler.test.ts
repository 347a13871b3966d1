import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseIngestConfig, secretWriteKeys } from '../../../functions/ingest/config.js';
import { makeHandler } from '../../../functions/ingest/make-handler.js';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';

const secretsMock = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pulse-write-keys';

beforeEach(() => secretsMock.reset());

describe('ingest configuration', () => {
  it('reads the tables, secret and defaults (16 shards, 400 days) from the environment', () => {
    // Act
    const config = parseIngestConfig({
      PULSE_EVENTS_TABLE: 'events',
      PULSE_SCORES_TABLE: 'scores',
      PULSE_WRITE_KEYS_SECRET_ARN: ARN,
    });

    // Assert
    expect(config).toEqual({
      eventsTable: 'events',
      scoresTable: 'scores',
      writeKeysSecretArn: ARN,
      shardCount: 16,
      retentionDays: 400,
    });
  });

  it('fails fast naming every missing or invalid variable', () => {
    expect(() => parseIngestConfig({ PULSE_SHARD_COUNT: '0' })).toThrow(
      /PULSE_EVENTS_TABLE.*PULSE_SCORES_TABLE.*PULSE_WRITE_KEYS_SECRET_ARN.*PULSE_SHARD_COUNT/,
    );
  });
});

describe('write keys from Secrets Manager', () => {
  it('loads {"writeKeys":[...]} once and serves it from the cache until the TTL passes', async () => {
    // Arrange
    let now = 0;
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ writeKeys: ['k1', 'k2'] }) });
    const keys = secretWriteKeys(secrets, ARN, { ttlMs: 1000, clock: () => now });

    // Act
    const [a, b] = await Promise.all([keys(), keys()]);
    now = 500;
    await keys();
    now = 1500;
    await keys();

    // Assert
    expect(a).toEqual(['k1', 'k2']);
    expect(b).toEqual(['k1', 'k2']);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('accepts the single-key shape CloudFormation generates: {"writeKeys":"<key>"}', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ writeKeys: 'generated-key' }) });

    const keys = await secretWriteKeys(secrets, ARN, { ttlMs: 1000, clock: () => 0 })();

    expect(keys).toEqual(['generated-key']);
  });

  it('keeps serving the last good keys when a refresh fails, and fails when it never loaded', async () => {
    // Arrange
    let now = 0;
    secretsMock
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ writeKeys: ['k1'] }) })
      .rejects(new Error('throttled'));
    const keys = secretWriteKeys(secrets, ARN, { ttlMs: 10, clock: () => now });
    const broken = secretWriteKeys(new SecretsManagerClient({ region: 'us-east-1' }), ARN);

    // Act
    await keys();
    now = 100;
    const stale = await keys();

    // Assert
    expect(stale).toEqual(['k1']);
    await expect(broken()).rejects.toThrow();
  });
});

describe('the Lambda entry', () => {
  it('answers an API Gateway HTTP API event through the same app', async () => {
    // Arrange
    const events = new InMemoryEventStore();
    const handler = makeHandler({
      ingest: {
        events,
        entities: new InMemoryEntityStore(),
        writeKeys: staticWriteKeys(['k']),
        telemetry: { record: () => {} },
      },
    });
    const body = JSON.stringify({ events: [{ name: 'login', userId: 'u1', timestamp: Date.now() - 1000 }] });
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/v1/events',
      rawQueryString: '',
      headers: { authorization: `Basic ${Buffer.from('k:').toString('base64')}`, 'content-type': 'application/json' },
      requestContext: {
        http: { method: 'POST', path: '/v1/events', protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'test' },
        requestId: 'req-1',
        routeKey: '$default',
        stage: '$default',
        accountId: '123456789012',
        apiId: 'api',
        domainName: 'example.com',
        domainPrefix: 'example',
        time: '',
        timeEpoch: 0,
      },
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
    } as unknown as Parameters<typeof handler>[0];

    // Act
    const result = await handler(event, { awsRequestId: 'req-1' } as Context);

    // Assert
    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body)).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect(events.size).toBe(1);
  });
});
