import type { z } from 'zod';
import type { FieldError } from './errors.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/**
 * Per-parse messages for zod's defaults (schema-level messages still win): "is required" instead of "expected
 * string, received undefined", and types named the way a JSON author thinks of them.
 */
export function fieldMessage(issue: RawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    return `must be ${describeExpected(String(issue.expected))}, not ${describeValue(issue.input)}`;
  }
  if (issue.code === 'invalid_union') {
    if (issue.input === undefined) return 'is required';
    const last = issue.path?.[issue.path.length - 1];
    if (last === 'timestamp') {
      return `must be an ISO 8601 date-time with a time zone or whole epoch milliseconds, not ${describeValue(issue.input)}`;
    }
    return `has an unsupported type (${describeValue(issue.input)})`;
  }
  return undefined;
}

export const parseOptions = { error: fieldMessage } as const;

/** zod issues as field errors relative to the parsed value; unknown keys become one error each, named by key. */
export function toFieldErrors(issues: readonly Issue[], allowedKeys?: readonly string[]): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys ? `; allowed: ${allowedKeys.join(', ')}` : '';
      for (const key of issue.keys) {
        out.push({ path: formatPath([...issue.path, key]), message: `is not a known field${allowed}` });
      }
      continue;
    }
    out.push({ path: formatPath(issue.path), message: issue.message });
  }
  return out;
}

/** `userId`, `properties.plan`, `items[2]`; keys that are not plain names are quoted: `traits[""]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/** Prefix relative field paths with where the value sits in the request, e.g. `events[3]` + `userId`. */
export function joinPath(prefix: string, path: string): string {
  if (!path) return prefix;
  if (!prefix) return path;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'record':
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'int':
      return 'an integer';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
