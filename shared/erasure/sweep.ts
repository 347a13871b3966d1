import { parquetReadObjects } from 'hyparquet';
import { ARCHIVE_PREFIX } from '../archive/keys.js';
import { decodeEventsParquet, encodeEventsParquet } from '../archive/parquet-events.js';
import { addObjectCounts, type ErasureRecord, erasureHash, NO_OBJECTS, type ObjectCounts } from '../domain/erasure.js';
import type { SnapshotColumn } from '../domain/snapshot-schema.js';
import { encodeParquet } from '../parquet/columns.js';
import type { ErasureLog } from '../ports/erasure-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { RunLogger } from '../run/deps.js';
import { completed } from './erase.js';

const PARQUET_TYPE = 'application/vnd.apache.parquet';
const SNAPSHOT_PREFIX = 'snapshots/';
const MANIFEST_SUFFIX = '/_manifest.json';

interface FileEntry {
  key: string;
  rows: number;
  bytes: number;
}

/** The parts of a snapshot or archive manifest the sweep reads and updates (other fields are kept as they are). */
interface Manifest {
  schemaVersion: number;
  rowCount: number;
  files: (FileEntry & { shard?: number })[];
  columns: { name: string; type: SnapshotColumn['type']; nullable: boolean }[];
}

/**
 * Rewrite the bucket without the erased entities of `records` (docs/operations.md#data-subject-requests): every
 * published snapshot partition (rows whose entity hashes to an erased one) and, for erased users, the event archive
 * files of their shards. A changed file is replaced in place, then its manifest (row counts, `rewrittenAt`); a
 * reader between the two sees the new file under the old counts, never the erased rows. Files without a match are
 * not written. Returns what was removed, per erasure id.
 */
export async function sweepObjects(
  objects: SnapshotStore,
  records: readonly ErasureRecord[],
  clock: () => number = Date.now,
): Promise<Map<string, ObjectCounts>> {
  const byHash = new Map<string, string>();
  const userShards = new Set<number>();
  const out = new Map<string, ObjectCounts>();
  for (const r of records) {
    if (r.action !== 'erase') continue;
    byHash.set(`${r.entityType}:${r.idHash}`, r.erasureId);
    if (r.entityType === 'user') userShards.add(r.shard);
    out.set(r.erasureId, { ...NO_OBJECTS });
  }
  if (byHash.size === 0) return out;
  const credit = (erasureId: string, counts: Partial<ObjectCounts>) => {
    out.set(erasureId, addObjectCounts(out.get(erasureId) ?? NO_OBJECTS, { ...NO_OBJECTS, ...counts }));
  };
  const now = new Date(clock()).toISOString();

  for (const manifestKey of (await objects.list(SNAPSHOT_PREFIX)).filter((k) => k.endsWith(MANIFEST_SUFFIX))) {
    const manifest = await readManifest(objects, manifestKey);
    if (!manifest) continue;
    let changed = false;
    for (const file of manifest.files) {
      const body = await objects.get(file.key);
      if (!body) continue;
      const rows = (await parquetReadObjects({ file: arrayBufferOf(body) })) as Record<string, unknown>[];
      const hit = new Map<string, number>();
      const kept = rows.filter((row) => {
        const erasureId = byHash.get(
          `${row.entity_type}:${erasureHash(row.entity_type as 'user', String(row.entity_id))}`,
        );
        if (erasureId === undefined) return true;
        hit.set(erasureId, (hit.get(erasureId) ?? 0) + 1);
        return false;
      });
      if (hit.size === 0) continue;
      const columns = manifest.columns.map((c) => ({ ...c, description: '' }));
      const encoded = encodeParquet(columns, kept.map(plainRow), {
        metadata: { 'pulse.snapshot.schema_version': String(manifest.schemaVersion) },
      });
      await objects.put(file.key, encoded, PARQUET_TYPE);
      file.rows = kept.length;
      file.bytes = encoded.byteLength;
      changed = true;
      for (const [erasureId, removed] of hit) credit(erasureId, { snapshotFiles: 1, snapshotRows: removed });
    }
    if (changed) await writeManifest(objects, manifestKey, manifest, now);
  }

  if (userShards.size > 0) {
    for (const manifestKey of (await objects.list(ARCHIVE_PREFIX)).filter((k) => k.endsWith(MANIFEST_SUFFIX))) {
      const manifest = await readManifest(objects, manifestKey);
      if (!manifest) continue;
      let changed = false;
      for (const file of manifest.files) {
        if (file.shard === undefined || !userShards.has(file.shard)) continue;
        const body = await objects.get(file.key);
        if (!body) continue;
        const events = await decodeEventsParquet(body);
        const hit = new Map<string, number>();
        const kept = events.filter((event) => {
          const erasureId = byHash.get(`user:${erasureHash('user', event.userId)}`);
          if (erasureId === undefined) return true;
          hit.set(erasureId, (hit.get(erasureId) ?? 0) + 1);
          return false;
        });
        if (hit.size === 0) continue;
        const encoded = encodeEventsParquet(kept);
        await objects.put(file.key, encoded, PARQUET_TYPE);
        file.rows = kept.length;
        file.bytes = encoded.byteLength;
        changed = true;
        for (const [erasureId, removed] of hit) credit(erasureId, { archiveFiles: 1, archiveRows: removed });
      }
      // archivedAt moves too: readers key their decoded-file caches by it (shared/archive/event-archive.ts).
      if (changed) await writeManifest(objects, manifestKey, manifest, now, { archivedAt: now });
    }
  }
  return out;
}

export interface SweepDeps {
  log: ErasureLog;
  objects: SnapshotStore;
  clock?: (() => number) | undefined;
  logger?: RunLogger | undefined;
}

/**
 * The bucket steps of every pending erasure, in one pass over the bucket, then the records marked complete (the
 * AWS archive step runs this daily, docs/operations.md#data-subject-requests). Returns how many it completed.
 */
export async function sweepPendingErasures(deps: SweepDeps): Promise<{ erasures: number } & ObjectCounts> {
  const clock = deps.clock ?? Date.now;
  const pending = await deps.log.pending();
  if (pending.length === 0) return { erasures: 0, ...NO_OBJECTS };
  const started = clock();
  const swept = await sweepObjects(deps.objects, pending, clock);
  let total: ObjectCounts = NO_OBJECTS;
  for (const record of pending) {
    const counts = swept.get(record.erasureId);
    if (counts) total = addObjectCounts(total, counts);
    await deps.log.putRecord(completed(record, counts, clock()));
  }
  deps.logger?.info('erasures swept', { erasures: pending.length, ...total, ms: clock() - started });
  return { erasures: pending.length, ...total };
}

async function readManifest(objects: SnapshotStore, key: string): Promise<Manifest | undefined> {
  const body = await objects.get(key);
  if (!body) return undefined;
  try {
    const manifest = JSON.parse(new TextDecoder().decode(body)) as Manifest;
    return Array.isArray(manifest.files) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

async function writeManifest(
  objects: SnapshotStore,
  key: string,
  manifest: Manifest,
  now: string,
  extra: Record<string, string> = {},
): Promise<void> {
  const next = {
    ...manifest,
    ...extra,
    rowCount: manifest.files.reduce((sum, f) => sum + f.rows, 0),
    rewrittenAt: now,
  };
  await objects.put(key, `${JSON.stringify(next, null, 2)}\n`, 'application/json');
}

/** A decoded Parquet row in the writer's JS form (timestamps and 64-bit ints as numbers). */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    out[name] = value instanceof Date ? value.getTime() : typeof value === 'bigint' ? Number(value) : value;
  }
  return out;
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
