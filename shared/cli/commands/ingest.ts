import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { ApiError, type ApiTarget, type IngestResponse, PulseClient, UnreachableError } from '../client.js';
import { CliError, type CliIO, EXIT_OK, interactive, usageError } from '../io.js';
import { csvRecords, jsonlRecords } from '../records.js';

/** Events a request carries at most (the server's limit, docs/data-model.md#ingest-contract-details). */
export const MAX_BATCH_EVENTS = 500;
/** Request bytes a batch stays under (the server accepts 512 KB; headroom for the envelope). */
export const MAX_BATCH_BYTES = 480 * 1024;

export interface IngestOptions {
  file: string;
  /** Where progress is kept (default `<file>.checkpoint.json`). */
  checkpoint?: string | undefined;
  /** Ignore an existing checkpoint and start from the first line. */
  restart?: boolean | undefined;
  batchSize?: number | undefined;
  /** Attempts per batch when the server is unreachable or answers 5xx/429 (default 5). */
  attempts?: number | undefined;
  /** First retry delay, ms (doubles each attempt; default 1000). */
  retryDelayMs?: number | undefined;
  /** Requests in flight at once (default DEFAULT_CONCURRENCY). */
  concurrency?: number | undefined;
}

/** Requests `pulse ingest` keeps in flight by default: enough to keep a server's group writes full. */
export const DEFAULT_CONCURRENCY = 4;
/** The most requests in flight `--concurrency` allows. */
export const MAX_CONCURRENCY = 32;

/** What the checkpoint file holds: the last line whose batch the server acknowledged, and the totals so far. */
export interface Checkpoint {
  version: 1;
  file: string;
  /** File size when the checkpoint was written: a smaller file means it was replaced. */
  size: number;
  line: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /**
   * Batches after `line` the server already acknowledged (answered before an earlier one failed): their lines are
   * skipped on resume. Their counts are already in the totals above.
   */
  acknowledged?: AcknowledgedRange[] | undefined;
  updatedAt: string;
}

/** Lines [from, through] whose batch the server acknowledged. */
export interface AcknowledgedRange {
  from: number;
  through: number;
}

interface Rejection {
  line: number;
  message: string;
}

/** A request's worth of lines: its events, the lines that could not be read, and the last line it covers. */
interface Batch {
  events: { line: number; event: Record<string, unknown> }[];
  problems: Rejection[];
  bytes: number;
  firstLine: number;
  throughLine: number;
  result?: IngestResponse | undefined;
}

const SHOWN_REJECTIONS = 10;

export const checkpointPathOf = (file: string) => `${file}.checkpoint.json`;

function readCheckpoint(path: string, file: string, size: number): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  let checkpoint: Checkpoint;
  try {
    checkpoint = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  } catch {
    throw new CliError(`checkpoint ${path} is not readable JSON: delete it or pass --restart`);
  }
  if (checkpoint.version !== 1 || typeof checkpoint.line !== 'number' || checkpoint.file !== file) {
    throw new CliError(`checkpoint ${path} belongs to another file: delete it or pass --restart`);
  }
  if (size < checkpoint.size) {
    throw new CliError(`${file} is smaller than when checkpoint ${path} was written (replaced?): pass --restart`);
  }
  return checkpoint;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryable(error: unknown): boolean {
  if (error instanceof UnreachableError) return true;
  return error instanceof ApiError && (error.status >= 500 || error.status === 429);
}

/** The input file's absolute path and reader, or a usage error (checked before connecting anywhere). */
export function checkIngestFile(name: string, io: Pick<CliIO, 'cwd'>) {
  const file = resolve(io.cwd, name);
  const kind = extname(file).toLowerCase();
  const reader = kind === '.csv' ? csvRecords : kind === '.jsonl' || kind === '.ndjson' ? jsonlRecords : undefined;
  if (!reader) throw usageError(`${name}: give a .jsonl (one event a line) or a .csv file`);
  if (!existsSync(file) || !statSync(file).isFile()) throw usageError(`${name} does not exist or is not a file`);
  return { file, reader };
}

/**
 * `pulse ingest`: send a JSONL or CSV file of native events in batches (≤ 500 events, < 512 KB), a few requests in
 * flight at once, resumably: the checkpoint file records the last line up to which every batch was acknowledged,
 * and a new run of the same command starts after it. Resending is harmless anyway (ingest is idempotent by event
 * id). The checkpoint is removed once the whole file is in.
 */
