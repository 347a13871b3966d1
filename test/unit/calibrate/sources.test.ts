import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorySnapshotStore } from '../../../shared/adapters/fs/snapshot-store.js';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { S3SnapshotStore } from '../../../shared/adapters/s3/snapshot-store.js';
import { backtest } from '../../../shared/calibrate/backtest.js';
import { calibrate, toJson } from '../../../shared/calibrate/calibrate.js';
import { readOutcomesFile } from '../../../shared/calibrate/outcomes.js';
import { findModelPrefix, snapshotBacktest } from '../../../shared/calibrate/snapshots.js';
import { fileEventSource, mergePages, storeEventSource } from '../../../shared/calibrate/sources.js';
import { type CalibrateRun, runCalibrateDetailed } from '../../../shared/cli/calibrate.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { loadModelFile } from '../../../shared/domain/model/load.js';
import type { Model } from '../../../shared/domain/model/schema.js';
import { parseEventLine } from '../../../shared/files/jsonl-events.js';
import type { EventStore, ReadShardQuery } from '../../../shared/ports/event-store.js';
import { LocalRunner } from '../../../shared/run/local-runner.js';
import { memoryDeps } from '../../support/run-fixture.js';
import { type S3Harness, startS3rver } from '../../support/s3.js';
import { type SyntheticData, writeSynthetic } from '../../support/synthetic.js';

