import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  parseIngestConfig,
  secretWriteKeys,
  WRITE_KEY_MAX_STALE_MS,
  WRITE_KEY_REFRESH_MS,
  WRITE_KEY_RETRY_MS,
  WriteKeysStaleError,
} from '../../../functions/ingest/config.js';
import { makeHandler } from '../../../functions/ingest/make-handler.js';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { createApp } from '../../../shared/http/app.js';
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
  it('loads {"writeKeys":[...]} once and serves it from the cache until the refresh interval passes', async () => {
    // Arrange
    let now = 0;
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ writeKeys: ['k1', 'k2'] }) });
    const keys = secretWriteKeys(secrets, ARN, { refreshMs: 1000, clock: () => now });

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

    const keys = await secretWriteKeys(secrets, ARN, { refreshMs: 1000, clock: () => 0 })();

    expect(keys).toEqual(['generated-key']);
  });

  it('keeps serving the last good keys when a refresh fails, and fails when it never loaded', async () => {
    // Arrange
    let now = 0;
    secretsMock
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ writeKeys: ['k1'] }) })
      .rejects(new Error('throttled'));
    const keys = secretWriteKeys(secrets, ARN, { refreshMs: 10, clock: () => now });
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

describe('write-key revocation bound (docs/operations.md#revoking-a-write-key)', () => {
  const MINUTE = 60_000;
  const secretWith = (...keys: string[]) => ({ SecretString: JSON.stringify({ writeKeys: keys }) });

  it('defaults: refreshed every minute, honoured at most 15 minutes without a successful refresh, retried every 10 s', () => {
    expect(WRITE_KEY_REFRESH_MS).toBe(MINUTE);
    expect(WRITE_KEY_MAX_STALE_MS).toBe(15 * MINUTE);
    expect(WRITE_KEY_RETRY_MS).toBe(10_000);
  });

  it('a revoked key is gone after the next successful refresh', async () => {
    // Arrange
    let now = 0;
    secretsMock.on(GetSecretValueCommand).resolvesOnce(secretWith('old', 'new')).resolves(secretWith('new'));
    const keys = secretWriteKeys(secrets, ARN, { clock: () => now });

    // Act
    const before = await keys();
    now = MINUTE - 1;
    const cached = await keys();
    now = MINUTE;
    const after = await keys();

    // Assert
    expect(before).toEqual(['old', 'new']);
    expect(cached).toEqual(['old', 'new']);
    expect(after).toEqual(['new']);
  });

  it('while refreshing fails: the last good keys are honoured up to 15 minutes after the last load, refused after; a later success restores them', async () => {
    // Arrange
    let now = 0;
    const failures: { ageMs: number | undefined; honoured: boolean }[] = [];
    secretsMock
      .on(GetSecretValueCommand)
      .resolvesOnce(secretWith('k1'))
      .rejects(Object.assign(new Error('Secrets Manager down'), { name: 'InternalServiceError' }));
    const keys = secretWriteKeys(secrets, ARN, {
      clock: () => now,
      onRefreshFailed: ({ ageMs, honoured }) => failures.push({ ageMs, honoured }),
    });
    await keys();

    // Act
    const honoured: (readonly string[])[] = [];
    for (const at of [2 * MINUTE, 5 * MINUTE, 15 * MINUTE - 1]) {
      now = at;
      honoured.push(await keys());
    }
    now = 15 * MINUTE;
    const refused = await Promise.resolve(keys()).catch((error: unknown) => error);
    now = 20 * MINUTE;
    const stillRefused = await Promise.resolve(keys()).catch((error: unknown) => error);
    secretsMock.on(GetSecretValueCommand).resolves(secretWith('k1'));
    now = 20 * MINUTE + WRITE_KEY_RETRY_MS;
    const restored = await keys();

    // Assert
    expect(honoured).toEqual([['k1'], ['k1'], ['k1']]);
    expect(refused).toBeInstanceOf(WriteKeysStaleError);
    expect(stillRefused).toBeInstanceOf(WriteKeysStaleError);
    expect(restored).toEqual(['k1']);
    expect(failures[0]).toEqual({ ageMs: 2 * MINUTE, honoured: true });
    expect(failures.at(-1)).toEqual({ ageMs: 20 * MINUTE, honoured: false });
  });

  it('after a failed refresh, Secrets Manager is not asked again for 10 s (an outage is not hammered per request)', async () => {
    // Arrange
    let now = 0;
    secretsMock.on(GetSecretValueCommand).resolvesOnce(secretWith('k1')).rejects(new Error('throttled'));
    const keys = secretWriteKeys(secrets, ARN, { clock: () => now });
    await keys();

    // Act
    now = MINUTE;
    for (let i = 0; i < 50; i++) await keys();
    now = MINUTE + WRITE_KEY_RETRY_MS - 1;
    await keys();
    now = MINUTE + WRITE_KEY_RETRY_MS;
    await keys();

    // Assert: the first load, one failed refresh, one retry 10 s later.
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('ingest answers 503 with Retry-After (never 202) once the keys are too stale, and accepts again after a refresh', async () => {
    // Arrange
    let now = 0;
    secretsMock.on(GetSecretValueCommand).resolvesOnce(secretWith('k')).rejects(new Error('AccessDenied'));
    const events = new InMemoryEventStore();
    const app = createApp({
      ingest: {
        events,
        entities: new InMemoryEntityStore(),
        writeKeys: secretWriteKeys(secrets, ARN, { clock: () => now }),
        telemetry: { record: () => {} },
      },
    });
    const send = (eventId: string) =>
      app.request('/v1/events', {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('k:').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: [{ eventId, name: 'login', userId: 'u1', timestamp: Date.now() - 1000 }] }),
      });

    // Act
    const fresh = await send('e1');
    now = 14 * MINUTE;
    const stale = await send('e2');
    now = 16 * MINUTE;
    const refused = await send('e3');
    secretsMock.on(GetSecretValueCommand).resolves(secretWith('k'));
    now = 17 * MINUTE;
    const again = await send('e3');

    // Assert
    expect(fresh.status).toBe(202);
    expect(stale.status).toBe(202);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(again.status).toBe(202);
    expect(events.size).toBe(3);
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
