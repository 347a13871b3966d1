import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentEventId } from '../../../shared/domain/event.js';

/**
 * Content-hash ids are stored (the sort key of the events table) and model hashes are recorded with every run:
 * the exact text must never change, however canonicalJson and contentEventId are implemented.
 */

/** The first implementation, kept verbatim as the reference the current one must match character for character. */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonicalJson(v)}`).join(',')}}`;
}

const T = Date.UTC(2026, 10, 1, 11);

describe('contentEventId', () => {
  it.each([
    [{ name: 'login', userId: 'u1', timestamp: T }, 'h-gv77-NV87GKgxJHh3OtCTrIalgRX5BAY'],
    [{ name: 'login', userId: 'u1', accountId: 'a1', timestamp: T }, 'h-gnXb4KZtM4BM00W1-L9Qxp9dUIjKSPmx'],
    [
      {
        name: 'session_ended',
        userId: 'user-42',
        accountId: 'acct-7',
        timestamp: 1793530800123,
        properties: { minutes: 12, plan: 'pro', source: 'web' },
      },
      'h-MM79w2AXmFEJMEKmWVpKgh0o4RFokF6h',
    ],
    [
      {
        name: 'feature_used',
        userId: 'u2',
        timestamp: 1793530800000,
        properties: {
          z: 1,
          a: [3, { y: null, b: 'x' }],
          m: { k2: true, k1: 1.5e-7 },
          '10': 'ten',
          '2': 'two',
          ünï: 'cödé "q"\n',
          skip: undefined,
        },
      },
      'h-syuezhum3o4DM-kiHPvFQFXcPCjTpMKY',
    ],
    [
      { name: 'Ωmega', userId: 'ü\u2028', accountId: undefined, timestamp: 0, properties: {} },
      'h-KuTDbzhC-M4O0-LpeHw4z12fvFFEvdOg',
    ],
  ])('keeps the id of already stored events (%#)', (event, id) => {
    // Act
    const actual = contentEventId(event);

    // Assert
    expect(actual).toBe(id);
  });

  it('gives the id of the reference canonical text for any content', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            name: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ unit: 'binary', minLength: 1 })),
            userId: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ unit: 'binary', minLength: 1 })),
            accountId: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
            timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
            properties: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })), {
              nil: undefined,
            }),
          },
          { requiredKeys: ['name', 'userId', 'timestamp'] },
        ),
        (event) => {
          // Arrange
          const text = referenceCanonicalJson({
            name: event.name,
            userId: event.userId,
            accountId: event.accountId,
            timestamp: event.timestamp,
            properties: event.properties ?? {},
          });
          const expected = `h-${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`;

          // Act / Assert
          expect(contentEventId(event)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('canonicalJson', () => {
  it('keeps its exact text (model content hashes depend on it)', () => {
    // Act
    const text = canonicalJson({
      b: [1, undefined, 'x', { d: 2, c: [] }],
      a: null,
      c: { '1': 1, a: -0, B: 1e21 },
      e: undefined,
    });

    // Assert
    expect(text).toBe('{"a":null,"b":[1,null,"x",{"c":[],"d":2}],"c":{"1":1,"B":1e+21,"a":0}}');
  });

  it('matches the reference implementation on any JSON-like value', () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(
        fc.oneof(
          fc.string({ maxLength: 4 }),
          fc.string({ unit: 'binary', maxLength: 3 }),
          fc.constantFrom('10', '2', '01', '__proto__', 'ü', '\ud83d\ude00', 'a"b', 'c\\'),
        ),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.double(), fc.constant(new Date(0))),
      ),
      fc.array(fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 1 }))),
      fc.sparseArray(fc.integer()),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { minKeys: 17, maxKeys: 40 }),
      fc.constantFrom(undefined, Number.NaN, -0, Number.POSITIVE_INFINITY, '\u2028\ud800'),
    );
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(referenceCanonicalJson(v));
      }),
      { numRuns: 500 },
    );
  });
});
