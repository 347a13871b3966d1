import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { SnapshotStore } from '../../ports/snapshot-store.js';

/**
 * Snapshot objects as files under a folder, keys as relative paths (`snapshots/model=x/dt=…/part-….parquet`): a
 * copy of the bucket made with `aws s3 sync`, or Parquet files written by hand. Used by `pulse calibrate
 * --snapshots <folder>`; writes are supported so tests and tools can lay out a folder the same way.
 */
export class DirectorySnapshotStore implements SnapshotStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`key "${key}" leaves the folder`);
    return path;
  }

  async put(key: string, body: Uint8Array | string, _contentType: string): Promise<void> {
    const path = this.pathOf(key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(readFileSync(this.pathOf(key)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return undefined;
      throw error;
    }
  }

  /** Keys under a prefix, in key order: only the folder the prefix names is walked. */
  async list(prefix: string): Promise<string[]> {
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? '' : prefix.slice(0, slash + 1);
    const keys: string[] = [];
    const walk = (relative: string): void => {
      const dir = join(this.root, relative);
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const key = `${relative}${entry.name}`;
        if (entry.isDirectory()) {
          const sub = `${key}/`;
          if (sub.startsWith(prefix) || prefix.startsWith(sub)) walk(sub);
        } else if (entry.isFile() && key.startsWith(prefix)) keys.push(key);
      }
    };
    walk(start);
    return keys.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) rmSync(this.pathOf(key), { force: true });
  }

  uri(key: string): string {
    return join(this.root, key);
  }
}
