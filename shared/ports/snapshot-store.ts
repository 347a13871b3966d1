/**
 * The snapshot bucket as a plain object store: Parquet parts, manifests and `latest.json` under `snapshots/`, and a
 * run's intermediate objects (shard lists, raw scores) under `runs/`. What goes where, and in which order, is the
 * run code's business (shared/run/snapshot.ts); adapters only move bytes.
 */
export interface SnapshotStore {
  put(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Keys under a prefix, in key order. */
  list(prefix: string): Promise<string[]>;
  /** Delete keys (missing ones are fine). */
  delete(keys: readonly string[]): Promise<void>;
  /** How a reader addresses a key, e.g. `s3://bucket/key`. */
  uri(key: string): string;
}
