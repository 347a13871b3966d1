import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dateOfPartition, deleteItems, expiredItemKeys } from '../adapters/dynamodb/expire.js';
import { archiveDates } from '../archive/archive-step.js';
import { dueArchiveDates } from '../archive/event-archive.js';
import { DAY_MS } from '../domain/time.js';
import type { EventStore } from '../ports/event-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { RunLogger } from '../run/deps.js';

export interface LocalArchiveDeps {
  client: DynamoDBClient;
  eventsTable: string;
  /** The events table's store. */
  hot: EventStore;
  objects: SnapshotStore;
  clock?: (() => number) | undefined;
  logger?: RunLogger | undefined;
}

export interface LocalArchiveResult {
  archivedDates: string[];
  events: number;
  expired: number;
}

/**
 * Local mode's daily archive step: what the state machine's archive step does in AWS (yesterday and the day before
 * go to `events/` in the embedded S3), then what DynamoDB's TTL does — with one guarantee the emulation can give
 * cheaply: the days of the items about to be deleted are archived first, so no event leaves the table before the
 * archive holds it.
 */
export async function runLocalArchive(deps: LocalArchiveDeps): Promise<LocalArchiveResult> {
  const now = (deps.clock ?? Date.now)();
  const expired = await expiredItemKeys(deps.client, deps.eventsTable, now);
  const dates = new Set(dueArchiveDates(now));
  for (const key of expired) {
    const date = key.pk.S === undefined ? undefined : dateOfPartition(key.pk.S);
    if (date !== undefined) dates.add(date);
  }
  const archived = await archiveDates(deps, [...dates].sort());
  await deleteItems(deps.client, deps.eventsTable, expired);
  const events = archived.reduce((sum, d) => sum + d.events, 0);
  deps.logger?.info('local archive step', { dates: archived.length, events, expired: expired.length });
  return { archivedDates: archived.map((d) => d.date), events, expired: expired.length };
}

/** Minutes past midnight UTC the local archive step runs at (after the day is over, before the model schedules). */
const ARCHIVE_AT_MS = 30 * 60_000;

/** A daily timer for runLocalArchive while the server runs; failures are logged and retried the next day. */
export class LocalArchiver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: LocalArchiveDeps,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    const now = this.clock();
    const next = Math.floor(now / DAY_MS) * DAY_MS + ARCHIVE_AT_MS;
    const at = next > now ? next : next + DAY_MS;
    this.timer = setTimeout(() => {
      this.running = runLocalArchive(this.deps).catch((error: unknown) =>
        this.deps.logger?.warn('local archive step failed', { error: (error as Error).message }),
      );
      this.start();
    }, at - now);
    this.timer.unref();
  }

  /** Stop the timer and wait for a step in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
