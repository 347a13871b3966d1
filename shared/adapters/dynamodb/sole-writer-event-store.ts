import type { ScoringEvent } from '../../domain/event.js';
import { StoreUnavailableError } from '../../ports/errors.js';
import type { PutEventsResult } from '../../ports/event-store.js';
import { DynamoEventStore, type DynamoEventStoreOptions, type Item, type PendingEvent } from './event-store.js';

/** What storing one item came to. */
export type InsertOutcome = 'stored' | 'duplicate' | { refused: string };

/** The events table's storage, written directly by the only process that holds it (shared/local/embedded-table.ts). */
export interface EmbeddedTable {
  /**
   * Store the items whose keys are not stored yet, all in one atomic write that is on disk when this resolves; the
   * others are `duplicate`. Items the table refuses are `refused` and the rest still stored. Keys are distinct
   * within one call. Rejects, having stored nothing, when the storage fails.
   */
  insertAbsent(items: readonly Item[]): Promise<InsertOutcome[]>;
  /** The items stored under these keys (undefined where none), as a consistent read sees them. */
  getItems(keys: readonly Item[]): Promise<(Item | undefined)[]>;
}

export interface SoleWriterEventStoreOptions extends DynamoEventStoreOptions {
  /** The same table as `client` + `tableName` serve, for writes. */
  table: EmbeddedTable;
  /** Items one group write holds at most (a call's events always go in one group). */
  maxGroupItems?: number | undefined;
  /** Groups being written at once (their keys are disjoint). */
  groupsInFlight?: number | undefined;
}

/** A putEvents call waiting for its group. */
interface Waiting {
  entries: PendingEvent[];
  keys: string[];
  duplicates: number;
  resolve(result: PutEventsResult): void;
  reject(error: unknown): void;
}

/**
 * The events table when this process is its only writer (local mode: LevelDB admits one process). Concurrent
 * putEvents calls are committed together (group commit): whatever arrived while earlier groups were being written
 * becomes the next group, with one existence check and one atomic write, on disk before any of its calls is
 * answered. A few groups are written at once, never two holding the same key: a call with a key still in flight
 * waits for that group, so its check sees the write. Of concurrent senders of an event exactly one is told
 * `stored`, as with conditional puts (docs/data-model.md#idempotent-writes-counted-exactly). Reads go through the
 * DynamoDB API like every other reader's. Never used where another process writes the table (AWS, or an external
 * PULSE_DYNAMODB_ENDPOINT): those use DynamoEventStore's conditional puts.
 */
export class SoleWriterEventStore extends DynamoEventStore {
  private readonly embedded: EmbeddedTable;
  private readonly maxGroupItems: number;
  private readonly groupsInFlight: number;
  private readonly queue: Waiting[] = [];
  /** Keys of the groups being written. */
  private readonly claimed = new Set<string>();
  private writing = 0;

  constructor(options: SoleWriterEventStoreOptions) {
    super(options);
    this.embedded = options.table;
    this.maxGroupItems = options.maxGroupItems ?? 10_000;
    this.groupsInFlight = options.groupsInFlight ?? 4;
  }

  override putEvents(events: readonly ScoringEvent[]): Promise<PutEventsResult> {
    const { items, duplicates } = this.itemsOf(events);
    if (items.size === 0) return Promise.resolve({ stored: 0, duplicates, refused: [] });
    return new Promise((resolve, reject) => {
      this.queue.push({ entries: [...items.values()], keys: [...items.keys()], duplicates, resolve, reject });
      this.writeNext();
    });
  }

  /**
   * Start a group while fewer than `groupsInFlight` are being written: the waiting calls, in arrival order, that
   * hold no key of a group in flight nor of an earlier call of this group, up to `maxGroupItems`. The others wait.
   */
  private writeNext(): void {
    if (this.writing >= this.groupsInFlight || this.queue.length === 0) return;
    const group: Waiting[] = [];
    const keys: string[] = [];
    let size = 0;
    for (let i = 0; i < this.queue.length; ) {
      const call = this.queue[i]!;
      if (size > 0 && size + call.keys.length > this.maxGroupItems) break;
      if (call.keys.some((key) => this.claimed.has(key))) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      group.push(call);
      for (const key of call.keys) {
        keys.push(key);
        this.claimed.add(key);
      }
      size += call.keys.length;
    }
    if (group.length === 0) return;
    this.writing++;
    void this.writeGroup(group).finally(() => {
      for (const key of keys) this.claimed.delete(key);
      this.writing--;
      this.writeNext();
    });
    this.writeNext();
  }

  /**
   * One group: one insertAbsent, answers to each call. Its calls hold distinct keys (a call sharing a key with an
   * earlier one waits for a later group); the check below only keeps insertAbsent's input distinct whatever happens.
   */
  private async writeGroup(group: Waiting[]): Promise<void> {
    const owner = new Set<string>();
    const items: Item[] = [];
    const owners: { call: Waiting; entry: PendingEvent }[] = [];
    for (const call of group) {
      for (const [i, key] of call.keys.entries()) {
        if (owner.has(key)) {
          call.duplicates++;
          continue;
        }
        owner.add(key);
        const entry = call.entries[i]!;
        items.push(entry.item);
        owners.push({ call, entry });
      }
    }
    let outcomes: InsertOutcome[];
    try {
      outcomes = await this.embedded.insertAbsent(items);
    } catch (error) {
      // Nothing of the group is stored (the write is atomic) and nothing is reported accepted: the callers answer 503.
      for (const call of group)
        call.reject(
          new StoreUnavailableError(`storing events: ${(error as Error).message}`, call.keys.length, { cause: error }),
        );
      return;
    }
    const results = new Map<Waiting, PutEventsResult>();
    for (const call of group) results.set(call, { stored: 0, duplicates: call.duplicates, refused: [] });
    for (const [i, outcome] of outcomes.entries()) {
      const { call, entry } = owners[i]!;
      const result = results.get(call)!;
      if (outcome === 'stored') result.stored++;
      else if (outcome === 'duplicate') result.duplicates++;
      else result.refused!.push({ event: entry.event, message: `could not be stored: ${outcome.refused}` });
    }
    for (const [call, result] of results) call.resolve(result);
  }
}
