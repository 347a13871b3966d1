import { describe, expect, it } from 'vitest';
import { COST_ASSUMPTIONS, CostInputError, compareCost, estimateCost, hotDaysOf } from '../../infra/cost/estimate.js';
import { PRICES, PRICES_AS_OF } from '../../infra/cost/prices.js';

const item = (e: ReturnType<typeof estimateCost>, name: string) => {
  const found = e.lineItems.find((li) => li.item === name);
  if (!found) throw new Error(`no line item ${name}`);
  return found;
};

describe('estimateCost', () => {
  it('prices ingest of 10M events: 200k HTTP requests, 20M write units', () => {
    // Act
    const e = estimateCost({ eventsPerMonth: 10_000_000, entities: 10_000 });

    // Assert: 10M / 50 per request = 200k requests × $1/M = $0.20.
    expect(item(e, 'ingest requests').quantity).toBe(200_000);
    expect(e.lineItems.find((li) => li.service === 'API Gateway')!.monthlyUsd).toBeCloseTo(0.2, 6);
    // 10M events × (item + byAccount copy) = 20M WRU × $0.625/M = $12.50.
    expect(item(e, 'event writes').quantity).toBe(20_000_000);
    expect(item(e, 'event writes').monthlyUsd).toBeCloseTo(12.5, 6);
  });

  it('prices score writes of the design before: 1M entities, daily, 5 WRU each = 150M WRU = $93.75', () => {
    // Act
    const e = estimateCost({ eventsPerMonth: 1_000_000, entities: 1_000_000 }, 'before');

    // Assert: current 2 (1.1 KB) + byScore copy 2 + history 1.
    expect(item(e, 'score and history writes').quantity).toBe(150_000_000);
    expect(item(e, 'score and history writes').monthlyUsd).toBeCloseTo(93.75, 6);
  });

  it('prices compact score items at one WRU each and history writes only for changed entries', () => {
    // Act
    const all = estimateCost({ eventsPerMonth: 1_000_000, entities: 1_000_000, historyChangeShare: 1 });
    const none = estimateCost({ eventsPerMonth: 1_000_000, entities: 1_000_000, historyChangeShare: 0 });
    const some = estimateCost({ eventsPerMonth: 1_000_000, entities: 1_000_000, historyChangeShare: 0.2 });
    const measured = estimateCost({ eventsPerMonth: 1_000_000, entities: 1_000_000 });

    // Assert: 30 runs × 1M × (current 1 + byScore 1 + changed share + runs closed 0.2 × 0.8).
    expect(item(all, 'score and history writes').quantity).toBe(90_000_000);
    expect(item(none, 'score and history writes').quantity).toBe(60_000_000);
    expect(item(some, 'score and history writes').quantity).toBeCloseTo(30e6 * (2 + 0.2 + 0.16), 0);
    expect(item(measured, 'score and history writes').quantity).toBeCloseTo(30e6 * (2 + 0.24 + 0.24 * 0.76), 0);
    expect(item(none, 'storage').quantity).toBeLessThan(item(some, 'storage').quantity);
    expect(item(some, 'storage').quantity).toBeLessThan(item(all, 'storage').quantity);
  });

  it('rejects a history change share above 1 naming the field', () => {
    expect(() => estimateCost({ eventsPerMonth: 1, entities: 1, historyChangeShare: 1.5 })).toThrow(
      /historyChangeShare/,
    );
  });

  it('prices no duplicate read at ingest (one conditional put an event) except in the design before', () => {
    // Act
    const now = estimateCost({ eventsPerMonth: 1e8, entities: 1e6 });
    const before = estimateCost({ eventsPerMonth: 1e8, entities: 1e6 }, 'before');

    // Assert
    expect(now.lineItems.some((li) => li.id === 'event-duplicate-checks')).toBe(false);
    expect(item(before, 'duplicate checks at ingest').quantity).toBe(1e8);
  });

  it('reads each window once per run: 30 runs × 1M events × 400 B / 4 KB × 0.5 RRU', () => {
    // Act
    const e = estimateCost({ eventsPerMonth: 1_000_000, entities: 10_000, inactiveDays: 0 });

    // Assert
    expect(item(e, 'window reads by runs').quantity).toBeCloseTo((30 * 1_000_000 * 400 * 0.5) / 4096, 6);
  });

  it('totals the line items, names its price date and gives a cost per million events', () => {
    // Act
    const e = estimateCost({ eventsPerMonth: 100_000_000, entities: 1_000_000 });
    const sum = e.lineItems.reduce((s, li) => s + li.monthlyUsd, 0);

    // Assert
    expect(e.totalUsd).toBeCloseTo(sum, 9);
    expect(e.usdPerMillionEvents).toBeCloseTo(e.totalUsd / 100, 9);
    expect(e.pricesAsOf).toBe(PRICES_AS_OF);
    expect(e.pricesAsOf).toMatch(/2026/);
    for (const li of e.lineItems) expect(li.formula.length).toBeGreaterThan(0);
  });

  it('grows with volume and never goes negative', () => {
    // Act
    const totals = [1e6, 1e7, 1e8].map((n) => estimateCost({ eventsPerMonth: n, entities: 10_000 }).totalUsd);

    // Assert
    expect(totals[0]!).toBeGreaterThan(0);
    expect(totals[1]!).toBeGreaterThan(totals[0]!);
    expect(totals[2]!).toBeGreaterThan(totals[1]!);
  });

  it('weekly runs cost less to score than daily ones', () => {
    // Act
    const daily = estimateCost({ eventsPerMonth: 1e6, entities: 1e6 });
    const weekly = estimateCost({ eventsPerMonth: 1e6, entities: 1e6, runsPerMonth: 4.35 });

    // Assert
    expect(item(weekly, 'score and history writes').monthlyUsd).toBeLessThan(
      item(daily, 'score and history writes').monthlyUsd,
    );
  });

  it('uses the published unit prices', () => {
    expect(PRICES.dynamoWriteRequestUnits).toEqual({ usd: 0.625, per: 1e6, unit: expect.any(String) });
    expect(PRICES.httpApiRequests.usd).toBe(1);
  });

  it('keeps the hot window in DynamoDB and the rest in S3: 100M events, 1M entities', () => {
    // Act
    const { before, after } = compareCost({ eventsPerMonth: 100_000_000, entities: 1_000_000 });

    // Assert: the design before the archive (measured item sizes), and the new storage arithmetic.
    expect(before.usdPerMillionEvents).toBeCloseTo(8.48, 1);
    expect(after.hotDays).toBe(hotDaysOf({ windowDays: 30, inactiveDays: 14 }));
    expect(after.hotDays).toBe(30 + 1 + 7);
    const eventGb = ((100_000_000 / 30) * 38 * 2 * 400) / 1024 ** 3;
    expect(item(after, 'storage').formula).toContain(`events ${eventGb.toFixed(2)} GB`);
    expect(item(after, 'archive storage').quantity).toBeCloseTo(
      (100_000_000 * (400 / 30) * COST_ASSUMPTIONS.archiveBytesPerEvent) / 1024 ** 3,
      9,
    );
    expect(item(after, 'archive step reads').quantity).toBeCloseTo((2 * 100_000_000 * 400 * 0.5) / 4096, 6);
    expect(after.totalUsd).toBeLessThan(before.totalUsd * 0.55);
    expect(before.lineItems.some((li) => li.id.startsWith('archive'))).toBe(false);
  });

  it('reads back the longer of the window and the longest inactiveDays', () => {
    const e = estimateCost({ eventsPerMonth: 3_000_000, entities: 1, windowDays: 14, inactiveDays: 45 });
    expect(item(e, 'window reads by runs').formula).toContain('in 45 days read back');
    expect(e.hotDays).toBe(53);
  });

  it.each([
    [{ eventsPerMonth: -1, entities: 10 }, 'eventsPerMonth'],
    [{ eventsPerMonth: 10, entities: Number.NaN }, 'entities'],
    [{ eventsPerMonth: 10, entities: 10, eventsPerRequest: 0 }, 'eventsPerRequest'],
    [{ eventsPerMonth: 10, entities: 10, accountShare: 2 }, 'accountShare'],
  ])('rejects %o naming the field %s', (input, field) => {
    // Act
    const run = () => estimateCost(input);

    // Assert
    expect(run).toThrow(CostInputError);
    expect(run).toThrow(new RegExp(`^${field}:`));
  });
});
