import { describe, expect, it } from 'vitest';
import { EVENT_ARCHIVE_COLUMNS } from '../../../shared/domain/event-archive-schema.js';
import { columns, SNAPSHOT_COLUMNS } from '../../../shared/domain/snapshot-schema.js';

describe('columns: the snapshot and event-archive schemas written as tables', () => {
  it('reads name, type, nullability and description, one column a line', () => {
    // Act
    const read = columns(`
      id     string     not null  the id
      at     timestamp  null      when, if known (UTC)
    `);

    // Assert
    expect(read).toEqual([
      { name: 'id', type: 'string', nullable: false, description: 'the id' },
      { name: 'at', type: 'timestamp', nullable: true, description: 'when, if known (UTC)' },
    ]);
  });

  it.each([
    ['an unknown type', 'id  text  not null  the id'],
    ['no nullability', 'id  string  the id'],
    ['no description', 'id  string  null'],
  ])('refuses a line with %s, quoting it', (_case, line) => {
    expect(() => columns(line)).toThrow(`"${line}"`);
  });

  it('states the snapshot and archive columns in their written order', () => {
    // Assert
    expect(SNAPSHOT_COLUMNS.map((c) => c.name)).toEqual([
      'entity_type',
      'entity_id',
      'account_id',
      'model',
      'model_version',
      'as_of',
      'window_days',
      'raw_score',
      'score',
      'band',
      'previous_score',
      'delta',
      'previous_band',
      'last_seen_at',
      'event_count',
      'active_days',
      'contributions',
      'override',
    ]);
    expect(EVENT_ARCHIVE_COLUMNS.map((c) => `${c.name} ${c.type} ${c.nullable}`)).toEqual([
      'event_id string false',
      'user_id string false',
      'account_id string true',
      'name string false',
      'occurred_at timestamp false',
      'properties string true',
    ]);
  });
});
