import { describe, expect, it } from 'vitest';
import { demoCalibrateCommand, demoOutcomes, generateDemoData, outcomesCsv } from '../../../shared/local/demo.js';

const TODAY = Date.parse('2026-11-30T00:00:00Z');

describe('demo outcomes (docs/local-mode.md#demo-outcomes)', () => {
  const data = generateDemoData(TODAY);

  it('gives every paying account one outcome, observed yesterday, and none to trials', () => {
    const customers = data.accounts.filter((a) => a.lifecycle === 'customer').map((a) => a.id);
    expect(data.outcomes.map((o) => o.accountId)).toEqual(customers);
    expect(new Set(data.outcomes.map((o) => o.outcomeDate))).toEqual(new Set(['2026-11-29']));
  });

  it('makes churn follow the cohort, noisily: churning > declining > healthy, and none all-or-nothing', () => {
    const rate = (cohort: string) => {
      const ids = new Set(data.accounts.filter((a) => a.cohort === cohort).map((a) => a.id));
      const mine = data.outcomes.filter((o) => ids.has(o.accountId));
      return mine.filter((o) => o.outcome === 'churned').length / mine.length;
    };
    expect(rate('churning')).toBeGreaterThan(rate('declining'));
    expect(rate('declining')).toBeGreaterThan(rate('healthy'));
    expect(rate('healthy')).toBeGreaterThan(0);
    expect(rate('churning')).toBeLessThan(1);
  });

  it('is deterministic and leaves the events as they were without outcomes', () => {
    expect(generateDemoData(TODAY)).toEqual(data);
    expect(demoOutcomes(data.accounts, TODAY)).toEqual(data.outcomes);
  });

  it('writes the outcomes file calibrate reads, and prints the command for it', () => {
    const lines = outcomesCsv(data.outcomes).trim().split('\n');
    expect(lines[0]).toBe('entity_type,entity_id,outcome,outcome_date');
    expect(lines[1]).toMatch(/^account,acct-\d{3},(churned|retained),2026-11-29$/);
    expect(demoCalibrateCommand('.pulse')).toBe(
      'npx pulse calibrate --model account --outcomes .pulse/demo/outcomes.csv --horizon-days 7',
    );
  });
});
