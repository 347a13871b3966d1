import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DynamoAlertStore } from '../../../shared/adapters/dynamodb/alert-store.js';
import { DynamoEntityStore } from '../../../shared/adapters/dynamodb/entity-store.js';
import { DynamoEventStore } from '../../../shared/adapters/dynamodb/event-store.js';
import { DynamoRunStore } from '../../../shared/adapters/dynamodb/run-store.js';
import { DynamoScoreStore } from '../../../shared/adapters/dynamodb/score-store.js';
import { InMemoryAlertSink } from '../../../shared/adapters/memory/alert-sink.js';
import { S3SnapshotStore } from '../../../shared/adapters/s3/snapshot-store.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { SNAPSHOT_COLUMNS } from '../../../shared/domain/snapshot-schema.js';
import { InvalidCursorError } from '../../../shared/ports/errors.js';
import type { StoredScore } from '../../../shared/ports/score-store.js';
import type { RunDeps } from '../../../shared/run/deps.js';
import { manifestKey, partitionPrefix } from '../../../shared/run/keys.js';
import { LocalRunner } from '../../../shared/run/local-runner.js';
import type { SnapshotManifest } from '../../../shared/run/snapshot.js';
import { DUCKDB_TYPES } from '../../support/duckdb.js';
import { describeOnDynamoEngines, useDynamo } from '../../support/dynamo.js';
import { loaded, USAGE_MODEL } from '../../support/run-fixture.js';
import { type S3Harness, startS3rver } from '../../support/s3.js';

const SHARDS = 4;
const BANDS = ['low', 'mid', 'high'];
const usage = USAGE_MODEL;

function userEvents(): ScoringEvent[] {
  const out: ScoringEvent[] = [];
  for (let u = 0; u < 30; u++) {
    for (let d = 1; d <= 4; d++) {
      const n = (u * d) % 6;
      for (let i = 0; i < n; i++) {
        out.push({
          eventId: `e-${u}-${d}-${i}`,
          name: 'login',
          userId: `user-${u}`,
          timestamp: Date.parse(`2026-04-0${d}T08:00:00Z`) + i * 1000,
        });
      }
    }
    if (u % 4 === 0) {
      out.push({
        eventId: `r-${u}`,
        name: 'report_exported',
        userId: `user-${u}`,
        accountId: 'acme',
        timestamp: Date.parse('2026-04-02T12:00:00Z'),
        properties: { format: 'csv' },
      });
    }
  }
  return out;
}

/** Copy a partition's objects out of S3 as a BI tool's sync would, keeping the hive layout. */
async function download(deps: RunDeps, prefix: string, dir: string): Promise<void> {
  for (const key of await deps.objects.list(prefix)) {
    const path = join(dir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, (await deps.objects.get(key))!);
  }
}

