import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_SHARD_COUNT } from '../../config/defaults.js';
import type { ScoringEvent } from '../../domain/event.js';
import { DEFAULT_RETENTION_DAYS } from '../../domain/hot-window.js';
import { shardOf } from '../../domain/shard.js';
import { DAY_MS } from '../../domain/time.js';
import type { EventRefusal, EventStore, PutEventsResult, ReadShardQuery } from '../../ports/event-store.js';
import { eventIdOfSortKey, eventSortKey, shardPartition, utcDayKey, utcDaysOverlapping } from './keys.js';
import { decodeQueryItems } from './query-items.js';
import { queryPages } from './query-pages.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';
import { EVENTS_BY_ACCOUNT_INDEX } from './tables.js';
import { isValidationError } from './validation.js';

export type Item = Record<string, AttributeValue>;

export interface DynamoEventStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  shardCount?: number | undefined;
  retentionDays?: number | undefined;
  retry?: RetryPolicy | undefined;
  /** Items a query page returns at most (DynamoDB also stops at 1 MB). */
  pageSize?: number | undefined;
  /** Conditional puts in flight at once for one putEvents call. */
  writeConcurrency?: number | undefined;
  /** Arrival time for the TTL (the later of an event's time and its arrival); tests and replays pass their own. */
  clock?: (() => number) | undefined;
}

/** Attribute names: short, because item size is what DynamoDB bills by (1 KB write units); eventItem spells them out. */
const A = { name: 'n', user: 'u', account: 'a', ts: 't', props: 'p', accountKey: 'apk', ttl: 'expiresAt' } as const;

/**
 * An event as a DynamoDB item; properties as JSON text (see docs/data-model.md). Literal keys: this is hot. The TTL
 * counts from the event's time or from now, whichever is later: a late or imported event stays in the table for
 * the whole hot window after it arrives, so the archive step takes it in before it expires (docs/data-model.md#hot-window).
 */
export function eventItem(event: ScoringEvent, shardCount: number, ttlDays: number, now: number = Date.now()): Item {
  const day = utcDayKey(event.timestamp);
  const item: Item = {
    pk: { S: `U#${shardOf(event.userId, shardCount)}#${day}` },
    sk: { S: eventSortKey(event.userId, event.eventId) },
    n: { S: event.name },
    u: { S: event.userId },
    t: { N: String(event.timestamp) },
    expiresAt: { N: String(Math.floor((Math.max(event.timestamp, now) + ttlDays * DAY_MS) / 1000)) },
  };
  if (event.accountId !== undefined) {
    item.a = { S: event.accountId };
    item.apk = { S: `A#${shardOf(event.accountId, shardCount)}#${day}` };
  }
  const props = event.properties;
  if (props !== undefined) {
    for (const _ in props) {
      item.p = { S: JSON.stringify(props) };
      break;
    }
  }
  return item;
}

/** An item read back as an event; always the same object shape (absent fields undefined) for the engine's hot loop. */
export function eventFromItem(item: Item): ScoringEvent {
  const props = item[A.props]?.S;
  const userId = item[A.user]?.S ?? '';
  return {
    eventId: eventIdOfSortKey(item.sk?.S ?? '', userId),
    name: item[A.name]?.S ?? '',
    userId,
    accountId: item[A.account]?.S,
    timestamp: Number(item[A.ts]?.N),
    properties: props === undefined ? undefined : (JSON.parse(props) as Record<string, unknown>),
  };
}

/** Events a Query response decoded to, when its body took the fast path (see query-items.ts). */
interface ItemsTap {
  events: ScoringEvent[] | undefined;
}

/** Inside the SDK's deserializer (step deserialize, low priority): sees the raw HTTP response before it is parsed. */
const TAP_OPTIONS = { step: 'deserialize', priority: 'low', name: 'pulseEventItems' } as const;

/**
 * Read a successful Query response's items straight into events and leave the SDK a body without them; any other
 * response (errors, throttling, an unusual page) reaches the SDK untouched.
 */
function tapItems(tap: ItemsTap) {
  return <A, R extends { response: unknown }>(next: (args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; body?: unknown };
      if (response.statusCode !== 200) return result;
      const bytes = await bodyBytes(response.body);
      if (bytes === undefined) return result;
      const decoded = decodeQueryItems(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
      if (decoded === undefined) response.body = bytes;
      else {
        tap.events = decoded.events;
        response.body = Buffer.from(decoded.rest, 'utf8');
      }
      return result;
    };
}

/** The whole body as bytes (Node streams are read to the end), or undefined for a body of another kind. */
async function bodyBytes(body: unknown): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
  return undefined;
}

/** The identity of an item within the table: its key. */
export const eventKeyOf = (item: Item): string => `${item.pk!.S}\u0000${item.sk!.S}`;

