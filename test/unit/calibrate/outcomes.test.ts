import { describe, expect, it } from 'vitest';
import { OutcomesFileError } from '../../../shared/calibrate/errors.js';
import { parseOutcomes, splitCsvLine } from '../../../shared/calibrate/outcomes.js';
import { OUTCOMES_HEADER, outcomesCsv } from '../../support/outcomes.js';

function issuesOf(text: string, file = 'outcomes.csv'): string[] {
  try {
    parseOutcomes(text, file);
  } catch (error) {
    if (error instanceof OutcomesFileError) return error.issues.map((i) => `${i.line}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('parseOutcomes (CSV)', () => {
  it('reads the documented header and classifies churned as bad, the others as good', () => {
    // Arrange
    const text = outcomesCsv(
      'account,acme,churned,2026-03-31',
      'account,globex,Renewed,2026-04-01',
      'user,u-1,upgraded,2026-04-02T10:00:00Z',
      'user,u-2,retained,2026-04-02',
    );

    // Act
    const outcomes = parseOutcomes(text, 'outcomes.csv');

    // Assert
    expect(outcomes.map((o) => [o.line, o.entityType, o.entityId, o.outcome, o.good, o.outcomeDate])).toEqual([
      [2, 'account', 'acme', 'churned', false, '2026-03-31'],
      [3, 'account', 'globex', 'renewed', true, '2026-04-01'],
      [4, 'user', 'u-1', 'upgraded', true, '2026-04-02T10:00:00Z'],
      [5, 'user', 'u-2', 'retained', true, '2026-04-02'],
    ]);
  });

  it('accepts columns in any order, quoted fields, a BOM, CRLF and blank lines', () => {
    // Arrange
    const text =
      '\ufeffoutcome_date,outcome,entity_id,entity_type,note\r\n2026-03-31,churned,"acme, inc.",account,"said ""no"""\r\n\r\n';

    // Act
    const [o] = parseOutcomes(text, 'o.csv');

    // Assert
    expect(o).toMatchObject({ entityId: 'acme, inc.', entityType: 'account', good: false, line: 2 });
  });

  it('lists every bad row with its line number and what is wrong', () => {
    // Arrange
    const text = outcomesCsv(
      'team,t1,churned,2026-03-31',
      'user,,churned,2026-03-31',
      'user,u1,cancelled,2026-03-31',
      'user,u2,churned,31/03/2026',
      'user,u3,churned',
      'user,u4,churned,2026-03-31',
      'user,u4,renewed,2026-03-31',
    );

    // Act
    const issues = issuesOf(text);

    // Assert
    expect(issues).toEqual([
      '2: entity_type must be user or account, got "team"',
      '3: entity_id must not be empty',
      '4: outcome must be churned, retained, renewed or upgraded, got "cancelled"',
      '5: outcome_date must be a date (YYYY-MM-DD) or an ISO 8601 instant with a zone, got "31/03/2026"',
      '6: expected 4 columns, found 3',
      '8: duplicate outcome for user "u4" on 2026-03-31 (first on line 7)',
    ]);
  });

  it('names the missing header columns', () => {
    expect(issuesOf('user_id,outcome,date\nu1,churned,2026-01-01')).toEqual([
      '1: header must be entity_type,entity_id,outcome,outcome_date (missing entity_type, entity_id, outcome_date)',
    ]);
  });

  it('rejects a file with no data rows', () => {
    expect(issuesOf(`${OUTCOMES_HEADER}\n`)).toEqual(['1: no outcomes: the file has no data rows']);
  });

  it('puts the file and line in the error message', () => {
    expect(() => parseOutcomes(outcomesCsv('user,u1,gone,2026-01-01'), 'data/o.csv')).toThrow(
      /^data\/o\.csv:2: outcome must be/,
    );
  });
});

describe('parseOutcomes (JSONL)', () => {
  it('reads one object a line, numeric ids as text', () => {
    // Arrange
    const text = [
      '{"entity_type":"user","entity_id":42,"outcome":"churned","outcome_date":"2026-03-31"}',
      '',
      '{"entity_type":"user","entity_id":"u7","outcome":"renewed","outcome_date":"2026-03-31"}',
    ].join('\n');

    // Act
    const outcomes = parseOutcomes(text, 'outcomes.jsonl');

    // Assert
    expect(outcomes.map((o) => [o.line, o.entityId, o.good])).toEqual([
      [1, '42', false],
      [3, 'u7', true],
    ]);
  });

  it('reports lines that are not JSON objects and missing keys', () => {
    expect(
      issuesOf('{"entity_type":"user"\n[1]\n{"entity_type":"user","entity_id":"u1","outcome":"churned"}', 'o.jsonl'),
    ).toEqual([
      expect.stringMatching(/^1: not JSON/),
      '2: must be a JSON object with entity_type, entity_id, outcome, outcome_date',
      '3: outcome_date must be a date (YYYY-MM-DD) or an ISO 8601 instant with a zone, got nothing',
    ]);
  });
});

describe('splitCsvLine', () => {
  it('handles empty trailing fields and escaped quotes', () => {
    expect(splitCsvLine('a,"b ""c""",')).toEqual(['a', 'b "c"', '']);
    expect(splitCsvLine('"open')).toBe('unterminated quoted field');
  });
});
