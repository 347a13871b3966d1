import type { z } from 'zod';
import type { FieldError } from '../domain/errors.js';
import { fieldErrorsOf } from '../domain/field-errors.js';

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
  const allowed = allowedKeys ? `; allowed: ${allowedKeys.join(', ')}` : '';
  return fieldErrorsOf(issues, { unknownKey: () => `is not a known field${allowed}` });
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
