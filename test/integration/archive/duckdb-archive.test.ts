import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySnapshotStore } from '../../../shared/adapters/fs/snapshot-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { EventArchive } from '../../../shared/archive/event-archive.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { EVENT_ARCHIVE_COLUMNS } from '../../../shared/domain/event-archive-schema.js';
import { shardOf } from '../../../shared/domain/shard.js';
import { DUCKDB_TYPES } from '../../support/duckdb.js';

const SHARDS = 4;

describe('the event archive as an analyst reads it (DuckDB over the bucket layout, Hive partitions)', () => {
  let duck: DuckDBConnection;
  let dir: string;
  const events: ScoringEvent[] = [];

  beforeAll(async () => {
    duck = await DuckDBConnection.create();
    dir = mkdtempSync(join(tmpdir(), 'pulse-archive-'));
    for (let d = 0; d < 3; d++) {
      for (let i = 0; i < 40; i++) {
        events.push({
          eventId: `e-${d}-${i}`,
          name: i % 3 === 0 ? 'login' : 'report_exported',
          userId: `user-${i % 9}`,
          accountId: i % 9 === 8 ? undefined : `acct-${i % 2}`,
          timestamp: Date.parse(`2026-04-0${d + 1}T00:00:00Z`) + i * 60_000,
          properties: i % 5 === 0 ? { minutes: i, tags: ['a', 'b'] } : undefined,
        });
      }
    }
    const table = new InMemoryEventStore(SHARDS);
    await table.putEvents(events);
    const archive = new EventArchive(new DirectorySnapshotStore(dir), SHARDS);
    for (const date of ['2026-04-01', '2026-04-02', '2026-04-03']) await archive.archiveDay(table, date);
  });

  afterAll(() => {
    duck?.closeSync();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads every event once, with the schema the Glue table declares and dt/shard from the keys', async () => {
    // Arrange
    const glob = join(dir, 'events', 'dt=*', 'shard=*', '*.parquet');
    const from = `read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR, 'shard': INTEGER})`;

    // Act
    const described = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJS();
    const rows = (
      await duck.runAndReadAll(
        `SELECT event_id, user_id, account_id, name, epoch_ms(occurred_at) AS ms, properties, dt, shard FROM ${from} ORDER BY event_id`,
      )
    ).getRowObjectsJS();

    // Assert
    expect(described.map((d) => [d.column_name, d.column_type])).toEqual([
      ...EVENT_ARCHIVE_COLUMNS.map((c) => [c.name, DUCKDB_TYPES[c.type]]),
      ['dt', 'VARCHAR'],
      ['shard', 'INTEGER'],
    ]);
    expect(rows).toHaveLength(events.length);
    const byId = new Map(events.map((e) => [e.eventId, e]));
    for (const row of rows) {
      const event = byId.get(row.event_id as string)!;
      expect(row).toMatchObject({
        user_id: event.userId,
        account_id: event.accountId ?? null,
        name: event.name,
        properties: event.properties ? JSON.stringify(event.properties) : null,
        dt: new Date(event.timestamp).toISOString().slice(0, 10),
        shard: shardOf(event.userId, SHARDS),
      });
      expect(row.ms).toBe(BigInt(event.timestamp));
    }
  });
});
