import { describe, expect, it } from 'vitest';
import { scoreEvents } from '../../../shared/domain/engine/index.js';
import { AS_OF, IN_WINDOW } from '../../support/as-of.js';
import { event, model, repeat, USERPILOT_BANDS } from '../../support/engine.js';

describe('the seed articles’ worked examples', () => {
  it('Userpilot: 10 × 11 + 4 × 17 = 178, a power user', async () => {
    // Arrange
    const m = model({
      signals: [
        { name: 'event-3', event: 'post_scheduled', weight: 10 },
        { name: 'event-1', event: 'hashtag_tested', weight: 4 },
      ],
      bands: USERPILOT_BANDS,
    });
    const events = [...repeat(11, 'post_scheduled', IN_WINDOW), ...repeat(17, 'hashtag_tested', IN_WINDOW)];

    // Act
    const [score] = await scoreEvents(m, events, { asOf: AS_OF });

    // Assert
    expect(score?.rawScore).toBe(178);
    expect(score?.score).toBe(178);
    expect(score?.band).toBe('power-user');
    expect(score?.contributions).toEqual([
      { signal: 'event-3', value: 11, points: 110 },
      { signal: 'event-1', value: 17, points: 68 },
    ]);
  });

  it('daily login 5 + premium feature 10 + webinar 3 = 18', async () => {
    const m = model({
      signals: [
        { name: 'daily-login', event: 'login', aggregate: 'distinctDays', tiers: [{ min: 1, points: 5 }] },
        { name: 'premium', event: 'feature_used', where: { tier: 'premium' }, weight: 10 },
        { name: 'webinar', event: 'webinar_attended', weight: 3 },
      ],
    });
    const events = [
      ...repeat(3, 'login', IN_WINDOW),
      event('feature_used', IN_WINDOW, { properties: { tier: 'premium' } }),
      event('feature_used', IN_WINDOW, { properties: { tier: 'basic' } }),
      event('webinar_attended', IN_WINDOW),
    ];

    const [score] = await scoreEvents(m, events, { asOf: AS_OF });

    expect(score?.rawScore).toBe(18);
  });

  it('project tool: 2 × 10 + 4 × 3 + 5 × 5 + 5 × 15 = 132', async () => {
    // [signal, event, points per event, events sent]
    const uses = [
      ['logins', 'login', 2, 10],
      ['projects', 'project_created', 4, 3],
      ['invites', 'teammate_invited', 5, 5],
      ['core-use', 'core_feature_used', 5, 15],
    ] as const;
    const m = model({ signals: uses.map(([name, eventName, weight]) => ({ name, event: eventName, weight })) });
    const events = uses.flatMap(([, eventName, , sent]) => repeat(sent, eventName, IN_WINDOW));

    const [score] = await scoreEvents(m, events, { asOf: AS_OF });

    expect(score?.rawScore).toBe(132);
  });

  it('Petavue: logins × 1 + feature A × 3 + active weeks × 2', async () => {
    const m = model({
      windowDays: 28,
      signals: [
        { name: 'logins', event: 'login', weight: 1 },
        { name: 'feature-a', event: 'feature_a_used', weight: 3 },
        { name: 'weekly-activity', event: '*', aggregate: 'distinctWeeks', weight: 2 },
      ],
    });
    // 2026-11-24 is a Tuesday; activity in three distinct ISO weeks.
    const events = [
      ...repeat(4, 'login', '2026-11-03T09:00:00Z'),
      ...repeat(2, 'feature_a_used', '2026-11-11T09:00:00Z'),
      event('login', '2026-11-23T09:00:00Z'),
    ];

    const [score] = await scoreEvents(m, events, { asOf: AS_OF });

    expect(score?.contributions).toEqual([
      { signal: 'logins', value: 5, points: 5 },
      { signal: 'feature-a', value: 2, points: 6 },
      { signal: 'weekly-activity', value: 3, points: 6 },
    ]);
    expect(score?.rawScore).toBe(5 * 1 + 2 * 3 + 3 * 2);
  });
});
