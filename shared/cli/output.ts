import { stringify } from 'csv-stringify/sync';
import { CliError, type CliIO, EXIT_USAGE } from './io.js';

/** How a reading command prints: an aligned table for people, JSON or CSV for programs. */
export type OutputFormat = 'table' | 'json' | 'csv';

export function outputFormat(flags: { json?: boolean | undefined; csv?: boolean | undefined }): OutputFormat {
  if (flags.json && flags.csv) throw new CliError('give --json or --csv, not both', EXIT_USAGE);
  return flags.json ? 'json' : flags.csv ? 'csv' : 'table';
}

export function writeJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * RFC 4180 CSV with a header row (csv-stringify quotes commas, quotes and line breaks in ids). Nested values are
 * JSON text, as in the snapshots' `contributions` column.
 */
export function writeCsv(io: CliIO, columns: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = rows.map((row) =>
    row.map((v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : v)),
  );
  io.stdout.write(stringify(cells, { header: true, columns: [...columns] }));
}
