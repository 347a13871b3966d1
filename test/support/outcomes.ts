/** The header of an outcomes CSV (docs/calibrate.md#the-outcomes-file). */
export const OUTCOMES_HEADER = 'entity_type,entity_id,outcome,outcome_date';

/** An outcomes CSV: the header, then one line per row, no newline at the end. */
export const outcomesCsv = (...rows: string[]) => [OUTCOMES_HEADER, ...rows].join('\n');
