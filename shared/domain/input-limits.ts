/**
 * Limits on what one event or one entity may hold, chosen so that every DynamoDB key and item built from input
 * stays within DynamoDB's own limits (2,048-byte partition key, 1,024-byte sort key, 400 KB item) whatever the
 * input. Each limit and its reason: docs/api.md#limits and docs/data-model.md#limits.
 */

/**
 * UTF-8 bytes of a user, account, event, message or group id. The longest key built from ids is an event's sort key
 * `<n>#<userId>#<eventId>` (at most 4 + 1 + 256 + 1 + 256 = 518 bytes of the 1,024 allowed); the others add at most
 * a model name and a date to one id.
 */
export const MAX_ID_BYTES = 256;

/** Objects and arrays inside one another in one event or message, the event itself being level 1. */
export const MAX_DEPTH = 32;

/** Values (object members and array elements at every depth) in one event's `properties` or one call's traits. */
export const MAX_PROPERTY_VALUES = 1_000;

/** Traits one user or account may hold. */
export const MAX_TRAITS_PER_ENTITY = 256;

/** UTF-8 bytes of one entity's traits: names plus values as JSON text (the entity record stays far below 400 KB). */
export const MAX_TRAITS_BYTES = 64 * 1024;

/**
 * Why `value` cannot be an id, or undefined when it can: at most MAX_ID_BYTES UTF-8 bytes, well-formed UTF-16 (no
 * lone surrogate, which has no UTF-8 form), no control character (C0, DEL, C1). One pass, no allocation.
 */
export function idProblem(value: string): string | undefined {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return `must not contain control characters (U+${c.toString(16).toUpperCase().padStart(4, '0')} at position ${i})`;
    }
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return `must be valid Unicode (lone surrogate at position ${i})`;
      bytes += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return `must be valid Unicode (lone surrogate at position ${i})`;
    } else bytes += 3;
  }
  if (bytes > MAX_ID_BYTES) return `is ${bytes} bytes in UTF-8; an id may be at most ${MAX_ID_BYTES} bytes`;
  return undefined;
}

/** UTF-8 length of a string (Buffer.byteLength without Node's Buffer, so domain code stays portable). */
export function utf8Bytes(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

export interface ShapeProblem {
  /** The top-level field where the problem is (`properties`, `traits`, `context`). */
  path: string;
  message: string;
}

/**
 * Nesting depth of a parsed JSON value, walked without recursion (a 5,000-deep value must not overflow the stack):
 * the depth of `value` itself is 1 for an object or array, 0 for a scalar. Stops as soon as `max` is passed.
 */
export function depthExceeds(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: { value: object; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/** Values inside `value` (members and elements at every depth), counting stops past `max`. Iterative. */
export function countValues(value: unknown, max: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  const stack: object[] = [value];
  while (stack.length > 0 && count <= max) {
    const node = stack.pop()!;
    const children = Array.isArray(node) ? node : Object.values(node);
    count += children.length;
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return count;
}

/**
 * The first shape problem of a raw event or message: nesting deeper than MAX_DEPTH (the event is level 1), or a
 * `properties` / `traits` object holding more than MAX_PROPERTY_VALUES values. Checked before anything else walks
 * the value (size estimate, hashing, JSON text), so a hostile shape costs one bounded pass.
 */
export function shapeProblem(raw: unknown): ShapeProblem | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const record = raw as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (typeof value !== 'object' || value === null) continue;
    // The event is level 1, so each of its fields may nest MAX_DEPTH − 1 levels.
    if (depthExceeds(value, MAX_DEPTH - 1)) {
      return { path: key, message: `nests deeper than ${MAX_DEPTH} levels; an event may nest at most ${MAX_DEPTH}` };
    }
  }
  for (const key of ['properties', 'traits']) {
    const count = countValues(record[key], MAX_PROPERTY_VALUES);
    if (count > MAX_PROPERTY_VALUES) {
      return {
        path: key,
        message: `holds more than ${MAX_PROPERTY_VALUES.toLocaleString('en-US')} values (members and array elements at every depth); at most ${MAX_PROPERTY_VALUES.toLocaleString('en-US')}`,
      };
    }
  }
  const context = record.context;
  if (typeof context === 'object' && context !== null && !Array.isArray(context)) {
    const count = countValues((context as Record<string, unknown>).traits, MAX_PROPERTY_VALUES);
    if (count > MAX_PROPERTY_VALUES) {
      return {
        path: 'context.traits',
        message: `holds more than ${MAX_PROPERTY_VALUES.toLocaleString('en-US')} values; at most ${MAX_PROPERTY_VALUES.toLocaleString('en-US')}`,
      };
    }
  }
  return undefined;
}
