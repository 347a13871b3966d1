import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { threadId, Worker } from 'node:worker_threads';
import { propertyKeysOf } from '../domain/engine/compile.js';
import type { EventIdSetExport } from '../domain/engine/event-id-set.js';
import { ScoringRun, type ScoringRunOptions, type ScoringRunState } from '../domain/engine/scoring-run.js';
import { eventIdentity } from '../domain/event.js';
import type { Model, Traits } from '../domain/model/schema.js';
import type { EntityLevel } from '../ports/event-store.js';
import { type JsonlReadIssue, readJsonlFields } from './jsonl-events.js';

export interface ScoreJsonlOptions {
  /** T, epoch ms (see ScoringRunOptions). */
  asOf: number;
  /**
   * 1: one pass on this thread. More: the file is cut into that many byte ranges at line boundaries; this thread
   * scores the first and a worker thread each other one, and the parts are merged here. Raw scores are the same either way. Default
   * (`defaultThreads`): one per core (os.availableParallelism()) for files of PARALLEL_MIN_BYTES or more, else 1.
   */
  threads?: number | undefined;
  /** Drop repeated event ids across the whole file (default on), exactly as one run would: the first one counts. */
  dedupe?: boolean | undefined;
  /** Lines that are not valid native events, in file order, with their line numbers in the whole file. */
  onIssue?: ((issue: JsonlReadIssue) => void) | undefined;
  /** User id → the account the user was last grouped with (ScoringRunOptions.accountOf), as data worker threads can get. */
  accounts?: ReadonlyMap<string, string> | undefined;
  /** Traits by entity id (ScoringRunOptions.traitsOf), as data. */
  traits?:
    | { user?: ReadonlyMap<string, Traits> | undefined; account?: ReadonlyMap<string, Traits> | undefined }
    | undefined;
}

/** What a worker needs: plain data only (functions do not cross threads). */
export interface RangeJob {
  file: string;
  model: Model;
  start: number;
  end: number;
  options: Omit<ScoreJsonlOptions, 'onIssue' | 'threads'>;
}

/**
 * A worker's replies: its part scored (the state with it, ready to merge unless an earlier part took some of its
 * event ids), then, only when asked with ids to skip, the state of the part scored again without them.
 */
export type WorkerReply =
  | { type: 'scored'; lines: number; issues: JsonlReadIssue[]; seen: EventIdSetExport | null; state: ScoringRunState }
  | { type: 'state'; state: ScoringRunState };

/**
 * Score a JSONL file of native events with `model`: the run, fed every event of the file, ready for `finish()` or
 * `eachRawScore()` (and `addKnown` first if need be).
 *
 * With threads > 1, dedupe stays exact across parts: each part dedupes its own lines and reports the ids it took;
 * ids taken by an earlier part (in file order) are duplicates in a later one, which then scores its range again
 * skipping them (a second pass of that part only, and only when the file repeats ids across parts). So the first
 * occurrence in the file counts, as in one run, whatever the repeats contain.
 */
export async function scoreJsonlFile(file: string, model: Model, options: ScoreJsonlOptions): Promise<ScoringRun> {
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads(statSync(file).size)));
  if (threads === 1) {
    const { run } = await scoreRange(
      { file, model, start: 0, end: Number.POSITIVE_INFINITY, options },
      options.onIssue,
    );
    return run;
  }
  return scoreInParallel(file, model, options, threads);
}

/**
 * Files from this size up are scored in parallel by default. Each worker costs about 0.3–0.5 s of CPU whatever the
 * file (its start, its code warming up, its state's export and merge), so on 2 cores a second thread only pays back
 * once half the file takes longer than that: measured slower on 4 and 26 MB files, faster on 133 MB
 * (docs/calibrate.md#threads).
 */
export const PARALLEL_MIN_BYTES = 64 * 2 ** 20;

/** Threads for a file of `size` bytes when the caller does not say: one per core for large files, else 1. */
export function defaultThreads(size: number): number {
  return size >= PARALLEL_MIN_BYTES ? availableParallelism() : 1;
}