/** An event on its way into the table, with its item. */
export interface PendingEvent {
  item: Item;
  event: ScoringEvent;
}

/**
 * The events table. An event is identified by (userId, eventId) and written with a conditional put
 * (`attribute_not_exists(pk)`), so of any number of concurrent senders of one event exactly one is told `stored`
 * and the others `duplicate`, and a stored event is never overwritten (docs/data-model.md#idempotent-writes).
 * Throttling and server faults are retried with jittered backoff.
 */
export class DynamoEventStore implements EventStore {
  readonly shardCount: number;
  protected readonly client: DynamoDBClient;
  protected readonly tableName: string;
  private readonly retentionDays: number;
  protected readonly retry: RetryPolicy;
  private readonly pageSize: number | undefined;
  private readonly writeConcurrency: number;
  private readonly clock: () => number;

  constructor(options: DynamoEventStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    this.retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.pageSize = options.pageSize;
    this.writeConcurrency = options.writeConcurrency ?? 32;
    this.clock = options.clock ?? Date.now;
  }

  async putEvents(events: readonly ScoringEvent[]): Promise<PutEventsResult> {
    const { items, duplicates } = this.itemsOf(events);
    return this.putConditionally([...items.values()], duplicates);
  }

  /** One item per key: a second copy of an event in the same call is a duplicate. */
  protected itemsOf(events: readonly ScoringEvent[]): { items: Map<string, PendingEvent>; duplicates: number } {
    const items = new Map<string, PendingEvent>();
    let duplicates = 0;
    const now = this.clock();
    for (const event of events) {
      const item = eventItem(event, this.shardCount, this.retentionDays, now);
      const key = eventKeyOf(item);
      if (items.has(key)) duplicates++;
      else items.set(key, { item, event });
    }
    return { items, duplicates };
  }

  /** One conditional put per event, `writeConcurrency` at a time. */
  protected async putConditionally(
    pending: readonly PendingEvent[],
    duplicatesSoFar: number,
  ): Promise<PutEventsResult> {
    let duplicates = duplicatesSoFar;
    let stored = 0;
    const refused: EventRefusal[] = [];
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const { item, event } = pending[next++]!;
        const outcome = await this.putIfAbsent(item);
        if (outcome === 'stored') stored++;
        else if (outcome === 'duplicate') duplicates++;
        else refused.push({ event, message: outcome.refused });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.writeConcurrency, pending.length) }, worker));
    return { stored, duplicates, refused };
  }

  /**
   * One conditional put. A retry after a lost answer can find the item its own first attempt wrote and report a
   * duplicate: the event is stored either way, and never reported accepted twice.
   */
  private async putIfAbsent(item: Item): Promise<'stored' | 'duplicate' | { refused: string }> {
    try {
      await withRetries(
        () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: item,
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        this.retry,
        'storing events',
      );
      return 'stored';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      // Input limits keep every item valid; should DynamoDB still refuse one, only that event is refused.
      if (isValidationError(error)) return { refused: `could not be stored: ${error.message}` };
      throw error;
    }
  }

  async *readShard(query: ReadShardQuery): AsyncIterable<ScoringEvent[]> {
    const { level, shard, from, to } = query;
    for (const dayStart of utcDaysOverlapping(from, to)) {
      const partial = dayStart < from || dayStart + DAY_MS > to;
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: {
          '#pk': level === 'user' ? 'pk' : A.accountKey,
          '#sk': 'sk',
          '#n': A.name,
          '#u': A.user,
          '#a': A.account,
          '#t': A.ts,
          '#p': A.props,
        },
        ExpressionAttributeValues: { ':pk': { S: shardPartition(level, shard, dayStart) } },
        // Only what the engine reads: the keys and the TTL stay on the server, about a third fewer bytes to parse.
        ProjectionExpression: '#sk, #n, #u, #a, #t, #p',
        Limit: this.pageSize,
      };
      if (level === 'account') input.IndexName = EVENTS_BY_ACCOUNT_INDEX;
      if (partial) {
        // Only the first and last day of a window need the time filter; whole days are read as they are.
        input.FilterExpression = '#t >= :from AND #t < :to';
        input.ExpressionAttributeValues![':from'] = { N: String(from) };
        input.ExpressionAttributeValues![':to'] = { N: String(to) };
      }
      const tap: ItemsTap = { events: undefined };
      const pages = queryPages(this.client, input, {
        retry: this.retry,
        what: 'reading events',
        prepare: (command) => {
          tap.events = undefined;
          command.middlewareStack.add(tapItems(tap), TAP_OPTIONS);
        },
      });
      for await (const page of pages) {
        const events = tap.events ?? (page.Items ?? []).map(eventFromItem);
        if (events.length > 0) yield events;
      }
    }
  }
}