export async function ingestCommand(options: IngestOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const { file, reader } = checkIngestFile(options.file, io);
  const size = statSync(file).size;
  const checkpointPath = resolve(io.cwd, options.checkpoint ?? checkpointPathOf(options.file));
  if (options.restart) rmSync(checkpointPath, { force: true });
  const resumed = readCheckpoint(checkpointPath, file, size);
  const batchSize = Math.min(options.batchSize ?? MAX_BATCH_EVENTS, MAX_BATCH_EVENTS);
  const attempts = Math.max(1, options.attempts ?? 5);
  const concurrency = Math.min(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY), MAX_CONCURRENCY);
  const client = new PulseClient(target);

  // Everything acknowledged so far: the committed lines, and the batches answered out of order (see Checkpoint).
  const totals = {
    accepted: resumed?.accepted ?? 0,
    duplicates: resumed?.duplicates ?? 0,
    rejected: resumed?.rejected ?? 0,
  };
  let ahead: AcknowledgedRange[] = resumed?.acknowledged ?? [];
  const acknowledgedAhead = (line: number) => ahead.some((r) => line >= r.from && line <= r.through);
  const rejections: Rejection[] = [];
  if (resumed) io.stderr.write(`resuming after line ${resumed.line} (checkpoint ${checkpointPath})\n`);

  const bar = interactive(io)
    ? new SingleBar(
        {
          stream: io.stderr,
          format:
            'ingest [{bar}] {percentage}% | line {line} | accepted {accepted} · duplicates {duplicates} · rejected {rejected}',
          hideCursor: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(Math.max(size, 1), 0, { line: resumed?.line ?? 0, ...totals });

  // Batches are sent `concurrency` at a time and may be answered in any order; they are committed (totals, checkpoint)
  // in file order only, so the checkpoint always describes exactly the lines before it: a resumed ingest neither
  // skips a line nor counts one twice.
  let lastLine = resumed?.line ?? 0;
  let bytesRead = 0;
  const inFlight = new Set<Promise<void>>();
  const answered = new Map<number, Batch>();
  let nextToCommit = 0;
  let sequence = 0;
  let failure: unknown;

  const save = () => {
    ahead = ahead.filter((r) => r.through > lastLine);
    const checkpoint: Checkpoint = {
      version: 1,
      file,
      size,
      line: lastLine,
      ...totals,
      ...(ahead.length > 0 ? { acknowledged: ahead } : {}),
      updatedAt: new Date().toISOString(),
    };
    writeFileSync(checkpointPath, `${JSON.stringify(checkpoint, null, 2)}\n`);
  };

  /** Adds an answered batch to the totals and its rejections to the list. */
  const count = (done: Batch) => {
    totals.rejected += done.problems.length;
    rejections.push(...done.problems);
    if (!done.result) return;
    totals.accepted += done.result.accepted;
    totals.duplicates += done.result.duplicates;
    totals.rejected += done.result.rejected.length;
    for (const r of done.result.rejected) {
      const line = done.events[r.index]?.line ?? -1;
      rejections.push({ line, message: r.errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
    }
  };

  const commitAnswered = () => {
    let committed = false;
    for (let done = answered.get(nextToCommit); done; done = answered.get(nextToCommit)) {
      answered.delete(nextToCommit++);
      count(done);
      lastLine = done.throughLine;
      committed = true;
    }
    if (committed) {
      save();
      bar?.update(bytesRead, { line: lastLine, ...totals });
    }
  };

  const keepAnsweredAhead = () => {
    if (answered.size === 0) return;
    for (const done of answered.values()) {
      count(done);
      ahead.push({ from: done.firstLine, through: done.throughLine });
    }
    answered.clear();
    ahead.sort((a, b) => a.from - b.from);
    save();
  };

  const post = async (events: { line: number; event: Record<string, unknown> }[]): Promise<IngestResponse> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.ingest(events.map((b) => b.event));
      } catch (error) {
        if (!retryable(error) || attempt >= attempts) throw error;
        await sleep((options.retryDelayMs ?? 1000) * 2 ** (attempt - 1));
      }
    }
  };

  /** Send a batch (waiting while `concurrency` are in flight); it is committed once every earlier one is. */
  const send = async (batch: Batch) => {
    while (inFlight.size >= concurrency && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) return;
    const seq = sequence++;
    if (batch.events.length === 0) {
      answered.set(seq, batch);
      commitAnswered();
      return;
    }
    const request = post(batch.events).then(
      (result) => {
        answered.set(seq, { ...batch, result });
        commitAnswered();
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  let current: Batch = { events: [], problems: [], bytes: 0, firstLine: lastLine + 1, throughLine: lastLine };
  try {
    for await (const record of reader(file)) {
      if (failure !== undefined) break;
      bytesRead = record.bytesRead;
      if (record.line <= (resumed?.line ?? 0) || acknowledgedAhead(record.line)) continue;
      if ('problem' in record) {
        current.problems.push({ line: record.line, message: record.problem });
        current.throughLine = record.line;
        continue;
      }
      const bytes = Buffer.byteLength(JSON.stringify(record.event)) + 1;
      if (
        current.events.length > 0 &&
        (current.events.length >= batchSize || current.bytes + bytes > MAX_BATCH_BYTES)
      ) {
        // Everything before this record is either in the batch or among its problems.
        current.throughLine = record.line - 1;
        await send(current);
        current = { events: [], problems: [], bytes: 0, firstLine: record.line, throughLine: record.line - 1 };
      }
      current.events.push({ line: record.line, event: record.event });
      current.bytes += bytes;
      current.throughLine = record.line;
    }
    if (failure === undefined) await send(current);
    while (inFlight.size > 0) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  } catch (error) {
    // Wait for the batches still in flight; those answered after the one that failed are kept as acknowledged
    // ranges, with their counts, so that resuming neither resends nor recounts them.
    while (inFlight.size > 0) await Promise.race(inFlight);
    keepAnsweredAhead();
    bar?.stop();
    if (error instanceof CliError) {
      throw new CliError(
        `${error.message}\n${lastLine > 0 ? `lines up to ${lastLine} are in; ` : ''}run the same command again to resume (checkpoint ${checkpointPath})`,
      );
    }
    throw error;
  }
  bar?.stop();
  rmSync(checkpointPath, { force: true });

  for (const r of rejections.slice(0, SHOWN_REJECTIONS)) io.stderr.write(`line ${r.line}: ${r.message}\n`);
  if (rejections.length > SHOWN_REJECTIONS) io.stderr.write(`… and ${rejections.length - SHOWN_REJECTIONS} more\n`);
  io.stdout.write(
    `${options.file}: accepted ${totals.accepted}, duplicates ${totals.duplicates}, rejected ${totals.rejected} (sent to ${target.label})\n`,
  );
  if (totals.rejected > 0) {
    throw new CliError(
      `${totals.rejected} line${totals.rejected === 1 ? ' was' : 's were'} rejected: fix them and ingest the file again (accepted lines count as duplicates)`,
    );
  }
  return EXIT_OK;
}
