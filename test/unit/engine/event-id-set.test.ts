import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventIdSet } from '../../../shared/domain/engine/event-id-set.js';
import { eventIdentity } from '../../../shared/domain/event.js';

type Pair = [string, string];

const key = ([userId, eventId]: Pair) => eventIdentity({ userId, eventId });

/** Ids that meet often: few short ones, some that split alike ("ab"+"c" vs "a"+"bc"), any unicode, long ones. */
const id = fc.oneof(
  fc.constantFrom('', 'a', 'b', 'ab', 'c', 'bc', 'abc'),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 5 }),
  // Lengths of 128 bytes and more take two bytes to write in the set.
  fc.constantFrom('x'.repeat(127), 'x'.repeat(128), 'y'.repeat(300)),
);
const pairs = fc.array(fc.tuple(id, id), { maxLength: 400 });

/** Adds each pair by strings, or by ASCII bytes when both ids are ASCII and `bytes` says so. */
function addEach(set: EventIdSet, list: Pair[], bytes: boolean[]): boolean[] {
  return list.map(([userId, eventId], i) => {
    const ascii = [...(userId + eventId)].every((c) => c.charCodeAt(0) < 0x80);
    if (!ascii || !bytes[i % bytes.length]) return set.add(userId, eventId);
    // Some bytes around the ids, so offsets matter.
    const b = Buffer.from(`{"${userId}${eventId}}`, 'latin1');
    return set.addAscii(b, 2, 2 + userId.length, 2 + userId.length, 2 + userId.length + eventId.length);
  });
}

describe('EventIdSet', () => {
  it('answers like a Set of eventIdentity strings, ids given as strings or as ASCII bytes, with or without its fallback', () => {
    fc.assert(
      fc.property(
        pairs,
        fc.array(fc.boolean(), { minLength: 1 }),
        fc.constantFrom(0, 1, 128),
        fc.constantFrom(8, 28),
        (list, bytes, maxProbes, tagBits) => {
          // Arrange: 28 tag bits leave 4 for offsets, so the set takes bits from its tags after a few identities
          const set = new EventIdSet({ initialCapacity: 16, maxProbes, tagBits });
          const reference = new Set<string>();

          // Act
          const added = addEach(set, list, bytes);

          // Assert
          expect(added).toEqual(
            list.map((pair) => {
              const size = reference.size;
              reference.add(key(pair));
              return reference.size > size;
            }),
          );
          expect(set.size).toBe(reference.size);
          expect([...set.entries()].map(key)).toEqual([...reference]);
          for (const pair of list) expect(set.has(...pair)).toBe(true);
          expect(set.has('\u0000never', 'added')).toBe(false);
          // Reading a slot ahead gives a number whatever the set's state (a batch sums them).
          expect(Number.isInteger(set.touch(0x12345))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('merges exported parts exactly: heldOf names the identities both hold, addAll unites them', () => {
    fc.assert(
      fc.property(pairs, pairs, fc.constantFrom(0, 128), fc.constantFrom(0, 128), (first, second, probesA, probesB) => {
        // Arrange
        const a = new EventIdSet({ maxProbes: probesA });
        const b = new EventIdSet({ maxProbes: probesB });
        a.add('u', 'e'); // never empty: addAll merges rather than taking the other's arrays
        addEach(a, first, [true, false]);
        addEach(b, second, [false, true]);
        const inA = new Set([key(['u', 'e']), ...first.map(key)]);
        const inB = new Set(second.map(key));

        // Act
        const moved = EventIdSet.from(b.export(), { maxProbes: probesB });
        const held = moved.size === 0 ? [] : a.heldOf(moved);
        a.addAll(moved);

        // Assert
        expect(new Set(held.map(key))).toEqual(new Set([...inB].filter((k) => inA.has(k))));
        expect(held.length).toBe(new Set(held.map(key)).size);
        expect(new Set([...a.entries()].map(key))).toEqual(new Set([...inA, ...inB]));
        expect(a.size).toBe(new Set([...inA, ...inB]).size);
        expect(b.size).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('an empty set takes over an exported set whole', () => {
    // Arrange
    const part = new EventIdSet();
    for (let i = 0; i < 5000; i++) part.add(`u${i % 70}`, `e-${i}`);
    const whole = new EventIdSet();

    // Act
    whole.addAll(EventIdSet.from(part.export()));

    // Assert
    expect(whole.size).toBe(5000);
    expect(whole.add('u3', 'e-3')).toBe(false);
    expect(whole.add('u3', 'e-4')).toBe(true);
  });

  it('takes bits from its tags when offsets outgrow theirs, and still answers exactly', () => {
    // Arrange: 28 tag bits leave 4 for offsets, so offsets outgrow them past 14 bytes, 30, 62, …
    const set = new EventIdSet({ initialCapacity: 16, tagBits: 28 });
    const ids = Array.from({ length: 300 }, (_, i): Pair => [`u${i % 7}`, `e-${i}`]);

    // Act
    const first = ids.map(([userId, eventId]) => set.add(userId, eventId));
    const again = ids.map(([userId, eventId]) => set.add(userId, eventId));

    // Assert
    expect(first.every(Boolean)).toBe(true);
    expect(again.some(Boolean)).toBe(false);
    expect(set.size).toBe(300);
    expect([...set.entries()]).toEqual(ids);
    expect(set.has('u0', 'e-1')).toBe(false);
  });

  it('keeps identities whose ids split differently apart, and ids past 65,535 code units', () => {
    // Arrange
    const set = new EventIdSet();
    const long = 'x'.repeat(70_000);

    // Act / Assert
    expect(set.add('ab', 'c')).toBe(true);
    expect(set.add('a', 'bc')).toBe(true);
    expect(set.add(long, 'e')).toBe(true);
    expect(set.add(`${long}e`, '')).toBe(true);
    expect(set.add(long, 'e')).toBe(false);
    expect([...set.entries()].map(([u, e]) => [u.length, e])).toEqual([
      [2, 'c'],
      [1, 'bc'],
      [70_000, 'e'],
      [70_001, ''],
    ]);
  });
});
