import { isCalendarDate, isDateOrInstant } from '../domain/dates.js';
import { type ErrorKind, PulseError } from '../domain/errors.js';

/** Where a command writes and what it reads from its environment: process by default, buffers in tests. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const processIO = (): CliIO => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the user can act on: printed as `error: <message>` and exits with `exitCode` (1, or 2 for bad usage). */
export class CliError extends PulseError {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    options?: { kind?: ErrorKind; status?: number; cause?: unknown },
  ) {
    super(message, {
      kind: options?.kind ?? (exitCode === EXIT_USAGE ? 'invalid-input' : 'failed'),
      status: options?.status ?? (exitCode === EXIT_USAGE ? 400 : 500),
      cause: options?.cause,
    });
    this.name = 'CliError';
  }
}

export const usageError = (message: string, options?: { cause?: unknown }) =>
  new CliError(message, EXIT_USAGE, options);

/** Whether progress bars should be drawn (an interactive terminal only: never in logs or pipes). */
export const interactive = (io: CliIO): boolean => Boolean(io.stderr.isTTY) && !io.env.CI;

/** A plain text table with aligned columns; numbers right-aligned. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): string {
  const cells = rows.map((row) => row.map((v) => (v === null ? '—' : String(v))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number'),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}

/** A YYYY-MM-DD flag value on the calendar, or a usage error naming the flag. */
export function parseDateFlag(value: string, flag: string): string {
  if (!isCalendarDate(value)) throw usageError(`${flag} must be a calendar date like 2026-03-01 (got "${value}")`);
  return value;
}

/** A calendar date or an ISO 8601 instant with a time zone, or a usage error naming the flag. */
export function parseDateOrInstantFlag(value: string, flag: string): string {
  if (!isDateOrInstant(value)) {
    throw usageError(
      `${flag} must be a calendar date like 2026-03-01 or an instant like 2026-03-01T00:00:00Z (got "${value}")`,
    );
  }
  return value;
}

/** A positive whole-number flag value within bounds, or a usage error naming the flag. */
/** A share from 0 to 1 given as a decimal (`0.3`), else a usage error naming the flag. */
export function parseShare(value: string, flag: string): number {
  const n = Number(value);
  if (!/^(0|1)(\.\d+)?$|^\.\d+$/.test(value) || !(n >= 0 && n <= 1)) {
    throw usageError(`${flag} must be a number from 0 to 1, e.g. 0.3 (got "${value}")`);
  }
  return n;
}

export function parseCount(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value.replaceAll('_', ''));
  if (!/^\d[\d_]*$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw usageError(`${flag} must be a whole number from 1 to ${max.toLocaleString('en-US')} (got "${value}")`);
  }
  return n;
}
