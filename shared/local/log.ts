import type { RunLogger } from '../run/deps.js';

/**
 * Run logs for a terminal: one readable line per finished or failed run (shard-level lines are left out; the
 * Lambdas log those as JSON). Counts and ids only, never event content.
 */
export function terminalRunLogger(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): RunLogger {
  const fields = (f: Record<string, unknown> | undefined) =>
    Object.entries(f ?? {})
      .filter(([, v]) => v !== undefined && (typeof v !== 'object' || v === null))
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
  return {
    info(message, f) {
      if (/^run (succeeded|failed)/.test(message)) write(`[run] ${message} ${fields(f)}`);
    },
    warn(message, f) {
      write(`[warn] ${message} ${fields(f)}`);
    },
  };
}