/** ScoringRunOptions' lookups from the data form; `expectedEvents` sizes the dedupe set. */
function runOptions(options: RangeJob['options'], expectedEvents?: number | undefined): ScoringRunOptions {
  const { accounts, traits } = options;
  return {
    asOf: options.asOf,
    dedupe: options.dedupe,
    expectedEvents,
    accountOf: accounts === undefined ? undefined : (userId: string) => accounts.get(userId),
    traitsOf:
      traits === undefined
        ? undefined
        : (level: EntityLevel, id: string) => (level === 'user' ? traits.user : traits.account)?.get(id),
  };
}

/**
 * Parse and score bytes [start, end) (end may be Infinity). Events in range whose id is in `skip` count as
 * duplicates (an earlier part of the file took them).
 */
export async function scoreRange(
  job: RangeJob,
  onIssue?: ((issue: JsonlReadIssue) => void) | undefined,
  skip?: ReadonlySet<string> | undefined,
): Promise<{ run: ScoringRun; lines: number }> {
  const run = new ScoringRun(job.model, runOptions(job.options, estimatedLines(job.file, job.start, job.end)));
  const skipping = skip !== undefined && skip.size > 0;
  const skipped = (userId: string, eventId: string, ts: number): boolean => {
    if (!skip!.has(eventIdentity({ userId, eventId }))) return false;
    if (!(ts >= run.lookbackFrom && ts < run.asOf)) return false;
    run.stats.duplicates++;
    return true;
  };
  const lines = await readJsonlFields(
    job.file,
    {
      onIssue,
      start: job.start,
      end: Number.isFinite(job.end) ? job.end : undefined,
      propertyKeys: propertyKeysOf(job.model),
    },
    (fields) => {
      if (!skipping || !skipped(fields.userId, fields.eventIdText(), fields.timestamp)) run.addFields(fields);
    },
    (event) => {
      if (!skipping || !skipped(event.userId, event.eventId, event.timestamp)) run.add([event]);
    },
  );
  return { run, lines };
}

/** About how many lines bytes [start, end) of the file hold, from the line lengths of its first 64 KiB. */
export function estimatedLines(file: string, start: number, end: number): number {
  const fd = openSync(file, 'r');
  try {
    const size = Math.min(end, fstatSync(fd).size) - start;
    if (size <= 0) return 0;
    const sample = Buffer.alloc(Math.min(size, 1 << 16));
    const read = readSync(fd, sample, 0, sample.length, start);
    let lines = 0;
    for (let at = sample.indexOf(10); at >= 0 && at < read; at = sample.indexOf(10, at + 1)) lines++;
    return lines === 0 ? 1 : Math.ceil((size * lines) / read);
  } finally {
    closeSync(fd);
  }
}

/** Byte offsets [0, …, size] cutting the file into `parts` ranges, each boundary just after a `\n`. */
export function splitAtLines(file: string, parts: number): number[] {
  const size = statSync(file).size;
  const bounds = [0];
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    for (let k = 1; k < parts; k++) {
      let at = Math.max(bounds[bounds.length - 1]!, Math.floor((size * k) / parts));
      let cut = size;
      // A boundary at `at` is fine if the byte before it is a newline; look for the next one otherwise.
      for (let pos = Math.max(0, at - 1); pos < size; ) {
        const n = readSync(fd, buffer, 0, buffer.length, pos);
        if (n <= 0) break;
        const nl = buffer.subarray(0, n).indexOf(10);
        if (nl >= 0) {
          cut = pos + nl + 1;
          break;
        }
        pos += n;
      }
      at = cut;
      bounds.push(at);
    }
  } finally {
    closeSync(fd);
  }
  bounds.push(size);
  return bounds;
}

/** A worker bundled into one CommonJS script, and the file on disk holding it (null when the cache is not writable). */
interface Bundle {
  script: string;
  file: string | null;
}

/** Each worker bundled (when running from the TypeScript source), built or read from the cache once a process. */
const bundled = new Map<string, Promise<Bundle | null>>();