describeOnDynamoEngines('run against s3rver and', (engine) => {
  const dynamo = useDynamo(engine.start);
  let s3: S3Harness;
  let deps: RunDeps & { scores: DynamoScoreStore; alertSink: InMemoryAlertSink };
  let duck: DuckDBConnection;
  let work: string;

  beforeAll(async () => {
    s3 = await startS3rver();
    const { client, eventsTable, scoresTable } = dynamo;
    deps = {
      models: new Map([['usage', loaded(usage)]]),
      events: new DynamoEventStore({ client, tableName: eventsTable, shardCount: SHARDS, pageSize: 25 }),
      entities: new DynamoEntityStore({ client, tableName: scoresTable, shardCount: SHARDS }),
      scores: new DynamoScoreStore({ client, tableName: scoresTable, shardCount: SHARDS, pageSize: 5 }),
      runs: new DynamoRunStore({ client, tableName: scoresTable }),
      objects: new S3SnapshotStore({ client: s3.client, bucket: s3.bucket }),
      alertSink: new InMemoryAlertSink(),
      alertStore: new DynamoAlertStore({ client, tableName: scoresTable }),
      clock: () => Date.parse('2026-04-05T06:00:00Z'),
    };
    await deps.events.putEvents(userEvents());
    await deps.entities.upsert([
      {
        entityType: 'user',
        entityId: 'sleeper',
        traits: { plan: 'free' },
        seenAt: Date.parse('2026-03-01T00:00:00Z'),
      },
    ]);
    duck = await DuckDBConnection.create();
    work = mkdtempSync(join(tmpdir(), 'pulse-snap-'));
  });

  afterAll(async () => {
    duck?.closeSync();
    if (work) rmSync(work, { recursive: true, force: true });
    await s3?.stop();
  });

  it('ingest → run → current scores, history, score listing and a DuckDB-readable snapshot agree', async () => {
    // Arrange
    const runner = new LocalRunner(deps, { concurrency: 2 });

    // Act
    const first = await runner.run({ model: 'usage', asOf: '2026-04-02' });
    const second = await runner.run({ model: 'usage', asOf: '2026-04-04' });

    // Assert: runs
    expect(first.status).toBe('succeeded');
    expect(second).toMatchObject({ status: 'succeeded', counts: { entities: 29 } });
    expect(await deps.runs.get(second.runId)).toEqual(second);
    expect((await deps.runs.list('usage')).map((r) => r.runId).sort()).toEqual([first.runId, second.runId].sort());

    // Current scores: one per entity, O(1) by (entity, model); history one row per run, oldest first.
    const current: StoredScore[] = [];
    for (let s = 0; s < SHARDS; s++)
      for await (const page of deps.scores.listCurrentShard('usage', s)) current.push(...page);
    expect(current).toHaveLength(29);
    const sleeper = await deps.scores.getCurrent('user', 'sleeper', ['usage', 'other']);
    expect(sleeper).toEqual([
      expect.objectContaining({ score: -4, band: 'low', penalties: [{ rule: 'inactive', points: -4 }] }),
    ]);
    const u5 = current.find((c) => c.entityId === 'user-5')!;
    const history = await deps.scores.history({ entityType: 'user', entityId: 'user-5', model: 'usage' });
    expect(history.map((h) => h.asOf)).toEqual(['2026-04-03T00:00:00.000Z', '2026-04-05T00:00:00.000Z']);
    expect(history[1]).toMatchObject({ score: u5.score, delta: u5.delta, band: u5.band });
    expect(u5.delta).toBe(u5.score - history[0]!.score);
    expect(
      await deps.scores.history({
        entityType: 'user',
        entityId: 'user-5',
        model: 'usage',
        from: '2026-04-04T00:00:00.000Z',
      }),
    ).toHaveLength(1);

    // Listing: by band (highest first), score descending, across pages.
    const listed: { entityId: string; band: string; score: number }[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.scores.list({ model: 'usage', bands: BANDS, limit: 7, cursor });
      expect(page.items.length).toBeLessThanOrEqual(7);
      listed.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const expected = [...current].sort(
      (a, b) =>
        BANDS.indexOf(b.band) - BANDS.indexOf(a.band) || b.score - a.score || (a.entityId < b.entityId ? 1 : -1),
    );
    expect(listed.map((l) => l.entityId)).toEqual(expected.map((e) => e.entityId));
    const mids = await deps.scores.list({ model: 'usage', bands: BANDS, band: 'mid', limit: 100 });
    expect(mids.items.map((i) => i.entityId)).toEqual(expected.filter((e) => e.band === 'mid').map((e) => e.entityId));
    expect(mids.nextCursor).toBeNull();

    // Snapshot: manifest last, read by DuckDB from the downloaded partition as a BI tool would.
    await download(deps, 'snapshots/model=usage/', join(work, 'a'));
    const manifest = JSON.parse(
      new TextDecoder().decode((await deps.objects.get(manifestKey('usage', '2026-04-04')))!),
    ) as SnapshotManifest;
    expect(manifest).toMatchObject({ runId: second.runId, rowCount: 29, schemaVersion: 2 });
    const glob = join(work, 'a', 'snapshots', 'model=usage', 'dt=2026-04-04', '*.parquet');
    const described = (
      await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob}', hive_partitioning = false)`)
    ).getRowObjectsJS();
    expect(described.map((d) => [d.column_name, d.column_type])).toEqual(
      SNAPSHOT_COLUMNS.map((c) => [c.name, DUCKDB_TYPES[c.type]]),
    );
    const rows = (
      await duck.runAndReadAll(
        `SELECT entity_id, score, band, delta, previous_score, event_count, epoch_ms(as_of) AS as_of_ms, contributions FROM read_parquet('${glob}') ORDER BY entity_id`,
      )
    ).getRowObjectsJS();
    expect(rows).toHaveLength(29);
    for (const row of rows) {
      const stored = current.find((c) => c.entityId === row.entity_id)!;
      expect(row).toMatchObject({
        score: stored.score,
        band: stored.band,
        delta: stored.delta,
        previous_score: stored.previousScore,
      });
      expect(row.event_count).toBe(BigInt(stored.coverage.events));
      expect(row.as_of_ms).toBe(BigInt(Date.parse(stored.asOf)));
      expect(JSON.parse(row.contributions as string)).toEqual({
        contributions: stored.contributions,
        penalties: stored.penalties,
      });
    }
    const hive = (
      await duck.runAndReadAll(
        `SELECT dt::VARCHAR AS dt, count(*) AS n FROM read_parquet('${join(work, 'a', 'snapshots', 'model=usage', '*', '*.parquet')}', hive_partitioning = true) GROUP BY dt ORDER BY dt`,
      )
    ).getRowObjectsJS();
    expect(hive).toEqual([
      { dt: '2026-04-02', n: 29n },
      { dt: '2026-04-04', n: 29n },
    ]);

    // Alerts are stored for /v1/alerts.
    const alerts = await deps.alertStore.list({ since: '2026-04-05T00:00:00.000Z', models: ['usage'], limit: 1000 });
    expect(alerts.items.length).toBe(deps.alertSink.published.length);
    expect(alerts.items.length).toBeGreaterThan(0);
  });

  it('refuses crafted score and alert cursors before any read; a resumed page costs one page of reads', async () => {
    // Arrange: count every request the stores send from here on.
    let requests = 0;
    dynamo.client.middlewareStack.add(
      (next) => async (args) => {
        requests++;
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const nulls = Array.from({ length: 8 }, () => null);
    const scoreCursors = [
      b64({ m: 'usage', f: null, b: -1e6, a: nulls }),
      b64({ m: 'usage', f: null, b: 0.5, a: nulls }),
      b64({ m: 'usage', f: null, b: 99, a: nulls }),
      b64({ m: 'usage', f: null, b: 0, a: nulls.map(() => '') }),
      b64({ m: 'usage', f: null, b: 0, a: [null] }),
      b64({ m: 'other', f: null, b: 0, a: nulls }),
      b64({ m: 'usage', f: null, b: 0, a: nulls, extra: 1 }),
      b64('x'.repeat(20_000)),
      'not base64!',
    ];
    const alertCursors = [b64(['', '', '']), b64(['']), b64([42]), b64({ a: 1 }), b64(['2026-04-05#x'])];

    try {
      // Act + Assert: each refused as the caller's mistake, without reading anything.
      for (const cursor of scoreCursors) {
        await expect(deps.scores.list({ model: 'usage', bands: BANDS, limit: 7, cursor }), cursor).rejects.toThrow(
          InvalidCursorError,
        );
      }
      for (const cursor of alertCursors) {
        await expect(
          deps.alertStore.list({ since: '2026-04-01T00:00:00.000Z', models: ['usage'], limit: 5, cursor }),
          cursor,
        ).rejects.toThrow(InvalidCursorError);
      }
      expect(requests).toBe(0);

      // A well-formed cursor past every key (or before `since`) reads one page at most and ends the listing.
      const past = b64({ m: 'usage', f: null, b: BANDS.length - 1, a: nulls.map(() => `${'0'.repeat(16)}#user#a`) });
      const page = await deps.scores.list({ model: 'usage', bands: BANDS, limit: 7, cursor: past });
      expect(page).toEqual({ items: [], nextCursor: null });
      expect(requests).toBeLessThanOrEqual(8);
      requests = 0;
      const old = b64(['2026-01-01T00:00:00.000Z#BandChanged#user#u']);
      const alerts = await deps.alertStore.list({
        since: '2026-04-01T00:00:00.000Z',
        models: ['usage'],
        cursor: old,
      });
      expect(alerts).toEqual({ items: [], nextCursor: null });
      expect(requests).toBe(0);
    } finally {
      dynamo.client.middlewareStack.remove('countRequests');
    }
  });

  it('a re-run of the same (model, as-of) writes identical rows and replaces the partition', async () => {
    // Arrange
    const runner = new LocalRunner(deps, { concurrency: 2 });
    const read = async (dir: string) => {
      await download(deps, partitionPrefix('usage', '2026-04-04'), join(work, dir));
      const glob = join(work, dir, 'snapshots', 'model=usage', 'dt=2026-04-04', '*.parquet');
      return (await duck.runAndReadAll(`SELECT * FROM read_parquet('${glob}') ORDER BY entity_id`)).getRowObjectsJson();
    };
    const before = await read('before');
    const currentBefore = await deps.scores.getCurrent('user', 'user-7', ['usage']);

    // Act
    const rerun = await runner.run({ model: 'usage', asOf: '2026-04-04' });

    // Assert
    expect(rerun.status).toBe('succeeded');
    expect(await read('after')).toEqual(before);
    expect(await deps.scores.getCurrent('user', 'user-7', ['usage'])).toEqual(currentBefore);
    const keys = await deps.objects.list(partitionPrefix('usage', '2026-04-04'));
    expect(keys.filter((k) => k.endsWith('.parquet')).every((k) => k.includes(rerun.runId))).toBe(true);
    expect(keys).toContain(manifestKey('usage', '2026-04-04'));
    expect(await deps.scores.history({ entityType: 'user', entityId: 'user-7', model: 'usage' })).toHaveLength(2);
  });

  it('an S3 PUT failing mid-publication leaves no manifest, and running again publishes a clean partition', async () => {
    // Arrange: the second Parquet part of the next run fails.
    let parts = 0;
    let failing = true;
    const objects = deps.objects;
    const flaky = {
      ...objects,
      put: async (key: string, body: Uint8Array | string, type: string) => {
        if (failing && key.endsWith('.parquet') && ++parts === 2) throw new Error('S3 PUT failed: InternalError');
        return objects.put(key, body, type);
      },
      get: (key: string) => objects.get(key),
      list: (prefix: string) => objects.list(prefix),
      delete: (keys: readonly string[]) => objects.delete(keys),
      uri: (key: string) => objects.uri(key),
    };
    const runner = new LocalRunner({ ...deps, objects: flaky, snapshotPartRows: 2 });

    // Act
    const failed = await runner.run({ model: 'usage', asOf: '2026-04-03' });
    const left = await objects.list(partitionPrefix('usage', '2026-04-03'));
    failing = false;
    const retried = await runner.run({ model: 'usage', asOf: '2026-04-03' });

    // Assert
    expect(failed).toMatchObject({ status: 'failed', error: 'S3 PUT failed: InternalError', snapshot: null });
    expect(left.filter((k) => k.endsWith('_manifest.json'))).toEqual([]);
    expect(retried.status).toBe('succeeded');
    const manifest = JSON.parse(
      new TextDecoder().decode((await objects.get(manifestKey('usage', '2026-04-03')))!),
    ) as SnapshotManifest;
    const keys = await objects.list(partitionPrefix('usage', '2026-04-03'));
    expect(keys).toEqual([...manifest.files.map((f) => f.key), manifestKey('usage', '2026-04-03')].sort());
    expect(manifest.files.every((f) => f.key.includes(retried.runId))).toBe(true);
  });
});
