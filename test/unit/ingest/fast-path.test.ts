import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NativeEventSchema } from '../../../shared/domain/event.js';
import { jsonBytesUpperBound } from '../../../shared/ingest/batch.js';
import { fastNativeEvent } from '../../../shared/ingest/native.js';

const field = fc.oneof(
  { arbitrary: fc.constantFrom('u1', 'login', 'acc-9', 'a'), weight: 6 },
  fc.string({ maxLength: 8 }),
  fc.constantFrom('', ' a', 'a ', '\u00a0a', 'x'.repeat(201), 'x'.repeat(257), 'ü', 'login'),
  fc.integer(),
  fc.constant(null),
);
const timestamp = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 ** 45 }), weight: 4 },
  fc.constantFrom('2026-02-29T00:00:00Z', '2028-02-29T00:00:00Z', '2026-11-01T12:00:00.123+02:00', '2026-11-01T12:00'),
  { arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), weight: 4 },
  fc.integer({ min: -10, max: 2 ** 53 }),
  fc.double(),
  fc.string({ maxLength: 6 }),
);
const candidate = fc.record(
  {
    eventId: field,
    name: field,
    userId: field,
    accountId: field,
    timestamp,
    properties: fc.oneof(
      { arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })), weight: 4 },
      field,
    ),
    extra: field,
  },
  { requiredKeys: ['name', 'userId', 'timestamp'] },
);

describe('the validation fast path', () => {
  it('accepts only what NativeEventSchema accepts, with the same result', () => {
    let fast = 0;
    fc.assert(
      fc.property(candidate, (raw) => {
        const quick = fastNativeEvent(raw);
        if (quick === undefined) return;
        fast++;
        const parsed = NativeEventSchema.safeParse(raw);
        expect(parsed.success).toBe(true);
        expect(quick).toEqual(parsed.data);
      }),
      { numRuns: 3000 },
    );
    // The property is only meaningful if the fast path was taken often enough.
    expect(fast).toBeGreaterThan(20);
  });

  it('rejects calendar-invalid dates exactly as the schema does', () => {
    expect(fastNativeEvent({ name: 'a', userId: 'u', timestamp: '2026-02-29T00:00:00Z' })).toBeUndefined();
    expect(fastNativeEvent({ name: 'a', userId: 'u', timestamp: '2028-02-29T00:00:00Z' })).toBeDefined();
  });
});

describe('jsonBytesUpperBound', () => {
  it('never underestimates the UTF-8 size of the JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        const exact = Buffer.byteLength(JSON.stringify(value));
        expect(jsonBytesUpperBound(value, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(exact);
      }),
      { numRuns: 1000 },
    );
  });
});
