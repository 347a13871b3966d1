import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One record of an input file: its (first) line number, the bytes read through it, and the event or a problem. */
export type FileRecord =
  | { line: number; bytesRead: number; event: Record<string, unknown> }
  | { line: number; bytesRead: number; problem: string };

async function* lines(file: string): AsyncGenerator<{ text: string; line: number; bytesRead: number }> {
  const input = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const reader = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let bytesRead = 0;
  for await (const text of reader) {
    line++;
    bytesRead += Buffer.byteLength(text, 'utf8') + 1;
    yield { text, line, bytesRead };
  }
}

/** Native events (docs/data-model.md#ingest-contract-details), one JSON object a line; blank lines are skipped. The server validates the fields. */
export async function* jsonlRecords(file: string): AsyncGenerator<FileRecord> {
  for await (const { text, line, bytesRead } of lines(file)) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { line, bytesRead, problem: `not JSON: ${(error as Error).message}` };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { line, bytesRead, problem: 'must be a JSON object (one event a line)' };
      continue;
    }
    yield { line, bytesRead, event: value as Record<string, unknown> };
  }
}

/** Split one CSV record (RFC 4180: quoted fields, doubled quotes, embedded commas and newlines). */
export function splitCsv(record: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const ch = record[i]!;
    if (quoted) {
      if (ch === '"' && record[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

const EVENT_COLUMNS = new Set(['eventId', 'name', 'userId', 'accountId', 'timestamp']);

/** A CSV cell as a property value: numbers and booleans typed, empty cells left out. */
function cellValue(cell: string): unknown {
  if (cell === '') return undefined;
  if (cell === 'true') return true;
  if (cell === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(cell) && Number.isFinite(Number(cell))) return Number(cell);
  return cell;
}

/**
 * Events from a CSV file with a header row. Columns `name`, `userId`, `timestamp` (ISO 8601 or epoch ms),
 * optional `eventId`, `accountId`, `properties` (a JSON object); any other column becomes a property (a
 * `properties.` prefix is dropped), numbers and true/false typed, empty cells omitted.
 */
export async function* csvRecords(file: string): AsyncGenerator<FileRecord> {
  let header: string[] | undefined;
  let pending = '';
  let startLine = 0;
  let lastBytes = 0;
  for await (const { text, line, bytesRead } of lines(file)) {
    lastBytes = bytesRead;
    if (pending === '') startLine = line;
    pending = pending === '' ? text : `${pending}\n${text}`;
    // An odd number of quotes so far: a quoted field goes on over the next line.
    if ((pending.match(/"/g)?.length ?? 0) % 2 === 1) continue;
    const record = pending;
    pending = '';
    if (record.trim() === '') continue;
    const cells = splitCsv(record);
    if (!header) {
      header = cells.map((c) => c.trim());
      const missing = ['name', 'userId', 'timestamp'].filter((c) => !header!.includes(c));
      if (missing.length > 0) {
        yield {
          line: startLine,
          bytesRead,
          problem: `header: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
        };
        return;
      }
      continue;
    }
    if (cells.length !== header.length) {
      yield { line: startLine, bytesRead, problem: `has ${cells.length} fields, the header has ${header.length}` };
      continue;
    }
    const event: Record<string, unknown> = {};
    let properties: Record<string, unknown> = {};
    let problem: string | undefined;
    header.forEach((column, i) => {
      const cell = cells[i]!;
      if (EVENT_COLUMNS.has(column)) {
        if (cell === '') return;
        event[column] = column === 'timestamp' && /^\d+$/.test(cell) ? Number(cell) : cell;
      } else if (column === 'properties') {
        if (cell === '') return;
        try {
          const parsed = JSON.parse(cell) as unknown;
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
          properties = { ...properties, ...(parsed as Record<string, unknown>) };
        } catch {
          problem = 'properties: must be a JSON object';
        }
      } else {
        const value = cellValue(cell);
        if (value !== undefined) properties[column.replace(/^properties\./, '')] = value;
      }
    });
    if (problem) {
      yield { line: startLine, bytesRead, problem };
      continue;
    }
    if (Object.keys(properties).length > 0) event.properties = properties;
    yield { line: startLine, bytesRead, event };
  }
  if (pending !== '') yield { line: startLine, bytesRead: lastBytes, problem: 'a quoted field is not closed' };
}
