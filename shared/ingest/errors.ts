import { type FieldError, PulseError } from '../domain/errors.js';

export type { FieldError } from '../domain/errors.js';

/** An event (or Segment message) that was not stored, by its index in the request, with every problem found. */
export interface RejectedEvent {
  index: number;
  errors: FieldError[];
}

export { BODY_PATH } from '../domain/field-errors.js';

/** The request body cannot be read as a batch at all (malformed JSON, wrong shape): HTTP 400. */
export class InvalidBodyError extends PulseError {
  declare readonly errors: FieldError[];

  constructor(message: string, errors: FieldError[], options?: { cause?: unknown }) {
    super(message, { kind: 'invalid-body', status: 400, errors, cause: options?.cause });
    this.name = 'InvalidBodyError';
  }
}

/** The request is over a size limit (bytes or event count): HTTP 413. */
export class PayloadTooLargeError extends PulseError {
  declare readonly errors: FieldError[];

  constructor(message: string, errors: FieldError[]) {
    super(message, { kind: 'payload-too-large', status: 413, errors });
    this.name = 'PayloadTooLargeError';
  }
}
