/** One bad field: `path` names it (`userId`, `properties.plan`, `events[3].timestamp`), `message` says why. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * What went wrong, stable for callers to switch on. Over HTTP the kinds of docs/api.md#errors are the problem type
 * `urn:pulse:problem:<kind>`; the others never reach a client as such (the CLI and local mode print the message).
 */
export type ErrorKind =
  /** A query, path or body parameter (or a named field of a request) is not valid. */
  | 'invalid-parameter'
  /** An ingest body cannot be read as a batch at all. */
  | 'invalid-body'
  /** A body or a batch over a size limit. */
  | 'payload-too-large'
  | 'unauthorized'
  | 'not-found'
  /** The request cannot be applied to the current state (the id is taken, the model changed since planning). */
  | 'conflict'
  /** Storage or a service stayed unavailable after retries: retry later. */
  | 'unavailable'
  | 'runs-unavailable'
  /** A service Pulse reads from answered with an error. */
  | 'upstream-failed'
  /** Input outside a request: a model file, a flag, a variable, a step's input. */
  | 'invalid-input'
  /** Something failed that the caller cannot fix by changing the input. */
  | 'failed';

export interface PulseErrorOptions {
  kind: ErrorKind;
  /** The HTTP status this error answers with (400 for bad input, 503 for retryable, ...), as Hono's HTTPException. */
  status: number;
  /** The fields at fault, when the error is about named fields. */
  errors?: FieldError[] | undefined;
  cause?: unknown;
}

/**
 * The base of every error Pulse throws on purpose: its kind and HTTP status travel with it, so one mapper
 * (shared/http/problem.ts) turns any of them into a response, and the cause is always kept. Subclasses set `name`
 * literally: bundles are minified, class names are not.
 */
export class PulseError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly errors: FieldError[] | undefined;

  constructor(message: string, options: PulseErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'PulseError';
    this.kind = options.kind;
    this.status = options.status;
    this.errors = options.errors;
  }
}

/** How a 400 about named fields is told: its kind, its message when not `field: why`, its cause. */
export interface InvalidParameterOptions {
  /** `invalid-input` for input that is not an HTTP request's (a CLI flag, a step's input); default `invalid-parameter`. */
  kind?: 'invalid-parameter' | 'invalid-input' | undefined;
  /** The error's message; default the field errors as one line (`field: why`). */
  message?: string | undefined;
  cause?: unknown;
}

/**
 * One or more parameters (query, path, body fields, or named fields of other input) are not valid: a 400 whose
 * `errors[]` names each (docs/api.md#errors). The base of every such error, so the one mapper
 * (shared/http/problem.ts) answers them all alike.
 */
export class InvalidParameterError extends PulseError {
  declare readonly errors: FieldError[];

  constructor(errors: FieldError[], options: InvalidParameterOptions = {}) {
    super(options.message ?? describeFieldErrors(errors), {
      kind: options.kind ?? 'invalid-parameter',
      status: 400,
      errors,
      cause: options.cause,
    });
    this.name = 'InvalidParameterError';
  }

  static of(path: string, message: string, options?: InvalidParameterOptions): InvalidParameterError {
    return new InvalidParameterError([{ path, message }], options);
  }
}

/** One field at fault and why: `field` names it, `errors` is `[{ path: field, message }]`. */
export class InvalidFieldError extends InvalidParameterError {
  constructor(
    readonly field: string,
    message: string,
    options?: InvalidParameterOptions,
  ) {
    super([{ path: field, message }], options);
    this.name = 'InvalidFieldError';
  }
}

/** Field errors as one line: `limit: must be an integer; model: is required`. */
export function describeFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}
