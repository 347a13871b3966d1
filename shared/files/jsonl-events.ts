import { open } from 'node:fs/promises';
import type { EventFields } from '../domain/engine/event-fields.js';
import type { ScoringEvent } from '../domain/event.js';
import { EventLineScanner } from './event-bytes.js';
import { parseEventText } from './event-line.js';

export { parseEventLine } from './event-bytes.js';
export { checkedEvent, parseEventValue, parseUtcInstant } from './event-line.js';

export interface JsonlReadIssue {
  line: number;
  message: string;
}

export interface JsonlReadOptions {
  /** Events per yielded page. */
  pageSize?: number | undefined;
  /** Called for each line that is not a valid native event; reading goes on. */
  onIssue?: ((issue: JsonlReadIssue) => void) | undefined;
  /** Read only bytes [start, end) of the file; `start` must be 0 or just after a `\n` (line numbers count from it). */
  start?: number | undefined;
  end?: number | undefined;
  /**
   * Build only these keys of each event's `properties` (the ones a model reads: `propertyKeysOf(model)`); the
   * rest is checked and skipped. Undefined: every key, exactly as JSON.parse builds the object.
   */
  propertyKeys?: ReadonlySet<string> | undefined;
  /** Bytes read at a time (default 4 MiB; a longer line grows the buffer). Small values exercise chunk edges in tests. */
  chunkSize?: number | undefined;
}

/** A page of events and how far into the file (bytes from `start`) reading has come. */
export interface JsonlPage {
  events: ScoringEvent[];
  bytesRead: number;
}

const CHUNK = 1 << 22;

/**
 * Stream native events (docs/data-model.md, one JSON object a line) from a file in pages. Lines end at `\n`,
 * `\r\n` or a lone `\r`; blank lines are skipped but counted, so issue line numbers match an editor's. A leading
 * byte order mark is ignored. The file is read in 4 MiB chunks and each line scanned as bytes (EventLineScanner);
 * a line the scanner cannot prove it read exactly is decoded and parsed by the validating path, which also names
 * what is wrong with an invalid one. Returns the number of lines.
 */
export async function* readJsonlEvents(
  file: string,
  options: JsonlReadOptions = {},
): AsyncGenerator<ScoringEvent[], number> {
  const pages = readJsonlPages(file, options);
  for (;;) {
    const next = await pages.next();
    if (next.done) return next.value;
    yield next.value.events;
  }
}

/** readJsonlEvents with the progress of each page in bytes. */
export async function* readJsonlPages(file: string, options: JsonlReadOptions = {}): AsyncGenerator<JsonlPage, number> {
  const pageSize = options.pageSize ?? 10_000;
  let page: ScoringEvent[] = [];
  const push = (event: ScoringEvent) => {
    page.push(event);
  };
  const lines = eachLine(
    file,
    options,
    (scanner) => page.push(scanner.event()),
    null,
    push,
    () => page.length >= pageSize,
  );
  for (;;) {
    const next = await lines.next();
    if (next.done) {
      if (page.length > 0) yield { events: page, bytesRead: next.value.bytesRead };
      return next.value.lines;
    }
    yield { events: page, bytesRead: next.value };
    page = [];
  }
}

/**
 * Read the events of a file (as readJsonlEvents does, with the same options but pages) into `onFields`, without an
 * object per event: each line the byte reader reads comes as its fields (EventFields, e.g. for
 * ScoringRun.addFields), valid only during the call; a line it leaves to the validating path comes to `onEvent` as
 * an event. In file order. Returns the number of lines.
 */
export async function readJsonlFields(
  file: string,
  options: Omit<JsonlReadOptions, 'pageSize'>,
  onFields: (fields: EventFields) => void,
  onEvent: (event: ScoringEvent) => void,
): Promise<number> {
  return drain(eachLine(file, options, onFields, null, onEvent, () => false));
}

/**
 * readJsonlFields with the lines the byte reader reads handed over in batches of up to FIELDS_BATCH (e.g. for
 * ScoringRun.addFieldsBatch): `batch[0 … count − 1]`, valid only during the call, in file order with the events of
 * `onEvent` (a batch is handed over before any later event).
 */
export async function readJsonlFieldBatches(
  file: string,
  options: Omit<JsonlReadOptions, 'pageSize'>,
  onBatch: (batch: readonly EventFields[], count: number) => void,
  onEvent: (event: ScoringEvent) => void,
): Promise<number> {
  return drain(eachLine(file, options, null, onBatch, onEvent, () => false));
}

async function drain(lines: AsyncGenerator<number, { lines: number }>): Promise<number> {
  for (;;) {
    const next = await lines.next();
    if (next.done) return next.value.lines;
  }
}

/**
 * Lines a batch holds: enough that a run can look up the ids of a batch, then touch their rows, then count the
 * events, each step one short loop whose memory reads (cache misses, in tables of a hundred thousand entities) the
 * processor overlaps; few enough that the rows stay in cache between the steps. 64 read a file of a million events
 * 3–7% faster than 32 (128: no better).
 */
export const FIELDS_BATCH = 64;

