import type { z } from 'zod';
import type { FieldError } from './errors.js';

type Issue = z.core.$ZodIssue;

/** The path of a problem with a request body as a whole (not JSON, not an object, too large). */
export const BODY_PATH = '(body)';

export interface FieldErrorOptions {
  /** The message for a key the schema does not allow. */
  unknownKey: (key: string) => string;
  /** The path of an issue about the value as a whole (an empty path). */
  root?: string | undefined;
  /** The message of any other issue (default: zod's). */
  message?: ((issue: Issue) => string) | undefined;
}

/**
 * zod issues as field errors, relative to the parsed value: the one formatter of `errors[].path` for ingest, the API
 * and model files (docs/api.md#errors). An unknown key becomes one error each, named by its own path.
 */
export function fieldErrorsOf(issues: readonly Issue[], options: FieldErrorOptions): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: formatPath([...issue.path, key]), message: options.unknownKey(key) });
      continue;
    }
    out.push({
      path: formatPath(issue.path) || (options.root ?? ''),
      message: options.message ? options.message(issue) : issue.message,
    });
  }
  return out;
}

/**
 * `userId`, `properties.plan`, `items[2]`; keys that are not plain names are quoted, in brackets after another part
 * (`traits[""]`, `traits["plan tier"]`) and bare as the first part (`""`).
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += out ? `[${JSON.stringify(String(part))}]` : JSON.stringify(String(part));
  }
  return out;
}

/** Prefix relative field paths with where the value sits in the request, e.g. `events[3]` + `userId`. */
export function joinPath(prefix: string, path: string): string {
  if (!path) return prefix;
  if (!prefix) return path;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}
