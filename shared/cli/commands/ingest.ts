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
}

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
  updatedAt: string;
}

interface Rejection {
  line: number;
  message: string;
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

/**
 * `pulse ingest`: send a JSONL or CSV file of native events in batches (≤ 500 events, < 512 KB), resumably: after
 * each acknowledged batch the checkpoint file records the last line sent, and a new run of the same command
 * starts after it. Resending is harmless anyway (ingest is idempotent by event id). The checkpoint is removed
 * once the whole file is in.
 */
/** The input file's absolute path and reader, or a usage error (checked before connecting anywhere). */
export function checkIngestFile(name: string, io: Pick<CliIO, 'cwd'>) {
  const file = resolve(io.cwd, name);
  const kind = extname(file).toLowerCase();
  const reader = kind === '.csv' ? csvRecords : kind === '.jsonl' || kind === '.ndjson' ? jsonlRecords : undefined;
  if (!reader) throw usageError(`${name}: give a .jsonl (one event a line) or a .csv file`);
  if (!existsSync(file) || !statSync(file).isFile()) throw usageError(`${name} does not exist or is not a file`);
  return { file, reader };
}

export async function ingestCommand(options: IngestOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const { file, reader } = checkIngestFile(options.file, io);
  const size = statSync(file).size;
  const checkpointPath = resolve(io.cwd, options.checkpoint ?? checkpointPathOf(options.file));
  if (options.restart) rmSync(checkpointPath, { force: true });
  const resumed = readCheckpoint(checkpointPath, file, size);
  const batchSize = Math.min(options.batchSize ?? MAX_BATCH_EVENTS, MAX_BATCH_EVENTS);
  const attempts = Math.max(1, options.attempts ?? 5);
  const client = new PulseClient(target);

  const totals = {
    accepted: resumed?.accepted ?? 0,
    duplicates: resumed?.duplicates ?? 0,
    rejected: resumed?.rejected ?? 0,
  };
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

  let batch: { line: number; event: Record<string, unknown> }[] = [];
  let batchBytes = 0;
  let lastLine = resumed?.line ?? 0;
  let bytesRead = 0;
  let seenThrough = lastLine;

  const save = () => {
    const checkpoint: Checkpoint = {
      version: 1,
      file,
      size,
      line: lastLine,
      ...totals,
      updatedAt: new Date().toISOString(),
    };
    writeFileSync(checkpointPath, `${JSON.stringify(checkpoint, null, 2)}\n`);
  };

  const send = async (throughLine: number) => {
    if (batch.length > 0) {
      let result: IngestResponse | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          result = await client.ingest(batch.map((b) => b.event));
          break;
        } catch (error) {
          if (!retryable(error) || attempt >= attempts) throw error;
          await sleep((options.retryDelayMs ?? 1000) * 2 ** (attempt - 1));
        }
      }
      totals.accepted += result.accepted;
      totals.duplicates += result.duplicates;
      totals.rejected += result.rejected.length;
      for (const r of result.rejected) {
        const line = batch[r.index]?.line ?? -1;
        rejections.push({ line, message: r.errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
      }
    }
    batch = [];
    batchBytes = 0;
    lastLine = throughLine;
    save();
    bar?.update(bytesRead, { line: lastLine, ...totals });
  };

  try {
    for await (const record of reader(file)) {
      bytesRead = record.bytesRead;
      if (record.line <= (resumed?.line ?? 0)) continue;
      if ('problem' in record) {
        seenThrough = record.line;
        totals.rejected++;
        rejections.push({ line: record.line, message: record.problem });
        continue;
      }
      const bytes = Buffer.byteLength(JSON.stringify(record.event)) + 1;
      if (batch.length > 0 && (batch.length >= batchSize || batchBytes + bytes > MAX_BATCH_BYTES)) {
        // Everything before this record is either in the batch or counted as rejected.
        await send(record.line - 1);
      }
      batch.push({ line: record.line, event: record.event });
      batchBytes += bytes;
      seenThrough = record.line;
    }
    await send(seenThrough);
  } catch (error) {
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
