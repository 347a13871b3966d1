// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localConfig } from '../../shared/local/config.js';
import { openLocalStack } from '../../shared/local/stack.js';
import { type DynamoHarness, haveJava, startDynamoDbLocal } from '../support/dynamo.js';
import { startLocalServerOn } from '../support/local-server.js';
import { type S3Harness, startS3rver } from '../support/s3.js';
import {
  Api,
  at,
  type Child,
  dateOf,
  E2E_MODELS,
  freePort,
  onFreePorts,
  ROOT,
  runPulse,
  serverEnv,
  startLocalServer,
  tempDir,
} from './support.js';

/**
 * Local mode on external services (docs/local-mode.md#external-services): `npm start`'s server as a child process
 * with PULSE_DYNAMODB_ENDPOINT at DynamoDB Local (byte-accurate limits, as in AWS) and PULSE_S3_ENDPOINT at an
 * S3-compatible server, ingesting, running and serving scores; restarted on the same services; the CLI's local
 * commands on the same store.
 */

const AS_OF = dateOf(10);
// u1..u4 with 1..4 logins twelve days ago: score 10 × logins under the 7-day `activity` fixture model.
const loginEvents = () =>
  [1, 2, 3, 4].flatMap((n) =>
    Array.from({ length: n }, (_, i) => ({
      eventId: `ext-u${n}-${i}`,
      name: 'login',
      userId: `u${n}`,
      timestamp: at(12, i),
    })),
  );
// A 256-emoji user id is 1,024 UTF-8 bytes: past the 256-byte id limit, refused by name, never a DynamoDB error.
const longId = '😀'.repeat(256);

