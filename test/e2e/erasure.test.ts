// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveManifestKey, archivePartKey } from '../../shared/archive/keys.js';
import { encodeEventsParquet } from '../../shared/archive/parquet-events.js';
import { erasureHash } from '../../shared/domain/erasure.js';
import { shardOf } from '../../shared/domain/shard.js';
import { DAY, dateOf, embeddedS3, logins, parquetRows, runPulse, serverEnv, useLocalServer } from './support.js';

/**
 * Erasure (docs/api.md#erasure) against the real local server: export holds a user's data, DELETE removes it from
 * the tables, the snapshots and the event archive (both read back by DuckDB from the embedded S3), later runs and
 * ingest do not bring it back, other users are untouched, a repeat answers the same, and the audit log has no id.
 */

const SHARDS = 16;
const acmeLogins = (userId: string, n: number, daysAgo: number) => logins(userId, n, daysAgo, { accountId: 'acme' });

/** The archived day the test puts in the bucket: as the archive step would have written it a month ago. */
const ARCHIVED_DAYS_AGO = 30;

describe('erasure, on the local server', () => {
  const local = useLocalServer('erase');
  let s3: S3Client;

  const send = async (method: string, path: string) => {
    const response = await fetch(`${local.api.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${local.token}` },
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  /** Rows of every Parquet file under a prefix, read by DuckDB as a BI tool would (copied out of the embedded S3). */
  const rowsUnder = (prefix: string, columns: string) => parquetRows(s3, prefix, local.data.path, columns);

  async function manifest(key: string): Promise<any> {
    const body = await s3.send(new GetObjectCommand({ Bucket: 'pulse-local', Key: key }));
    return JSON.parse(await body.Body!.transformToString());
  }

  beforeAll(async () => {
    s3 = embeddedS3(local.env);
    // gone (to be erased) and kept (a bystander): logins 3 days ago, traits, scored twice.
    const ingest = await local.api.post(
      '/v1/events',
      { events: [...acmeLogins('gone', 6, 3), ...acmeLogins('kept', 5, 3)] },
      'write',
    );
    expect(ingest.status).toBe(202);
    const identify = await local.api.post(
      '/v1/identify',
      { userId: 'gone', traits: { email: 'gone@example.com' } },
      'write',
    );
    expect(identify.status).toBe(200);
    expect((await local.api.run({ model: 'activity', asOf: dateOf(2) })).status).toBe('succeeded');
    expect((await local.api.run({ model: 'activity', asOf: dateOf(1) })).status).toBe('succeeded');
    const override = await fetch(`${local.api.base}/v1/overrides/user/gone`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${local.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'activity',
        band: 'low',
        reason: 'churn call',
        expiresAt: new Date(Date.now() + 7 * DAY).toISOString(),
      }),
    });
    expect(override.status).toBe(200);
    // A day archived a month ago, holding both users' events (one file per user shard, manifest last).
    const date = dateOf(ARCHIVED_DAYS_AGO);
    const old = [...acmeLogins('gone', 3, ARCHIVED_DAYS_AGO), ...acmeLogins('kept', 2, ARCHIVED_DAYS_AGO)].map((e) => ({
      ...e,
      timestamp: Date.parse(e.timestamp),
    }));
    const files: any[] = [];
    for (const shard of new Set(old.map((e) => shardOf(e.userId, SHARDS)))) {
      const events = old.filter((e) => shardOf(e.userId, SHARDS) === shard);
      const body = encodeEventsParquet(events);
      const key = archivePartKey(date, shard);
      await s3.send(new PutObjectCommand({ Bucket: 'pulse-local', Key: key, Body: body }));
      files.push({ key, shard, rows: events.length, bytes: body.byteLength });
    }
    const columns = [
      { name: 'event_id', type: 'string', nullable: false },
      { name: 'user_id', type: 'string', nullable: false },
      { name: 'account_id', type: 'string', nullable: true },
      { name: 'name', type: 'string', nullable: false },
      { name: 'occurred_at', type: 'timestamp', nullable: false },
      { name: 'properties', type: 'string', nullable: true },
    ];
    await s3.send(
      new PutObjectCommand({
        Bucket: 'pulse-local',
        Key: archiveManifestKey(date),
        Body: JSON.stringify({
          schemaVersion: 1,
          date,
          shardCount: SHARDS,
          rowCount: old.length,
          files,
          columns,
          archivedAt: new Date().toISOString(),
        }),
      }),
    );
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
  });

  it('export holds the user before; DELETE erases it from the tables, snapshots and archive, others untouched', async () => {
    // Arrange
    const before = await local.api.get('/v1/entities/user/gone/export');
    expect(before.status).toBe(200);
    // Six events in the table, three in the archived day.
    expect(before.body.events).toHaveLength(9);
    expect(before.body.overrides).toHaveLength(1);
    const snapshotsBefore = await rowsUnder('snapshots/model=activity/', 'entity_id');
    expect(snapshotsBefore.filter((r) => r.entity_id === 'gone')).toHaveLength(2);
    const archiveBefore = await rowsUnder(`events/dt=${dateOf(ARCHIVED_DAYS_AGO)}/`, 'user_id');
    expect(archiveBefore.filter((r) => r.user_id === 'gone')).toHaveLength(3);

    // Act
    const erased = await send('DELETE', '/v1/entities/user/gone');

    // Assert: the answer says what went where.
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      entityType: 'user',
      entityId: 'gone',
      status: 'completed',
      pending: [],
      erased: { events: 6, entity: 1, scores: 1, history: 2, overrides: 1 },
      objects: { snapshotFiles: 2, snapshotRows: 2, archiveFiles: 1, archiveRows: 3 },
    });
    // Tables: nothing left to export; the bystander keeps everything.
    expect((await local.api.get('/v1/entities/user/gone/export')).status).toBe(404);
    expect((await local.api.get('/v1/scores/user/gone')).status).toBe(404);
    const kept = await local.api.get('/v1/entities/user/kept/export');
    expect(kept.body.events).toHaveLength(7);
    expect(kept.body.history).toHaveLength(2);
    // Snapshots and archive, as DuckDB reads them from the bucket.
    const snapshots = await rowsUnder('snapshots/model=activity/', 'entity_id');
    expect(snapshots.filter((r) => r.entity_id === 'gone')).toEqual([]);
    expect(snapshots.filter((r) => r.entity_id === 'kept')).toHaveLength(2);
    const archive = await rowsUnder(`events/dt=${dateOf(ARCHIVED_DAYS_AGO)}/`, 'user_id, event_id');
    expect(archive.filter((r) => r.user_id === 'gone')).toEqual([]);
    expect(archive.filter((r) => r.user_id === 'kept')).toHaveLength(2);
    const day = await manifest(archiveManifestKey(dateOf(ARCHIVED_DAYS_AGO)));
    expect(day.rowCount).toBe(2);
    const partition = await manifest(`snapshots/model=activity/dt=${dateOf(1)}/_manifest.json`);
    expect(partition.rowCount).toBe(1);
    expect(partition.rewrittenAt).toEqual(expect.any(String));
  });

  it('a later run does not bring it back, and its new events are refused naming userId', async () => {
    // Act
    const refused = await local.api.post(
      '/v1/events',
      { events: acmeLogins('gone', 2, 1).map((e) => ({ ...e, eventId: `new-${e.eventId}` })) },
      'write',
    );
    const mixed = await local.api.post(
      '/v1/events',
      {
        events: [...acmeLogins('gone', 1, 1), ...acmeLogins('kept', 1, 1)].map((e) => ({
          ...e,
          eventId: `mixed-${e.eventId}`,
        })),
      },
      'write',
    );
    const identify = await local.api.post('/v1/identify', { userId: 'gone', traits: { plan: 'pro' } }, 'write');
    const run = await local.api.run({ model: 'activity', asOf: dateOf(0) });

    // Assert
    expect(refused.status).toBe(400);
    expect(refused.body.rejected[0].errors[0]).toMatchObject({ path: 'userId' });
    expect(refused.body.rejected[0].errors[0].message).toMatch(/erased/);
    expect(mixed.status).toBe(202);
    expect(mixed.body).toMatchObject({ accepted: 1, rejected: [{ index: 0 }] });
    expect(identify.status).toBe(400);
    expect(identify.body.errors[0].path).toMatch(/userId/);
    expect(run.status).toBe('succeeded');
    expect((await local.api.get('/v1/scores/user/gone')).status).toBe(404);
    expect((await local.api.get('/v1/entities/user/gone/export')).status).toBe(404);
    const snapshot = await rowsUnder(`snapshots/model=activity/dt=${dateOf(0)}/`, 'entity_id');
    expect(snapshot.map((r) => r.entity_id)).toEqual(['kept']);
  });

  it('a second DELETE answers the same success; the audit log holds who and when, never the id', async () => {
    // Act
    const again = await send('DELETE', '/v1/entities/user/gone');
    const audit = await local.api.get('/v1/erasures');

    // Assert
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'completed', erased: { events: 0, entity: 0, scores: 0 } });
    expect(again.body.erasedSince < again.body.requestedAt).toBe(true);
    expect(audit.status).toBe(200);
    expect(audit.body.items).toHaveLength(2);
    expect(audit.body.items[1]).toMatchObject({
      action: 'erase',
      entityType: 'user',
      idHash: erasureHash('user', 'gone'),
      requestedBy: 'api-token',
      counts: { events: 6 },
      pending: [],
      completedAt: expect.any(String),
    });
    expect(JSON.stringify(audit.body)).not.toContain('gone');
  });

  it('pulse erase --lift accepts the user again; pulse erase erases another', async () => {
    // Act
    const lifted = await runPulse(['erase', 'user', 'gone', '--lift'], serverEnv(local.env));
    const accepted = await local.api.post(
      '/v1/events',
      { events: acmeLogins('gone', 1, 1).map((e) => ({ ...e, eventId: `back-${e.eventId}` })) },
      'write',
    );
    const cli = await runPulse(['erase', 'user', 'kept', '--json'], serverEnv(local.env));
    const noTombstone = await send('DELETE', '/v1/entities/user/never-erased/tombstone');

    // Assert
    expect(lifted.code).toBe(0);
    expect(accepted.status).toBe(202);
    expect(accepted.body.accepted).toBe(1);
    expect(cli.code).toBe(0);
    const result = JSON.parse(cli.output.slice(cli.output.indexOf('{')));
    expect(result).toMatchObject({ entityId: 'kept', status: 'completed', erased: { events: 6 } });
    expect((await rowsUnder('snapshots/model=activity/', 'entity_id')).map((r) => r.entity_id)).toEqual([]);
    expect(noTombstone.status).toBe(404);
  });
});
