/** One bad field: `path` names it (`userId`, `properties.plan`, `events[3].timestamp`), `message` says why. */
export interface FieldError {
  path: string;
  message: string;
}

/** An event (or Segment message) that was not stored, by its index in the request, with every problem found. */
export interface RejectedEvent {
  index: number;
  errors: FieldError[];
}

/** The path used for problems with the request body as a whole (not JSON, not an object, ...). */
export const BODY_PATH = '(body)';

/** The request body cannot be read as a batch at all (malformed JSON, wrong shape): HTTP 400. */
export class InvalidBodyError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
    this.name = 'InvalidBodyError';
  }
}

/** The request is over a size limit (bytes or event count): HTTP 413. */
export class PayloadTooLargeError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
    this.name = 'PayloadTooLargeError';
  }
}
