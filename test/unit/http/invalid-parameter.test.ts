import { describe, expect, it } from 'vitest';
import { CostInputError } from '../../../infra/cost/estimate.js';
import { ArchiveRequestError } from '../../../shared/archive/archive-step.js';
import { DashboardInputError } from '../../../shared/dashboard/data.js';
import { InvalidFieldError, InvalidParameterError } from '../../../shared/domain/errors.js';
import { InvalidOverrideError } from '../../../shared/domain/override.js';
import { InvalidAsOfError } from '../../../shared/domain/time.js';
import { InvalidCursorError } from '../../../shared/ports/errors.js';
import { InvalidRunRequestError, UnknownModelError } from '../../../shared/run/errors.js';

describe('one-field 400s share one base (InvalidFieldError, an InvalidParameterError)', () => {
  it.each([
    ['DashboardInputError', new DashboardInputError('band', 'is not a band'), 'band: is not a band'],
    [
      'InvalidRunRequestError',
      new InvalidRunRequestError('from', 'must not be after to'),
      'from: must not be after to',
    ],
    ['InvalidOverrideError', new InvalidOverrideError('reason', 'must say why'), 'reason: must say why'],
    ['InvalidCursorError', new InvalidCursorError('cursor is not valid'), 'cursor is not valid'],
    ['InvalidAsOfError', new InvalidAsOfError('soon'), expect.stringMatching(/^asOf "soon" must be a date/)],
    ['UnknownModelError', new UnknownModelError('nope'), 'model "nope" is not one of the active models'],
  ])('%s: a 400 of kind invalid-parameter naming its field, with its own name and message', (name, error, message) => {
    // Assert
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect(error.name).toBe(name);
    expect(error.message).toEqual(message);
    expect(error.kind).toBe('invalid-parameter');
    expect(error.status).toBe(400);
    expect(error.errors).toEqual([{ path: error.field, message: expect.any(String) }]);
  });

  it.each([
    ['CostInputError', new CostInputError('users', 'must be at least 1')],
    ['ArchiveRequestError', new ArchiveRequestError('archive.to', 'must not be before from')],
  ])('%s: input that is not an HTTP request keeps the kind invalid-input', (name, error) => {
    // Assert
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect(error.name).toBe(name);
    expect(error.kind).toBe('invalid-input');
    expect(error.message).toBe(`${error.field}: ${error.errors[0]?.message}`);
  });

  it('keeps the cause it was given', () => {
    // Arrange
    const cause = new InvalidCursorError();

    // Act
    const error = new DashboardInputError('cursor', cause.message, { cause });

    // Assert
    expect(error.cause).toBe(cause);
    expect(error.errors).toEqual([{ path: 'cursor', message: cause.message }]);
  });

  it('lists several fields in one message when there are several', () => {
    // Act
    const error = new InvalidParameterError([
      { path: 'limit', message: 'must be at most 1000' },
      { path: 'model', message: 'is required' },
    ]);

    // Assert
    expect(error.message).toBe('limit: must be at most 1000; model: is required');
  });
});