function bundledWorker(entry: URL): Promise<Bundle | null> {
  const cached = bundled.get(entry.href);
  if (cached) return cached;
  const bundle = cachedBundleFile(fileURLToPath(entry)).catch(() => null);
  bundled.set(entry.href, bundle);
  return bundle;
}

/**
 * Where bundled workers are kept between processes (a cache: deleting it costs one bundling). A function: this
 * module is bundled into the workers too, where import.meta.url is not set.
 */
function bundleCache(): string {
  return fileURLToPath(new URL('../../node_modules/.cache/pulse-workers/', import.meta.url));
}

/**
 * The worker at `entry` bundled by esbuild, from the cache on disk when every file that went into it is still
 * byte for byte the same (bundling takes 0.2–1 s; checking about 1 MB of sources takes a few ms), else bundled
 * now and cached. A cache that cannot be read or written is skipped.
 */
export async function cachedBundle(entry: string): Promise<string | null> {
  return (await cachedBundleFile(entry))?.script ?? null;
}

async function cachedBundleFile(entry: string): Promise<Bundle | null> {
  const { build, version } = await import('esbuild');
  const name = createHash('sha256').update(entry).digest('hex').slice(0, 16);
  const cache = bundleCache();
  const scriptFile = join(cache, `${name}.js`);
  const inputsFile = join(cache, `${name}.json`);
  const keyOf = (inputs: string[]) => {
    const hash = createHash('sha256').update(`${version}\n${entry}\n`);
    for (const input of inputs) hash.update(`${input}\n`).update(readFileSync(input));
    return hash.digest('hex');
  };
  try {
    const cached = JSON.parse(readFileSync(inputsFile, 'utf8')) as { key: string; inputs: string[] };
    if (keyOf(cached.inputs) === cached.key) return { script: readFileSync(scriptFile, 'utf8'), file: scriptFile };
  } catch {
    // No cache yet, or an input is gone: bundle.
  }
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]?.text ?? null;
  if (script === null) return null;
  try {
    const inputs = Object.keys(result.metafile.inputs).map((input) => resolvePath(input));
    mkdirSync(cache, { recursive: true });
    writeAside(scriptFile, script);
    writeAside(inputsFile, JSON.stringify({ key: keyOf(inputs), inputs }));
    return { script, file: scriptFile };
  } catch {
    // A read-only install: bundle again next time.
    return { script, file: null };
  }
}

/** Written aside and renamed: another process reading the file meanwhile sees the old content or the new. */
function writeAside(file: string, data: string | Buffer): void {
  const aside = `${file}.${process.pid}.${threadId}.tmp`;
  writeFileSync(aside, data);
  renameSync(aside, file);
}

/**
 * A worker's entry for a bundle on disk: it compiles the bundle with V8's code cache (`<bundle>.v8cache`, written
 * by the first worker that runs without a usable one). Parsing and compiling the 1 MB bundle (zod, luxon and our
 * code) is most of a worker's start; with the cache it starts about twice as fast. V8 rejects a cache made for other
 * source text or another V8, and the worker then writes a fresh one.
 */
function codeCachedEntry(file: string): string {
  return `
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { Script } = require('node:vm');
const { threadId } = require('node:worker_threads');
const file = ${JSON.stringify(file)};
const cacheFile = file + '.v8cache';
let cachedData;
try { cachedData = readFileSync(cacheFile); } catch {}
const script = new Script('(function (exports, require, module, __filename, __dirname) {' + readFileSync(file, 'utf8') + '\\n})', { filename: file, cachedData });
script.runInThisContext()(exports, require, module, file, require('node:path').dirname(file));
if (cachedData === undefined || script.cachedDataRejected) {
  try { const aside = cacheFile + '.' + process.pid + '.' + threadId + '.tmp'; writeFileSync(aside, script.createCachedData()); renameSync(aside, cacheFile); } catch {}
}
`;
}

