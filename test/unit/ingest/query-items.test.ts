import { Readable } from 'node:stream';
import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DynamoEventStore, eventFromItem } from '../../../shared/adapters/dynamodb/event-store.js';
import { decodeQueryItems } from '../../../shared/adapters/dynamodb/query-items.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { DAY_MS } from '../../../shared/domain/time.js';

type Item = Record<string, AttributeValue>;

const text = fc.oneof(
  { arbitrary: fc.constantFrom('login', 'u-1', 'acct-000000000042', 'a'.repeat(40)), weight: 4 },
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', 'quote " and \\ back', 'line\nbreak', '\u2028', 'ü€😀'),
);
const properties = fc
  .dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .map((p) => JSON.stringify(p));
const item: fc.Arbitrary<Item> = fc.record(
  {
    sk: text.map((S) => ({ S })),
    n: text.map((S) => ({ S })),
    u: text.map((S) => ({ S })),
    a: text.map((S) => ({ S })),
    t: fc
      .oneof(fc.integer({ min: 0, max: 2 ** 45 }).map(String), fc.constantFrom('1.5', '-0', '1e3', 'x'))
      .map((N) => ({ N })),
    p: properties.map((S) => ({ S })),
    pk: text.map((S) => ({ S })),
    expiresAt: fc.integer().map((n) => ({ N: String(n) })),
    other: fc.constantFrom<AttributeValue>({ BOOL: true }, { NULL: true }, { M: { x: { S: '}' } } }, { L: [] }),
  },
  { requiredKeys: [] },
);
const page = fc.record(
  {
    Items: fc.array(item, { maxLength: 8 }),
    Count: fc.nat(),
    ScannedCount: fc.nat(),
    LastEvaluatedKey: fc.record({ pk: text.map((S) => ({ S })), sk: text.map((S) => ({ S })) }),
  },
  { requiredKeys: ['Items'] },
);

describe('decodeQueryItems', () => {
  it('reads exactly the events eventFromItem reads, and leaves the rest of the body as it was', () => {
    fc.assert(
      fc.property(page, fc.boolean(), (body, pretty) => {
        // Arrange
        const json = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);

        // Act
        const decoded = decodeQueryItems(json);

        // Assert
        expect(decoded).toBeDefined();
        expect(decoded!.events).toStrictEqual(body.Items.map(eventFromItem));
        expect(JSON.parse(decoded!.rest)).toEqual({ ...body, Items: [] });
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['an attribute of another type', '{"Items":[{"n":{"BOOL":true}}]}'],
    ['a timestamp stored as a string', '{"Items":[{"t":{"S":"12"}}]}'],
    ['two types in one value', '{"Items":[{"n":{"S":"a","N":"1"}}]}'],
    ['properties that are not JSON', '{"Items":[{"p":{"S":"{oops"}}]}'],
    ['a truncated body', '{"Items":[{"n":{"S":"login"}}'],
    ['trailing text', '{"Items":[]} x'],
    ['no Items at all', '{"Count":0}'],
    ['Items twice', '{"Items":[],"Items":[]}'],
  ])('leaves %s to the SDK', (_, body) => {
    // Act
    const decoded = decodeQueryItems(body);

    // Assert
    expect(decoded).toBeUndefined();
  });

  it('gives ids their own copy of the text rather than a slice of the page', () => {
    // Arrange
    const id = 'user-0123456789-abcdef';
    const body = JSON.stringify({ Items: [{ u: { S: id }, sk: { S: `e-${id}` } }] });

    // Act
    const [event] = decodeQueryItems(body)!.events;

    // Assert
    expect(event?.userId).toBe(id);
    expect(event?.eventId).toBe(`e-${id}`);
  });
});

const T = Date.UTC(2026, 2, 10);

function storedItem(i: number, extra: Item = {}): Item {
  return {
    sk: { S: `evt-${i}` },
    n: { S: i % 2 ? 'login' : 'session_ended' },
    u: { S: `user-${i % 5}` },
    t: { N: String(T + i * 1000) },
    ...(i % 3 ? { a: { S: `acct-${i % 2}` } } : {}),
    ...(i % 2 ? {} : { p: { S: JSON.stringify({ minutes: i, note: 'a "quoted" word' }) } }),
    ...extra,
  };
}

/** A client whose HTTP layer answers each Query with the next of `responses` (body as the test shapes it). */
function clientAnswering(responses: (() => { statusCode: number; body: unknown; headers?: Record<string, string> })[]) {
  const requests: Record<string, unknown>[] = [];
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const sent =
          typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body as Uint8Array);
        requests.push(JSON.parse(sent) as Record<string, unknown>);
        const next = responses.shift();
        const { statusCode, body, headers } = next ? next() : { statusCode: 200, body: '{"Items":[]}', headers: {} };
        return {
          response: { statusCode, headers: { 'content-type': 'application/x-amz-json-1.0', ...headers }, body },
        };
      },
    } as unknown as DynamoDBClient['config']['requestHandler'],
  });
  return { client, requests };
}

