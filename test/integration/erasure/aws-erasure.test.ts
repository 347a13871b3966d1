// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps } from '../../../functions/api/config.js';
import { DynamoEntityStore } from '../../../shared/adapters/dynamodb/entity-store.js';
import { DynamoEventStore } from '../../../shared/adapters/dynamodb/event-store.js';
import { DynamoScoreStore } from '../../../shared/adapters/dynamodb/score-store.js';
import { S3SnapshotStore } from '../../../shared/adapters/s3/snapshot-store.js';
import { archiveDates, makeArchiveHandler } from '../../../shared/archive/archive-step.js';
import { archivePartKey } from '../../../shared/archive/keys.js';
import { decodeEventsParquet } from '../../../shared/archive/parquet-events.js';
import { erasureHash } from '../../../shared/domain/erasure.js';
import { shardOf } from '../../../shared/domain/shard.js';
import { DAY_MS } from '../../../shared/domain/time.js';
import { apiRoutes } from '../../../shared/http/api-routes.js';
import { composeApp } from '../../../shared/http/app.js';
import { awsArchiveDeps } from '../../../shared/run/aws-config.js';
import { SnapshotPublication } from '../../../shared/run/snapshot.js';
import { startDynalite, useDynamo } from '../../support/dynamo.js';
import { type S3Harness, startS3rver } from '../../support/s3.js';
import { entityScore } from '../../support/scores.js';

/**
 * Export and erasure as the AWS functions run them, on dynalite and s3rver: the API function's own dependencies
 * (a bounded export read, erasure of the tables answering 202), then the archive step's sweep of the bucket.
 */

const SHARDS = 4;
const ROOT = join(import.meta.dirname, '../../..');
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const DATE = new Date(today - 2 * DAY_MS).toISOString().slice(0, 10);
const lambdaEnv = { event: { requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/dpo' } } } } };

const score = (entityId: string) =>
  entityScore({ entityId, accountId: 'acme', model: 'activity', asOf: `${DATE}T00:00:00.000Z`, score: 20 });

async function rows(objects: S3SnapshotStore, key: string): Promise<Record<string, unknown>[]> {
  const bytes = (await objects.get(key))!;
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return (await parquetReadObjects({ file })) as Record<string, unknown>[];
}

describe('export and erasure in AWS (API function deps, archive step sweep) on dynalite and s3rver', () => {
  const dynamo = useDynamo(startDynalite, 'aws-erase');
  let s3: S3Harness;
  let objects: S3SnapshotStore;
  let partKey: string;
  const app = () =>
    composeApp([
      apiRoutes(
        apiDeps(
          {
            eventsTable: dynamo.eventsTable,
            scoresTable: dynamo.scoresTable,
            modelsDir: join(ROOT, 'test/e2e/fixtures/models'),
            stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:runs',
            shardCount: SHARDS,
            retentionDays: 400,
          },
          { dynamo: dynamo.client, sfn: new SFNClient({ region: 'us-east-1' }) },
        ),
      ),
    ]);

  beforeAll(async () => {
    s3 = await startS3rver();
    objects = new S3SnapshotStore({ client: s3.client, bucket: s3.bucket });
    const events = new DynamoEventStore({ client: dynamo.client, tableName: dynamo.eventsTable, shardCount: SHARDS });
    const at = Date.parse(`${DATE}T10:00:00Z`);
    await events.putEvents(
      ['u1', 'u2'].flatMap((u) =>
        [0, 1, 2].map((i) => ({
          eventId: `${u}-${i}`,
          name: 'login',
          userId: u,
          accountId: 'acme',
          timestamp: at + i,
        })),
      ),
    );
    await new DynamoEntityStore({ client: dynamo.client, tableName: dynamo.scoresTable, shardCount: SHARDS }).upsert([
      { entityType: 'user', entityId: 'u1', traits: { email: 'u1@example.com' }, seenAt: at },
    ]);
    await new DynamoScoreStore({ client: dynamo.client, tableName: dynamo.scoresTable, shardCount: SHARDS }).write([
      { score: score('u1'), previous: null, current: true },
      { score: score('u2'), previous: null, current: true },
    ]);
    const publication = new SnapshotPublication(objects, { model: 'activity', date: DATE, runId: 'r1' });
    await publication.begin();
    partKey = (await publication.writePart(0, [score('u1'), score('u2')])).key;
    await publication.commit({
      modelVersion: 1,
      contentHash: 'x',
      asOf: `${DATE}T00:00:00.000Z`,
      windowDays: 7,
      createdAt: new Date().toISOString(),
    });
    await archiveDates({ hot: events, objects }, [DATE]);
  }, 120_000);

  afterAll(async () => {
    await s3?.stop();
  });

  it('exports a user by key and an account through the index, bounded, from the events table', async () => {
    // Act
    const user = await app().request('/v1/entities/user/u1/export', {}, lambdaEnv);
    const account = await app().request('/v1/entities/account/acme/export', {}, lambdaEnv);

    // Assert
    expect(user.status).toBe(200);
    const body = (await user.json()) as any;
    expect(body.events.map((e: any) => e.eventId)).toEqual(['u1-0', 'u1-1', 'u1-2']);
    expect(body).toMatchObject({ eventsTruncated: false, entity: { traits: { email: 'u1@example.com' } } });
    expect(body.scores).toHaveLength(1);
    expect(account.status).toBe(200);
    expect(((await account.json()) as any).events).toHaveLength(6);
  });

  it('DELETE erases the tables and answers 202 pending; the archive step sweeps snapshots and archive', async () => {
    // Act
    const erased = await app().request('/v1/entities/user/u1', { method: 'DELETE' }, lambdaEnv);
    const body = (await erased.json()) as any;
    const swept = await makeArchiveHandler(
      awsArchiveDeps(
        {
          eventsTable: dynamo.eventsTable,
          scoresTable: dynamo.scoresTable,
          snapshotBucket: s3.bucket,
          alertBus: 'bus',
          modelsDir: join(ROOT, 'test/e2e/fixtures/models'),
          shardCount: SHARDS,
        },
        { dynamo: dynamo.client, s3: s3.client },
      ),
    )({ archive: { from: DATE, to: DATE } });
    const audit = await app().request('/v1/erasures', {}, lambdaEnv);
    const log = (await audit.json()) as any;

    // Assert
    expect(erased.status).toBe(202);
    expect(body).toMatchObject({
      status: 'pending',
      pending: ['snapshots', 'archive'],
      objects: null,
      erased: { events: 3, entity: 1, scores: 1, history: 1 },
    });
    expect(swept.erasures).toMatchObject({ erasures: 1, snapshotFiles: 1, snapshotRows: 1, archiveRows: 3 });
    expect((await rows(objects, partKey)).map((r) => r.entity_id)).toEqual(['u2']);
    const archived = await decodeEventsParquet((await objects.get(archivePartKey(DATE, shardOf('u1', SHARDS))))!);
    expect(archived.map((e) => e.userId)).not.toContain('u1');
    expect((await app().request('/v1/entities/user/u1/export', {}, lambdaEnv)).status).toBe(404);
    expect((await app().request('/v1/entities/user/u2/export', {}, lambdaEnv)).status).toBe(200);
    expect(log.items[0]).toMatchObject({
      requestedBy: 'iam:arn:aws:iam::1:user/dpo',
      idHash: erasureHash('user', 'u1'),
      pending: [],
      objects: { snapshotRows: 1, archiveRows: 3 },
      completedAt: expect.any(String),
    });
  });
});
