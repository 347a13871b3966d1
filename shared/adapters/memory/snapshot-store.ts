import type { SnapshotStore } from '../../ports/snapshot-store.js';

/** Objects in memory (tests, shadow runs). */
export class InMemorySnapshotStore implements SnapshotStore {
  readonly objects = new Map<string, { body: Uint8Array; contentType: string }>();

  constructor(private readonly bucket = 'memory') {}

  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body);
    this.objects.set(key, { body: bytes, contentType });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const object = this.objects.get(key);
    return object ? new Uint8Array(object.body) : undefined;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}