async function readDay(store: DynamoEventStore): Promise<ScoringEvent[][]> {
  const pages: ScoringEvent[][] = [];
  for await (const p of store.readShard({ level: 'user', shard: 0, from: T, to: T + DAY_MS })) pages.push(p);
  return pages;
}

const noWait = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };

describe('DynamoEventStore.readShard over the wire format', () => {
  it('reads pages given as bytes and as a stream, following LastEvaluatedKey', async () => {
    // Arrange
    const first = [storedItem(0), storedItem(1), storedItem(2)];
    const second = [storedItem(3), storedItem(4, { pk: { S: 'U#0#20260310' } })];
    const { client, requests } = clientAnswering([
      () => ({
        statusCode: 200,
        body: new TextEncoder().encode(
          JSON.stringify({
            Items: first,
            Count: 3,
            LastEvaluatedKey: { pk: { S: 'U#0#20260310' }, sk: { S: 'evt-2' } },
          }),
        ),
      }),
      () => ({ statusCode: 200, body: Readable.from([Buffer.from(JSON.stringify({ Items: second, Count: 2 }))]) }),
    ]);
    const store = new DynamoEventStore({ client, tableName: 'events', shardCount: 1 });

    // Act
    const pages = await readDay(store);

    // Assert
    expect(pages).toStrictEqual([first.map(eventFromItem), second.map(eventFromItem)]);
    expect(pages[0]?.[0]).toMatchObject({ eventId: 'evt-0', properties: { minutes: 0, note: 'a "quoted" word' } });
    expect(requests[1]?.ExclusiveStartKey).toEqual({ pk: { S: 'U#0#20260310' }, sk: { S: 'evt-2' } });
  });

  it('decodes an unusual page through the SDK, to the same events', async () => {
    // Arrange
    const items = [storedItem(0, { n: { BOOL: true } as AttributeValue }), storedItem(1)];
    const { client } = clientAnswering([() => ({ statusCode: 200, body: JSON.stringify({ Items: items }) })]);
    const store = new DynamoEventStore({ client, tableName: 'events', shardCount: 1 });

    // Act
    const pages = await readDay(store);

    // Assert
    expect(pages).toStrictEqual([items.map(eventFromItem)]);
    expect(pages[0]?.[0]?.name).toBe('');
  });

  it('retries a throttled page and reads the retried answer', async () => {
    // Arrange
    const items = [storedItem(5)];
    const { client, requests } = clientAnswering([
      () => ({
        statusCode: 400,
        body: Buffer.from(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'slow down',
          }),
        ),
      }),
      () => ({ statusCode: 200, body: JSON.stringify({ Items: items, Count: 1 }) }),
    ]);
    const store = new DynamoEventStore({ client, tableName: 'events', shardCount: 1, retry: noWait });

    // Act
    const pages = await readDay(store);

    // Assert
    expect(requests).toHaveLength(2);
    expect(pages).toStrictEqual([items.map(eventFromItem)]);
  });
});
