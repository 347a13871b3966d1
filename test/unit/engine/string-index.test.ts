import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashOf, StringIndex } from '../../../shared/domain/engine/string-index.js';

/** Two different strings with the same 32-bit hash, found by search (the birthday bound makes this quick). */
function collidingPair(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const s = `id-${i}`;
    const other = seen.get(hashOf(s));
    if (other !== undefined) return [other, s];
    seen.set(hashOf(s), s);
  }
}

describe('StringIndex', () => {
  it('indicesInOrder orders every index by its string as < does, prefixes, NUL and non-ASCII units included', () => {
    const ascii = ['\u0000', '\u0001', 'a', 'b', '0', '9', '\u007f'];
    const strings = (units: string[]) =>
      fc.array(
        fc.array(fc.constantFrom(...units), { maxLength: 10 }).map((u) => u.join('')),
        { maxLength: 300 },
      );
    fc.assert(
      fc.property(
        fc.oneof(
          // All ASCII (ids as most products write them), or with units up to 0xffff and lone surrogates.
          strings(ascii),
          strings([...ascii, '\u0080', 'é', '\uffff', '\ud83d']),
          fc.array(fc.string({ unit: 'binary', maxLength: 9 }), { maxLength: 300 }),
        ),
        (strings) => {
          // Arrange
          const index = new StringIndex();
          for (const s of strings) index.add(s);

          // Act
          const ordered = [...index.indicesInOrder()].map((i) => index.keys[i]!);

          // Assert
          expect(ordered).toEqual([...index.keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        },
      ),
    );
  });

  it('indicesInOrder orders strings that share a leading part (user-000…) as < does', () => {
    const units = ['\u0000', 'a', 'b', '0', '9', 'é'];
    const tail = fc.array(fc.constantFrom(...units), { maxLength: 12 }).map((u) => u.join(''));
    fc.assert(
      fc.property(tail, fc.array(tail, { maxLength: 300 }), (common, tails) => {
        const index = new StringIndex({ packed: true });
        for (const t of tails) index.add(common + t);

        const ordered = [...index.indicesInOrder()].map((i) => index.keys[i]!);

        expect(ordered).toEqual([...index.keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }),
    );
  });

  it('behaves like a Map from string to insertion index, whatever the strings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 6 })), {
          maxLength: 3000,
        }),
        fc.constantFrom(16, 1024),
        fc.boolean(),
        (strings, initialCapacity, packed) => {
          // Arrange
          const index = new StringIndex({ initialCapacity, packed });
          const reference = new Map<string, number>();

          // Act / Assert
          for (const s of strings) {
            if (!reference.has(s)) reference.set(s, reference.size);
            expect(index.add(s)).toBe(reference.get(s));
          }
          expect(index.size).toBe(reference.size);
          expect(index.keys).toEqual([...reference.keys()]);
          for (const [s, i] of reference) expect(index.indexOf(s)).toBe(i);
          expect(index.indexOf('\u0000never added')).toBe(-1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('strings appended as new (appendNew) are found by every later lookup, in any mix with add, before or after a move to a Map', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.oneof(fc.string({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 6 })), fc.boolean()),
          {
            maxLength: 2000,
          },
        ),
        fc.constantFrom(16, 1024),
        fc.boolean(),
        fc.constantFrom(0, 2, 128),
        (steps, initialCapacity, packed, maxProbes) => {
          // Arrange
          const index = new StringIndex({ initialCapacity, packed, maxProbes });
          const reference = new Map<string, number>();

          // Act / Assert: a string not seen yet is appended when its step says so, else added; a seen one is added.
          for (const [s, append] of steps) {
            const known = reference.has(s);
            if (!known) reference.set(s, reference.size);
            expect(!known && append ? index.appendNew(s) : index.add(s)).toBe(reference.get(s));
          }
          expect(index.size).toBe(reference.size);
          expect(index.keys).toEqual([...reference.keys()]);
          for (const [s, i] of reference) expect(index.indexOf(s)).toBe(i);
          expect(index.indexOf('\u0000never added')).toBe(-1);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('keeps two ids with the same hash apart: a match always compares the whole string', () => {
    // Arrange
    const [a, b] = collidingPair();
    const index = new StringIndex({ packed: true });

    // Act
    const ia = index.add(a);
    const missing = index.indexOf(b);
    const ib = index.add(b);

    // Assert
    expect(hashOf(a)).toBe(hashOf(b));
    expect(a).not.toBe(b);
    expect(missing).toBe(-1);
    expect([ia, ib]).toEqual([0, 1]);
    expect([index.add(a), index.add(b), index.size]).toEqual([0, 1, 2]);
  });

  it('compares strings too long for the packed copy as strings', () => {
    // Arrange
    const long = 'x'.repeat(70_000);
    const index = new StringIndex({ packed: true });

    // Act
    const first = index.add(long);
    const other = index.add(`${'x'.repeat(69_999)}y`);
    const again = index.add('x'.repeat(70_000));

    // Assert
    expect([first, other, again]).toEqual([0, 1, 0]);
  });

  it('moves to a Map when probe runs get long, and keeps every index', () => {
    // Arrange: no probing allowed, so the first occupied slot met switches over
    const index = new StringIndex({ initialCapacity: 16, maxProbes: 0, packed: true });
    const ids = Array.from({ length: 500 }, (_, i) => `user-${i}`);

    // Act
    const first = ids.map((id) => index.add(id));
    const again = ids.map((id) => index.add(id));

    // Assert
    expect(first).toEqual(ids.map((_, i) => i));
    expect(again).toEqual(first);
    expect(ids.map((id) => index.indexOf(id))).toEqual(first);
    expect(index.indexOf('user-500')).toBe(-1);
  });
});
