import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DateTime } from 'luxon';
import type { EntityLevel } from '../ports/event-store.js';
import { CalibrateUsageError, type OutcomeIssue, OutcomesFileError } from './errors.js';

/** The outcome words of an outcomes file (docs/calibrate.md): `churned` is bad, the others good. */
export const GOOD_OUTCOMES = ['retained', 'renewed', 'upgraded'] as const;
export const BAD_OUTCOMES = ['churned'] as const;
export type OutcomeName = (typeof GOOD_OUTCOMES)[number] | (typeof BAD_OUTCOMES)[number];

export const OUTCOME_COLUMNS = ['entity_type', 'entity_id', 'outcome', 'outcome_date'] as const;

export interface Outcome {
  /** 1-based line of the file, for error messages. */
  line: number;
  entityType: EntityLevel;
  entityId: string;
  outcome: OutcomeName;
  good: boolean;
  /** As written: a date (YYYY-MM-DD) or an ISO 8601 instant with a zone. */
  outcomeDate: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Read an outcomes file: CSV with the header `entity_type,entity_id,outcome,outcome_date` (columns in any order,
 * extra columns ignored, RFC 4180 quoting) or JSONL with those keys. The format follows the extension (.csv,
 * .jsonl/.ndjson/.json); other extensions are sniffed from the first character. Every problem is collected with
 * its line number and thrown together as an OutcomesFileError.
 */
export function readOutcomesFile(file: string): Outcome[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CalibrateUsageError(
      `--outcomes ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parseOutcomes(text, file);
}

export function parseOutcomes(text: string, file: string): Outcome[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const ext = extname(file).toLowerCase();
  const jsonl =
    ext === '.jsonl' || ext === '.ndjson' || ext === '.json' || (ext !== '.csv' && body.trimStart().startsWith('{'));
  const issues: OutcomeIssue[] = [];
  const outcomes = jsonl ? parseJsonl(body, issues) : parseCsv(body, issues);
  const seen = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.entityType}\u0000${o.entityId}\u0000${o.outcomeDate}`;
    const first = seen.get(key);
    if (first !== undefined)
      issues.push({
        line: o.line,
        message: `duplicate outcome for ${o.entityType} "${o.entityId}" on ${o.outcomeDate} (first on line ${first})`,
      });
    else seen.set(key, o.line);
  }
  if (issues.length === 0 && outcomes.length === 0)
    issues.push({ line: 1, message: 'no outcomes: the file has no data rows' });
  if (issues.length > 0)
    throw new OutcomesFileError(
      file,
      issues.sort((a, b) => a.line - b.line),
    );
  return outcomes;
}

function parseCsv(text: string, issues: OutcomeIssue[]): Outcome[] {
  const lines = text.split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) return [];
  const header = splitCsvLine(lines[headerIndex]!);
  if (typeof header === 'string') {
    issues.push({ line: headerIndex + 1, message: `header: ${header}` });
    return [];
  }
  const names = header.map((h) => h.trim().toLowerCase());
  const columns = OUTCOME_COLUMNS.map((c) => names.indexOf(c));
  const missing = OUTCOME_COLUMNS.filter((_, i) => columns[i]! < 0);
  if (missing.length > 0) {
    issues.push({
      line: headerIndex + 1,
      message: `header must be ${OUTCOME_COLUMNS.join(',')} (missing ${missing.join(', ')})`,
    });
    return [];
  }
  const out: Outcome[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    if (typeof cells === 'string') {
      issues.push({ line: i + 1, message: cells });
      continue;
    }
    if (cells.length < header.length) {
      issues.push({ line: i + 1, message: `expected ${header.length} columns, found ${cells.length}` });
      continue;
    }
    const [type, id, outcome, date] = columns.map((c) => cells[c]!);
    const parsed = toOutcome(i + 1, type, id, outcome, date, issues);
    if (parsed) out.push(parsed);
  }
  return out;
}

function parseJsonl(text: string, issues: OutcomeIssue[]): Outcome[] {
  const out: Outcome[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      issues.push({ line: i + 1, message: `not JSON: ${(error as Error).message}` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ line: i + 1, message: `must be a JSON object with ${OUTCOME_COLUMNS.join(', ')}` });
      return;
    }
    const v = value as Record<string, unknown>;
    const text = (key: string): string | undefined => {
      const x = v[key];
      return typeof x === 'string'
        ? x
        : typeof x === 'number'
          ? String(x)
          : x === undefined || x === null
            ? undefined
            : '\u0000';
    };
    const parsed = toOutcome(
      i + 1,
      text('entity_type'),
      text('entity_id'),
      text('outcome'),
      text('outcome_date'),
      issues,
    );
    if (parsed) out.push(parsed);
  });
  return out;
}

function toOutcome(
  line: number,
  type: string | undefined,
  id: string | undefined,
  outcome: string | undefined,
  date: string | undefined,
  issues: OutcomeIssue[],
): Outcome | undefined {
  const before = issues.length;
  const entityType = type?.trim().toLowerCase();
  if (entityType !== 'user' && entityType !== 'account')
    issues.push({ line, message: `entity_type must be user or account, got ${show(type)}` });
  const entityId = id?.trim() ?? '';
  if (entityId === '' || entityId.includes('\u0000')) issues.push({ line, message: 'entity_id must not be empty' });
  else if (entityId.length > 256) issues.push({ line, message: 'entity_id must be at most 256 characters' });
  const name = outcome?.trim().toLowerCase() ?? '';
  const good = (GOOD_OUTCOMES as readonly string[]).includes(name);
  if (!good && !(BAD_OUTCOMES as readonly string[]).includes(name))
    issues.push({ line, message: `outcome must be churned, retained, renewed or upgraded, got ${show(outcome)}` });
  const outcomeDate = date?.trim() ?? '';
  if (!validDate(outcomeDate))
    issues.push({
      line,
      message: `outcome_date must be a date (YYYY-MM-DD) or an ISO 8601 instant with a zone, got ${show(date)}`,
    });
  if (issues.length > before) return undefined;
  return { line, entityType: entityType as EntityLevel, entityId, outcome: name as OutcomeName, good, outcomeDate };
}

function validDate(value: string): boolean {
  if (DATE_ONLY.test(value)) return DateTime.fromISO(value, { zone: 'UTC' }).isValid;
  return INSTANT.test(value) && DateTime.fromISO(value, { setZone: true }).isValid;
}

function show(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return 'nothing';
  if (value.includes('\u0000')) return 'a value that is not text';
  return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
}

/** Split one CSV line (RFC 4180 quoting; a quoted field may not span lines). Returns a message when malformed. */
export function splitCsvLine(line: string): string[] | string {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        if (i >= line.length) return 'unterminated quoted field';
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += line[i];
        i++;
      }
      if (i < line.length && line[i] !== ',') return `unexpected text after a quoted field at column ${i + 1}`;
      cells.push(cell);
    } else {
      const end = line.indexOf(',', i);
      cells.push(line.slice(i, end < 0 ? line.length : end));
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return cells;
    i++; // the comma
  }
}
