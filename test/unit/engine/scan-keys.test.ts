import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../../shared/json/scan.js';

const KEYS = ['eventId', 'name', 'userId', 'accountId', 'timestamp', 'properties', 'n', 'sk'] as const;

describe('KeyTable', () => {
  it('numbers its keys from 1 in list order', () => {
    // Arrange / Act
    const table = new KeyTable(KEYS);

    // Assert
    expect(KEYS.map((key) => table.code[key])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('finds a key in text and in bytes by its exact spelling only, wherever it sits', () => {
    const table = new KeyTable(KEYS);
    const key = fc.oneof(
      fc.constantFrom(...KEYS, 'names', 'nam', 'Name', 'userid', 'accountID', 's', 'skk', ''),
      fc.string({ maxLength: 11 }),
    );
    fc.assert(
      fc.property(key, fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), (k, before, after) => {
        // Arrange
        const text = `${before}${k}${after}`;
        const start = before.length;
        const bytes = Buffer.from(text, 'utf8');
        const byteStart = Buffer.byteLength(before);
        const expected = (KEYS as readonly string[]).indexOf(k) + 1;

        // Act / Assert
        expect(table.ofText(text, start, start + k.length)).toBe(expected);
        expect(table.ofBytes(bytes, byteStart, byteStart + Buffer.byteLength(k))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