/**
 * The reading loop behind readJsonlPages and readJsonlFields: each line read by the byte scanner goes to
 * `onFields` (the scanner holding its fields), each line it cannot prove goes through the validating path to
 * `onEvent`, or to `onIssue` when invalid. Yields the bytes consumed so far after any line that leaves `full()`
 * true; returns the line count and all bytes consumed.
 */
async function* eachLine(
  file: string,
  options: Omit<JsonlReadOptions, 'pageSize'>,
  onFields: ((scanner: EventLineScanner) => void) | null,
  onBatch: ((batch: readonly EventFields[], count: number) => void) | null,
  onEvent: (event: ScoringEvent) => void,
  full: () => boolean,
): AsyncGenerator<number, { lines: number; bytesRead: number }> {
  const start = options.start ?? 0;
  const end = options.end ?? Number.POSITIVE_INFINITY;
  if (end <= start) return { lines: 0, bytesRead: 0 };
  const first = new EventLineScanner(options.propertyKeys);
  // In batches: one scanner per line of a batch, all with the same interned strings and keys.
  const scanners =
    onBatch === null ? [first] : [first, ...Array.from({ length: FIELDS_BATCH - 1 }, () => first.sibling())];
  let pending = 0;
  const flush = (): void => {
    if (pending > 0) onBatch!(scanners, pending);
    pending = 0;
  };
  const keep = options.propertyKeys;
  let lineNo = 0;

  /** One line, bytes [s, e) of `b`, without its line end. */
  const take = (b: Buffer, s: number, e: number): void => {
    lineNo++;
    if (e === s) return;
    const scanner = scanners[pending]!;
    if (scanner.scanFields(b, s, e)) {
      if (onFields !== null) onFields(scanner);
      else if (++pending === FIELDS_BATCH) flush();
      return;
    }
    flush();
    const text = b.utf8Slice(s, e);
    const parsed = parseEventText(text);
    if (typeof parsed === 'string') {
      if (text.trim() !== '') options.onIssue?.({ line: lineNo, message: parsed });
      return;
    }
    onEvent(keep === undefined ? parsed : projected(parsed, keep));
  };
  /** A line as split at `\n`: a trailing `\r` dropped; a lone `\r` inside also ends a line. */
  const takeWithReturns = (b: Buffer, s: number, e: number): void => {
    let from = s;
    for (let cr = b.indexOf(13, s); cr >= 0 && cr < e; cr = b.indexOf(13, from)) {
      take(b, from, cr);
      from = cr + 1;
      if (from === e) return; // `…\r` then the line end: one line
    }
    take(b, from, e);
  };

  const handle = await open(file, 'r');
  try {
    let buffer = Buffer.allocUnsafe(Math.max(1, Math.floor(options.chunkSize ?? CHUNK)));
    let filled = 0;
    let position = start;
    let consumed = 0;
    let first = start === 0;
    for (;;) {
      if (filled === buffer.length) {
        // One line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      const want = Math.min(buffer.length - filled, end - position);
      const { bytesRead } = want > 0 ? await handle.read(buffer, filled, want, position) : { bytesRead: 0 };
      position += bytesRead;
      filled += bytesRead;
      const eof = bytesRead === 0;
      // A view of exactly the bytes read: nothing past them is ever looked at.
      const b = buffer.subarray(0, filled);
      let s = 0;
      if (first && filled >= 3) {
        if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) s = 3;
        first = false;
      } else if (first && eof) first = false;
      if (first) continue; // fewer than 3 bytes so far: wait for more before deciding on a byte order mark
      let cr = b.indexOf(13, s);
      for (let nl = b.indexOf(10, s); nl >= 0; nl = b.indexOf(10, s)) {
        if (cr >= 0 && cr < nl) {
          takeWithReturns(b, s, nl);
          cr = b.indexOf(13, nl + 1);
        } else take(b, s, nl);
        s = nl + 1;
        if (full()) yield consumed + s;
      }
      if (eof) {
        if (s < filled) takeWithReturns(b, s, filled);
        flush();
        consumed += filled;
        break;
      }
      // The batch's fields point into the buffer: hand it over before the buffer is reused.
      flush();
      // Keep the unfinished last line for the next read.
      buffer.copy(buffer, 0, s, filled);
      consumed += s;
      filled -= s;
    }
    return { lines: lineNo, bytesRead: consumed };
  } finally {
    // No line is read after: the interners' tables go back for the next reader (array-pool.ts).
    scanners[0]!.release();
    await handle.close();
  }
}

/** The event with only the kept property keys. */
function projected(event: ScoringEvent, keep: ReadonlySet<string>): ScoringEvent {
  const all = event.properties;
  if (all === undefined) return event;
  const properties: Record<string, unknown> = {};
  for (const key of keep) {
    if (!Object.hasOwn(all, key)) continue;
    // defineProperty: a key named __proto__ stays a plain key, as JSON.parse made it.
    Object.defineProperty(properties, key, { value: all[key], enumerable: true, writable: true, configurable: true });
  }
  event.properties = properties;
  return event;
}
