import type { ScoringEvent } from '../domain/event.js';
import { EVENT_ARCHIVE_COLUMNS, EVENT_ARCHIVE_SCHEMA_VERSION } from '../domain/event-archive-schema.js';
import { shardOf } from '../domain/shard.js';
import { DAY_MS } from '../domain/time.js';
import type { EntityLevel, EventStore } from '../ports/event-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { archiveManifestKey, archivePartKey } from './keys.js';
import { decodeEventsParquet, encodeEventsParquet, eventKey } from './parquet-events.js';

/** `events/dt=<date>/_manifest.json`: written after the day's files; its absence means "not archived". */
export interface ArchiveManifest {
  schemaVersion: number;
  date: string;
  shardCount: number;
  rowCount: number;
  files: { key: string; shard: number; rows: number; bytes: number }[];
  columns: { name: string; type: string; nullable: boolean }[];
  archivedAt: string;
}

export interface ArchivedDay {
  date: string;
  events: number;
  files: number;
  bytes: number;
}

const PARQUET_TYPE = 'application/vnd.apache.parquet';
const MANIFEST_TTL_MS = 60_000;

/** `YYYY-MM-DD` of a UTC day start. */
export const utcDate = (dayStart: number) => new Date(dayStart).toISOString().slice(0, 10);

/** Epoch ms of the start of a `YYYY-MM-DD` UTC day. */
export const utcDayStart = (date: string) => Date.parse(`${date}T00:00:00Z`);

/**
 * The days the daily archive step writes at `now`: the day before yesterday and yesterday (UTC). Archiving a day
 * twice, a day apart, takes in events that arrive up to a day late; anything later is archived by naming its
 * dates (docs/operations.md#event-archive), and stays in the events table until then (see eventItem's TTL).
 */
export function dueArchiveDates(now: number): string[] {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return [utcDate(today - 2 * DAY_MS), utcDate(today - DAY_MS)];
}

/**
 * The raw event archive in the Pulse bucket: writing a day (the events table's events of that UTC day, merged with
 * what the archive already holds, one Parquet file per user shard, manifest last) and reading a day back.
 * Re-archiving is idempotent: the merge is keyed by event identity (user, event id), so a day archived twice, or
 * after some of its events expired from the table, keeps every event exactly once.
 */
export class EventArchive {
  /**
   * Decoded files, newest use last, keyed by file and archive time (a re-archived day is a new entry). A backfill's
   * consecutive dates read overlapping windows: each archived day is fetched and decoded once, not once per date.
   */
  private readonly cache = new Map<string, ScoringEvent[]>();
  private cachedEvents = 0;
  /** Manifests read in the last MANIFEST_TTL_MS (a run reads each day's manifest once per shard, not once per page). */
  private readonly manifests = new Map<string, { at: number; manifest: ArchiveManifest | undefined }>();

  constructor(
    private readonly objects: SnapshotStore,
    private readonly shardCount: number,
    /** Events kept decoded at most (about 300 B each in memory). @default 1_000_000 */
    private readonly cacheEvents = 1_000_000,
  ) {}

  /** Archive one UTC day from the events table. */
  async archiveDay(source: EventStore, date: string, clock: () => number = Date.now): Promise<ArchivedDay> {
    if (source.shardCount !== this.shardCount) {
      throw new Error(`the events table has ${source.shardCount} shards, the archive ${this.shardCount}`);
    }
    const from = utcDayStart(date);
    if (Number.isNaN(from)) throw new RangeError(`not a date: ${date}`);
    const files: ArchiveManifest['files'] = [];
    for (let shard = 0; shard < this.shardCount; shard++) {
      const merged = new Map<string, ScoringEvent>();
      for (const event of await this.readFile(date, shard)) merged.set(eventKey(event), event);
      for await (const page of source.readShard({ level: 'user', shard, from, to: from + DAY_MS })) {
        for (const event of page) merged.set(eventKey(event), event);
      }
      if (merged.size === 0) continue;
      const key = archivePartKey(date, shard);
      const body = encodeEventsParquet([...merged.values()]);
      await this.objects.put(key, body, PARQUET_TYPE);
      files.push({ key, shard, rows: merged.size, bytes: body.byteLength });
    }
    const manifest: ArchiveManifest = {
      schemaVersion: EVENT_ARCHIVE_SCHEMA_VERSION,
      date,
      shardCount: this.shardCount,
      rowCount: files.reduce((sum, f) => sum + f.rows, 0),
      files,
      columns: EVENT_ARCHIVE_COLUMNS.map(({ name, type, nullable }) => ({ name, type, nullable })),
      archivedAt: new Date(clock()).toISOString(),
    };
    await this.objects.put(archiveManifestKey(date), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
    this.manifests.delete(date);
    return {
      date,
      events: manifest.rowCount,
      files: files.length,
      bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    };
  }

  /** Drop every decoded file and manifest (after files were rewritten in place, e.g. by an erasure). */
  forget(): void {
    this.cache.clear();
    this.cachedEvents = 0;
    this.manifests.clear();
  }

  /** The day's manifest, or undefined when the day was never archived. */
  async manifest(date: string): Promise<ArchiveManifest | undefined> {
    const body = await this.objects.get(archiveManifestKey(date));
    if (!body) return undefined;
    return JSON.parse(new TextDecoder().decode(body)) as ArchiveManifest;
  }

  /**
   * The manifest as a reader sees it: remembered for a minute. A day re-archived meanwhile is read as it was a
   * minute ago, which loses nothing — readers merge the events table's events of archived days too.
   */
  private async readerManifest(date: string): Promise<ArchiveManifest | undefined> {
    const now = Date.now();
    const hit = this.manifests.get(date);
    if (hit && now - hit.at < MANIFEST_TTL_MS) return hit.manifest;
    const manifest = await this.manifest(date);
    if (this.manifests.size > 4096) this.manifests.clear();
    this.manifests.set(date, { at: now, manifest });
    return manifest;
  }

  /**
   * The archived events of one UTC day in one shard of a level: a user shard is one file; an account shard is
   * gathered from every user shard's file (the archive is laid out by user, like the events table; a backfill of
   * an account-level model reads each day's files once per account shard — see docs/data-model.md#event-archive).
   */
  async readDay(date: string, level: EntityLevel, shard: number): Promise<ScoringEvent[]> {
    const manifest = await this.readerManifest(date);
    if (!manifest) return [];
    if (level === 'user') {
      return manifest.files.some((f) => f.shard === shard) ? this.readCached(manifest, shard) : [];
    }
    const events: ScoringEvent[] = [];
    for (const file of manifest.files) {
      for (const event of await this.readCached(manifest, file.shard)) {
        if (event.accountId !== undefined && shardOf(event.accountId, this.shardCount) === shard) events.push(event);
      }
    }
    return events;
  }

  private async readCached(manifest: ArchiveManifest, shard: number): Promise<ScoringEvent[]> {
    const key = `${manifest.date}/${shard}@${manifest.archivedAt}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const events = await this.readFile(manifest.date, shard);
    if (events.length <= this.cacheEvents) {
      this.cache.set(key, events);
      this.cachedEvents += events.length;
      for (const [oldest, old] of this.cache) {
        if (this.cachedEvents <= this.cacheEvents) break;
        this.cache.delete(oldest);
        this.cachedEvents -= old.length;
      }
    }
    return events;
  }

  private async readFile(date: string, shard: number): Promise<ScoringEvent[]> {
    const body = await this.objects.get(archivePartKey(date, shard));
    return body ? decodeEventsParquet(body) : [];
  }
}