let dir: string;
let data: SyntheticData;
let model: Model;
let events: ScoringEvent[];
/** The reference: calibrate replaying the events file. */
let fromFile: CalibrateRun;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pulse-calibrate-sources-'));
  data = writeSynthetic(dir, { users: 600, seed: 7 });
  model = loadModelFile(data.goodModelFile).model;
  events = readFileSync(data.eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => parseEventLine(line) as ScoringEvent);
  fromFile = await runCalibrateDetailed({
    model: data.goodModelFile,
    events: data.eventsFile,
    outcomes: data.outcomesFile,
    out: join(dir, 'out-file'),
    bootstrapReplicates: 200,
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** An event store that records the queries it answers. */
function recording(store: EventStore): { store: EventStore; queries: ReadShardQuery[] } {
  const queries: ReadShardQuery[] = [];
  return {
    queries,
    store: {
      shardCount: store.shardCount,
      putEvents: (e) => store.putEvents(e),
      readShard: (query) => {
        queries.push(query);
        return store.readShard(query);
      },
    },
  };
}

describe('calibrate from an event store (the local store’s adapter contract)', () => {
  it('streams every shard page by page for the outcomes’ range and reproduces the file replay exactly', async () => {
    // Arrange
    const memory = new InMemoryEventStore(4, 50);
    await memory.putEvents(events);
    const { store, queries } = recording(memory);
    const outcomes = readOutcomesFile(data.outcomesFile);

    // Act
    const result = await backtest({
      model,
      source: storeEventSource({ events: store, label: 'the test store' }),
      outcomes,
      horizonDays: 30,
    });
    const report = calibrate(model, result, { horizonDays: 30, bootstrapReplicates: 200 });
    const json = toJson(report, fromFile.json.suggested.file);

    // Assert: one query per shard, from the earliest window start to the end of the latest outcome date
    expect(queries.map((q) => q.shard)).toEqual([0, 1, 2, 3]);
    expect(new Set(queries.map((q) => `${q.level} ${q.from} ${q.to}`))).toEqual(
      new Set([`user ${Date.parse('2026-01-31T00:00:00Z')} ${Date.parse('2026-05-01T00:00:00Z')}`]),
    );
    expect(json).toEqual(fromFile.json);
    expect(result.source).toMatchObject({ kind: 'store', label: 'the test store' });
    expect(result.partialHistory).toBe(0);
  });

  it('knows an entity with no events but an identify record (scored as inactive), and names a truly unknown one', async () => {
    // Arrange
    const store = new InMemoryEventStore(4);
    await store.putEvents(events);
    const entities = new InMemoryEntityStore(4);
    await entities.upsert([{ entityType: 'user', entityId: 'quiet', traits: {}, seenAt: Date.parse('2025-12-01') }]);
    const base = readFileSync(data.outcomesFile, 'utf8').trim().split('\n');
    const withQuiet = join(dir, 'quiet.csv');
    const withGhost = join(dir, 'ghost.csv');
    writeFileSync(withQuiet, `${[...base, 'user,quiet,churned,2026-03-31'].join('\n')}\n`);
    writeFileSync(withGhost, `${[...base, 'user,ghost,churned,2026-03-31'].join('\n')}\n`);
    const source = storeEventSource({ events: store, entities, label: 'the test store' });

    // Act
    const quiet = await backtest({ model, source, outcomes: readOutcomesFile(withQuiet), horizonDays: 30 });
    const ghost = backtest({ model, source, outcomes: readOutcomesFile(withGhost), horizonDays: 30 });

    // Assert
    expect(quiet.rows.find((r) => r.outcome.entityId === 'quiet')?.raw.rawScore).toBe(0);
    await expect(ghost).rejects.toThrow(
      /1 of 601 outcome entities never appear in the test store \(no user events from 2026-01-31 to 2026-05-01, no identify\/group record\): "ghost" \(line 602\).*--skip-unknown/,
    );
  });

  it('still reads a file source whole (no range), as before', async () => {
    const result = await backtest({
      model,
      source: fileEventSource(data.eventsFile),
      outcomes: readOutcomesFile(data.outcomesFile),
      horizonDays: 30,
    });
    expect(result.source).toEqual({ kind: 'file', label: data.eventsFile, range: undefined });
    expect(result.events.lines).toBe(events.length);
  });
});

describe('mergePages (reading a few shards at once)', () => {
  it('delivers every page of every source once, ends each source once, and never reads more than the limit at once', async () => {
    // Arrange: 6 sources of 3 pages each, with uneven delays
    let active = 0;
    let peak = 0;
    const source = (id: number) =>
      (async function* () {
        active++;
        peak = Math.max(peak, active);
        for (let page = 0; page < 3; page++) {
          await new Promise((r) => setTimeout(r, (id * 7 + page * 3) % 5));
          yield `${id}.${page}`;
        }
        active--;
      })();

    // Act
    const seen: string[] = [];
    for await (const item of mergePages([0, 1, 2, 3, 4, 5].map(source), 2)) seen.push(item);

    // Assert
    const pages = seen.filter((s) => s !== 'end');
    expect([...pages].sort()).toEqual([0, 1, 2, 3, 4, 5].flatMap((id) => [0, 1, 2].map((p) => `${id}.${p}`)));
    expect(seen.filter((s) => s === 'end')).toHaveLength(6);
    expect(peak).toBe(2);
    for (const id of [0, 1, 2, 3, 4, 5])
      expect(pages.filter((p) => p.startsWith(`${id}.`))).toEqual([`${id}.0`, `${id}.1`, `${id}.2`]);
  });
});

describe('calibrate from published snapshots', () => {
  let snapshotDir: string;
  let s3: S3Harness;

  /** Run the model for the given dates with the real run code and writer; copy the bucket to a folder and s3rver. */
  async function publish(dates: readonly string[], folder: string): Promise<void> {
    const deps = memoryDeps([model], Date.parse('2026-05-05T00:00:00Z'));
    await deps.events.putEvents(events);
    // Every user is known (identify), so users without events in a window are still in the snapshot.
    const users = [...new Set(events.map((e) => e.userId))];
    await deps.entities.upsert(
      users.map((entityId) => ({ entityType: 'user', entityId, traits: {}, seenAt: Date.parse('2025-12-01') })),
    );
    const runner = new LocalRunner(deps);
    for (const asOf of dates)
      expect((await runner.run({ model: model.name, asOf, alerts: false })).status).toBe('succeeded');
    const target = new DirectorySnapshotStore(folder);
    const bucket = new S3SnapshotStore({ client: s3.client, bucket: s3.bucket });
    for (const [key, object] of deps.objects.objects) {
      if (!key.startsWith('snapshots/')) continue;
      await target.put(key, object.body, object.contentType);
      await bucket.put(`exports/${key}`, object.body, object.contentType);
    }
  }

  beforeAll(async () => {
    s3 = await startS3rver();
    snapshotDir = join(dir, 'bucket-copy');
    // The as-of dates of the outcomes (outcome date − 30 days).
    await publish(['2026-03-01', '2026-03-16', '2026-03-31'], snapshotDir);
  });

  afterAll(async () => {
    await s3.stop();
  });

  it('reads a folder copy of the bucket: the published scores give the replay’s AUC, bands and suggestion', async () => {
    // Act
    const run = await runCalibrateDetailed({
      model: data.goodModelFile,
      outcomes: data.outcomesFile,
      snapshots: snapshotDir,
      out: join(dir, 'out-folder'),
      bootstrapReplicates: 200,
    });

    // Assert: normalisation none, so published scores equal the replayed ones
    expect(run.json).toEqual({
      ...fromFile.json,
      suggested: { ...fromFile.json.suggested, file: run.json.suggested.file },
    });
    expect(run.report.backtest.source.kind).toBe('snapshots');
    expect(run.report.backtest.snapshots).toMatchObject({
      dates: ['2026-03-01', '2026-03-16', '2026-03-31'],
      fallbacks: 0,
    });
    const md = readFileSync(run.files!.markdown, 'utf8');
    expect(md).toContain('not replayed: these are the scores as they were published');
    expect(readFileSync(run.files!.html, 'utf8')).toContain('published snapshots 2026-03-01 to 2026-03-31');
  });

  it('reads s3://bucket/prefix through the S3 API (s3rver)', async () => {
    // Act
    const run = await runCalibrateDetailed({
      model: data.goodModelFile,
      outcomes: data.outcomesFile,
      snapshots: `s3://${s3.bucket}/exports`,
      s3Client: s3.client,
      out: join(dir, 'out-s3'),
      bootstrapReplicates: 200,
    });

    // Assert
    expect(run.json.model).toEqual(fromFile.json.model);
    expect(run.report.backtest.source.label).toBe(`s3://${s3.bucket}/exports/snapshots/model=engaged/`);
  });

  it('falls back to the nearest earlier partition within 7 days, and reports outcomes with none as unscored', async () => {
    // Arrange: 2026-03-16 is missing (2026-03-13 exists), 2026-03-31 has nothing within 7 days
    const partial = join(dir, 'partial-copy');
    await publish(['2026-03-01', '2026-03-13', '2026-03-20'], partial);
    const objects = new DirectorySnapshotStore(partial);
    const modelPrefix = (await findModelPrefix(objects, '', model.name))!;

    // Act
    const result = await snapshotBacktest({
      model,
      outcomes: readOutcomesFile(data.outcomesFile),
      horizonDays: 30,
      objects,
      modelPrefix,
      label: 'partial/',
    });

    // Assert: users are assigned outcome dates round-robin, 200 each
    expect(result.rows).toHaveLength(400);
    expect(result.unscored).toHaveLength(200);
    expect(result.unscored[0]!.reason).toBe('no snapshot for 2026-03-31 or the 7 days before');
    expect(result.snapshots).toMatchObject({ dates: ['2026-03-01', '2026-03-13'], fallbacks: 200 });
    expect(new Set(result.rows.map((r) => r.asOfDate))).toEqual(new Set(['2026-03-01', '2026-03-13']));
    expect(result.rows.find((r) => r.asOfDate === '2026-03-13')!.asOf).toBe(Date.parse('2026-03-14T00:00:00Z'));
  });

  it('says where it looked when a location holds no snapshots of the model, and names entities not in them', async () => {
    // Arrange
    const empty = mkdtempSync(join(dir, 'empty-'));
    const outcomes = join(dir, 'stranger.csv');
    writeFileSync(outcomes, `${readFileSync(data.outcomesFile, 'utf8').trim()}\nuser,stranger,churned,2026-03-31\n`);

    // Act
    const none = runCalibrateDetailed({ model: data.goodModelFile, outcomes: data.outcomesFile, snapshots: empty });
    const stranger = runCalibrateDetailed({ model: data.goodModelFile, outcomes, snapshots: snapshotDir });

    // Assert
    await expect(none).rejects.toThrow(
      /no snapshots of model "engaged" in .*\(looked for snapshots\/model=engaged\/ and model=engaged\/\)/,
    );
    await expect(stranger).rejects.toThrow(
      /1 of 601 outcome entities are not in the snapshot they were matched with in .*: "stranger" \(line 602\).*--skip-unknown/,
    );
  });
});
