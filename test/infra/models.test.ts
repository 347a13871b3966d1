import { describe, expect, it } from 'vitest';
import { scheduleExpressionFor } from '../../infra/constructs/models.js';
import { BAD_MODELS, synthApp } from './support.js';

describe('models at synth time', () => {
  it('fails the synth naming the bad file, line and field', () => {
    // Act
    const synth = () => synthApp({ 'pulse:modelsDir': BAD_MODELS });

    // Assert
    expect(synth).toThrow(/Pulse models are invalid/);
    expect(synth).toThrow(/bad-models\/broken\.yaml:5: windowDays: /);
  });

  it('fails the synth when the models folder is missing', () => {
    expect(() => synthApp({ 'pulse:modelsDir': 'no-such-folder' })).toThrow(/no-such-folder.*cannot be read/);
  });

  it.each([
    ['daily', 'cron(15 0 * * ? *)'],
    ['weekly', 'cron(15 0 ? * MON *)'],
    ['monthly', 'cron(15 0 1 * ? *)'],
    ['cron(0 2 * * ? *)', 'cron(0 2 * * ? *)'],
  ])('schedules cadence %s as %s', (cadence, expected) => {
    expect(scheduleExpressionFor(cadence)).toBe(expected);
  });

  it('rejects malformed context numbers', () => {
    expect(() => synthApp({ 'pulse:shardCount': 'many' })).toThrow(/pulse:shardCount must be a positive whole number/);
  });
});