describe.skipIf(!haveJava)(
  'local mode on DynamoDB Local and an external S3 (skipped: no java on PATH for DynamoDB Local)',
  () => {
    const data = tempDir('pulse-ext-');
    const token = 'ext-api-token';
    const writeKey = 'ext-write-key';
    const bucket = 'pulse-ext-snapshots';
    let dynamo: DynamoHarness;
    let s3: S3Harness;
    let env: Parameters<typeof startLocalServer>[0];
    let server: Child | undefined;
    let api: Api;

    beforeAll(async () => {
      [dynamo, s3] = await Promise.all([startDynamoDbLocal({ sharedDb: true }), startS3rver('pulse-unrelated')]);
      env = await onFreePorts({
        dataDir: data.path,
        apiToken: token,
        writeKey,
        modelsDir: E2E_MODELS,
        extra: {
          PULSE_DYNAMODB_ENDPOINT: dynamo.endpoint,
          PULSE_S3_ENDPOINT: s3.endpoint,
          PULSE_S3_BUCKET: bucket,
          // s3rver's only key pair; DynamoDB Local runs with -sharedDb, so any key reads the same tables.
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
        },
      });
      server = await startLocalServer(env);
      api = new Api(`http://127.0.0.1:${env.port}`, token, writeKey);
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      await Promise.all([dynamo?.stop(), s3?.stop()]);
      data.remove();
    });

    it('creates the tables and the bucket on the external services, and keeps no embedded store', async () => {
      // Act
      const tables = await dynamo.client.send(new ListTablesCommand({}));
      const buckets = await s3.client.send(new ListBucketsCommand({}));

      // Assert
      expect(tables.TableNames).toEqual(expect.arrayContaining(['pulse-events', 'pulse-scores']));
      expect(buckets.Buckets?.map((b) => b.Name)).toContain(bucket);
      expect(existsSync(join(data.path, 'dynamodb'))).toBe(false);
      expect(existsSync(join(data.path, 's3'))).toBe(false);
      expect(server?.output()).toContain(`DynamoDB    ${dynamo.endpoint}`);
      expect(server?.output()).toContain(`S3          ${s3.endpoint} (bucket ${bucket})`);
    });

    it('ingests, runs and serves scores; the snapshot lands in the external bucket', async () => {
      // Act
      const ingest = await api.post('/v1/events', { events: loginEvents() }, 'write');
      const resend = await api.post('/v1/events', { events: loginEvents() }, 'write');
      const run = await api.run({ model: 'activity', asOf: AS_OF });
      const list = await api.get('/v1/scores?model=activity');
      const one = await api.get('/v1/scores/user/u3?model=activity');
      const manifest = await s3.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: `snapshots/model=activity/dt=${AS_OF}/_manifest.json` }),
      );

      // Assert
      expect(ingest).toMatchObject({ status: 202, body: { accepted: 10, duplicates: 0, rejected: [] } });
      expect(resend).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 10 } });
      expect(run).toMatchObject({ status: 'succeeded', counts: { entities: 4, events: 10 }, error: null });
      expect(list.body.items.map((i: any) => [i.entityId, i.score])).toEqual([
        ['u4', 40],
        ['u3', 30],
        ['u2', 20],
        ['u1', 10],
      ]);
      expect(one.body.scores[0]).toMatchObject({ score: 30, contributions: [{ signal: 'logins', value: 3 }] });
      expect(JSON.parse(await manifest.Body!.transformToString())).toMatchObject({ rowCount: 4 });
    });

    it('refuses an id past the byte limit by name and stores its neighbour', async () => {
      // Act
      const response = await api.post(
        '/v1/events',
        {
          events: [
            { eventId: 'ext-long', name: 'login', userId: longId, timestamp: at(12, 30) },
            { eventId: 'ext-good', name: 'login', userId: 'u9', timestamp: at(12, 31) },
          ],
        },
        'write',
      );

      // Assert
      expect(response.status).toBe(202);
      expect(response.body).toMatchObject({ accepted: 1, rejected: [{ index: 0 }] });
      expect(JSON.stringify(response.body.rejected[0].errors)).toContain('userId');
    });

    it('stops on SIGINT with exit code 0, starts again on the same services (tables and bucket exist) and keeps the scores', async () => {
      // Act
      const code = await server!.stop('SIGINT');
      server = await startLocalServer(env);
      const one = await api.get('/v1/scores/user/u4?model=activity');
      const again = await api.post('/v1/events', { events: loginEvents() }, 'write');

      // Assert
      expect(code).toBe(0);
      expect(one.body.scores[0]).toMatchObject({ score: 40 });
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 10 });
    });

    it("the CLI's local commands reach the same store through the running server, and alone once it stopped", async () => {
      // Act
      const through = await runPulse(['scores', '--model', 'activity'], serverEnv(env));
      await server!.stop('SIGINT');
      server = undefined;
      const alone = await runPulse(['scores', '--model', 'activity'], serverEnv(env));

      // Assert
      expect(through.code).toBe(0);
      expect(through.output).toMatch(/u4\s+.*40/);
      expect(alone.code).toBe(0);
      expect(alone.output).toMatch(/u4\s+.*40/);
    });

    it('two processes creating the same tables at once both start (creation is idempotent)', async () => {
      // Arrange: a fresh prefix, two data dirs.
      const dirs = [tempDir('pulse-ext-a-'), tempDir('pulse-ext-b-')];
      const envOf = (dir: string) => ({
        PULSE_DATA_DIR: dir,
        PULSE_DYNAMODB_ENDPOINT: dynamo.endpoint,
        PULSE_TABLE_PREFIX: 'pulse-race',
        PULSE_MODELS_DIR: join(ROOT, 'test/e2e/fixtures/models'),
      });

      // Act
      const stacks = await Promise.all(
        dirs.map((d) => openLocalStack(localConfig(envOf(d.path), d.path, { s3Port: 0, quiet: true }))),
      );
      const tables = await dynamo.client.send(new ListTablesCommand({}));
      await Promise.all(stacks.map((s) => s.close()));
      for (const d of dirs) d.remove();

      // Assert
      expect(stacks.map((s) => s.tables)).toEqual([
        { events: 'pulse-race-events', scores: 'pulse-race-scores' },
        { events: 'pulse-race-events', scores: 'pulse-race-scores' },
      ]);
      expect(tables.TableNames).toEqual(expect.arrayContaining(['pulse-race-events', 'pulse-race-scores']));
    });

    it('the test helper starts the in-process server on a shared DynamoDB Local, one table prefix per server', async () => {
      // Act
      const [a, b] = await Promise.all([
        startLocalServerOn('dynamodb-local', { dynamo }),
        startLocalServerOn('dynamodb-local', { dynamo }),
      ]);
      try {
        const apiA = new Api(a.url, a.apiToken, a.writeKey);
        const apiB = new Api(b.url, b.apiToken, b.writeKey);
        const posted = await apiA.post('/v1/events', { events: loginEvents() }, 'write');
        const inB = await apiB.post('/v1/events', { events: loginEvents() }, 'write');

        // Assert: the same events are new to the second server (its own tables).
        expect(posted.body).toMatchObject({ accepted: 10 });
        expect(inB.body).toMatchObject({ accepted: 10 });
        expect(a.env.PULSE_TABLE_PREFIX).not.toBe(b.env.PULSE_TABLE_PREFIX);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });
  },
);

describe('local mode refuses a bad external endpoint at start', () => {
  it('names PULSE_DYNAMODB_ENDPOINT when nothing answers there, exit code 1, no stack trace', async () => {
    // Arrange
    const data = tempDir('pulse-ext-bad-');
    const port = await freePort();
    const env = serverEnv(
      await onFreePorts({
        dataDir: data.path,
        apiToken: 't',
        writeKey: 'k',
        extra: { PULSE_DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` },
      }),
    );

    // Act
    const result = await runNode(['--import', 'tsx', 'shared/local/main.ts'], env);
    data.remove();

    // Assert
    expect(result.code).toBe(1);
    expect(result.output).toContain(`cannot reach the DynamoDB at PULSE_DYNAMODB_ENDPOINT=http://127.0.0.1:${port}`);
    expect(result.output).not.toMatch(/\n\s+at /);
  }, 60_000);
});

async function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const { spawnChild } = await import('./support.js');
  const child = spawnChild(process.execPath, args, env);
  const code = await child.exited;
  return { code, output: child.output() };
}