/**
 * Start a worker on a built .js file, or from the TypeScript source: bundled with esbuild into one script (once,
 * then cached on disk, see cachedBundle, and compiled through V8's code cache, see codeCachedEntry; each worker then
 * starts in about 0.1–0.2 s), or else through tsx. A worker does not inherit its parent's loader hooks (and
 * `--import tsx` in execArgv does not reach a worker's entry module on Node 20), so that path registers tsx's ESM
 * hooks in a small bootstrap and imports the module; it starts in about 0.5 s.
 */
function startWorker(job: RangeJob): Promise<Worker> {
  const isTs = import.meta.url.endsWith('.ts');
  return startWorkerAt(new URL(`./score-worker.${isTs ? 'ts' : 'js'}`, import.meta.url), job);
}

/** Start the worker module at `url` (a .ts source or a built .js file) with `workerData` (see startWorker). */
export async function startWorkerAt(url: URL, workerData: unknown): Promise<Worker> {
  const isTs = url.pathname.endsWith('.ts');
  const job = workerData;
  if (!isTs) return new Worker(url, { workerData: job });
  const bundle = await bundledWorker(url);
  if (bundle?.file) return new Worker(codeCachedEntry(bundle.file), { eval: true, workerData: job });
  if (bundle) return new Worker(bundle.script, { eval: true, workerData: job });
  // The ESM build of tsx's API (require resolves the CommonJS one next to it).
  const api = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const bootstrap = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: job });
}

/** The next reply of a worker (or its failure). */
export function nextReply<Reply = WorkerReply>(worker: Worker): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Reply) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve(reply);
    };
    const onError = (error: Error) => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      reject(error);
    };
    const onExit = (code: number) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      reject(new Error(`scoring worker exited with code ${code} before replying`));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}

async function scoreInParallel(
  file: string,
  model: Model,
  options: ScoreJsonlOptions,
  threads: number,
): Promise<ScoringRun> {
  const { onIssue, threads: _threads, ...data } = options;
  const bounds = splitAtLines(file, threads);
  // Parts 1… go to workers, started first (a worker takes 0.1–0.4 s to start); this thread scores part 0 meanwhile.
  const started = bounds
    .slice(1, -1)
    .map((start, i) => startWorker({ file, model, start, end: bounds[i + 2]!, options: data }));
  // Listening from the start: a worker's message with no listener yet would be lost. Awaited in order below; a
  // failure of a later worker meanwhile is not unhandled.
  const firstReplies = started.map((worker) => worker.then(nextReply));
  for (const reply of firstReplies) reply.catch(() => undefined);
  try {
    // Part 0's issues come first in the file: they go out as they come, with their own line numbers.
    const own = await scoreRange({ file, model, start: 0, end: bounds[1]!, options: data }, onIssue);
    const run = own.run;
    const workers = await Promise.all(started);
    let lineOffset = own.lines;
    const states: (ScoringRunState | Promise<ScoringRunState>)[] = [];
    for (let i = 0; i < workers.length; i++) {
      const reply = await firstReplies[i]!;
      if (reply.type !== 'scored') throw new Error('scoring worker: unexpected reply');
      for (const issue of reply.issues) onIssue?.({ ...issue, line: issue.line + lineOffset });
      lineOffset += reply.lines;
      // Ids an earlier part took (this run holds them all): here they are duplicates, so the part scores again
      // without them. The last part's ids are needed by no later part.
      const skip = reply.seen === null ? [] : run.heldEventIds(reply.seen);
      if (reply.seen !== null && i + 1 < workers.length) run.addEventIds(reply.seen);
      if (skip.length === 0) states.push(reply.state);
      else {
        const worker = workers[i]!;
        const again = nextReply(worker).then((second) => {
          if (second.type !== 'state') throw new Error('scoring worker: unexpected reply');
          return second.state;
        });
        again.catch(() => undefined);
        worker.postMessage({ skip });
        states.push(again);
      }
    }
    // In file order, as one run would have seen them.
    for (const pending of states) {
      run.importState(await pending);
    }
    return run;
  } finally {
    await Promise.all(started.map((w) => w.then((worker) => worker.terminate()).catch(() => undefined)));
  }
}
