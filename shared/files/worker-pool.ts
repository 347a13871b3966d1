import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type TransferListItem, threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { PulseError } from '../domain/errors.js';

/**
 * How long a worker of a pool may sit idle before it ends (docs/calibrate.md#threads). Long enough that the calls of
 * one process that come in a row (the as-of runs of `pulse calibrate`, a bench's rounds, a backfill's files) find
 * their workers warm (started, code compiled and optimised); short enough that a long-lived process (the local
 * server) does not hold a thread's memory for work that is over. Idle workers never keep a process alive.
 */
export const POOL_IDLE_MS = 30_000;

/**
 * Most workers one pool runs at once; more parts than this wait for a free worker. The CLI's `--threads` upper bound
 * (docs/calibrate.md#threads): a pool never starts more workers than its callers ask for at once.
 */
export const POOL_MAX_THREADS = 64;

/** A pool per worker module, made on first use (docs/calibrate.md#threads). */
const pools = new Map<string, Promise<Piscina>>();
/** The pools made so far, by worker module (a pool that failed is dropped from both). */
const made = new Map<string, Piscina>();
/** Why a pool failed outside its tasks: the error its waiting tasks are rejected for. */
const failures = new WeakMap<Piscina, unknown>();

/**
 * Run `task` on a worker of the pool for the worker module at `entry` (a .ts source or a built .js file whose
 * default export handles one task). Workers start on first need and are reused by later calls of this process.
 * The task's typed arrays in `transferList` are moved, not copied; a worker moves its result's with `movable`.
 * A task that throws, or a worker that dies, rejects this call; the pool starts a new worker for the next one.
 * Aborting `signal` while the task runs ends its worker.
 */
export async function runInPool<Result>(
  entry: URL,
  task: unknown,
  transferList?: readonly TransferListItem[] | undefined,
  signal?: AbortSignal | undefined,
): Promise<Result> {
  const pool = await poolFor(entry);
  try {
    return (await pool.run(task, {
      transferList: transferList as TransferListItem[] | undefined,
      signal: signal ?? null,
    })) as Result;
  } catch (error) {
    throw new WorkerTaskError(entry, failures.get(pool) ?? error);
  }
}

/** A pool's task that failed: its worker threw (the worker's error is the cause) or died (docs/architecture.md#errors). */
export class WorkerTaskError extends PulseError {
  constructor(entry: URL, cause: unknown) {
    const name = entry.pathname.split('/').at(-1);
    super(`worker ${name} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      kind: 'failed',
      status: 500,
      cause,
    });
    this.name = 'WorkerTaskError';
  }
}

/** Thread ids of the workers the pool for `entry` holds now (none before its first task or after its idle time). */
export function poolThreadIds(entry: URL): number[] {
  return made.get(entry.href)?.threads.map((worker) => worker.threadId) ?? [];
}

/** End every pool's workers now (tests; a process never needs to: idle workers do not keep it alive). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  made.clear();
  await Promise.all(all.map((pool) => pool.then((p) => p.destroy()).catch(() => undefined)));
}

/**
 * A task's result whose `transfer` list (typed arrays' buffers inside `value`) moves to the caller instead of being
 * copied. For the worker modules' default exports.
 */
export function movable<Value>(value: Value, transfer: readonly TransferListItem[]): Value {
  const wrapped = { [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: value };
  return Piscina.move(wrapped as unknown as Parameters<typeof Piscina.move>[0]) as unknown as Value;
}

function poolFor(entry: URL): Promise<Piscina> {
  const known = pools.get(entry.href);
  if (known) return known;
  const pool = startPool(entry);
  pools.set(entry.href, pool);
  pool.then(
    (started) => made.set(entry.href, started),
    () => pools.delete(entry.href),
  );
  return pool;
}

/**
 * The pool for `entry`, loading it as a built .js file, or from the TypeScript source: bundled with esbuild into one
 * script (once, then cached on disk, see cachedBundle) and compiled through V8's code cache (see codeCachedEntry),
 * so a worker starts in about 0.1–0.2 s; or else through tsx (about 0.5 s a worker), when the bundle cannot be kept
 * on disk.
 */
async function startPool(entry: URL): Promise<Piscina> {
  const isTs = entry.pathname.endsWith('.ts');
  const bundle = isTs ? await bundledWorker(entry) : null;
  const options = {
    minThreads: 0,
    maxThreads: POOL_MAX_THREADS,
    idleTimeout: POOL_IDLE_MS,
    // Parts are the callers' own split (one part a worker); a task never waits behind another on a busy worker.
    concurrentTasksPerWorker: 1,
  };
  const execArgv = withoutTsx(process.execArgv);
  const pool = !isTs
    ? new Piscina({ ...options, filename: fileURLToPath(entry), execArgv })
    : bundle !== null
      ? new Piscina({ ...options, filename: bundle.entry, execArgv })
      : // A worker does not inherit its parent's loader hooks: tsx is loaded in each worker before the task module.
        new Piscina({ ...options, filename: fileURLToPath(entry), execArgv: [...execArgv, '--import', tsxLoader()] });
  // A worker that fails outside any task (its module throws while loading) leaves the waiting tasks with no worker:
  // the pool is dropped (its waiting tasks fail) and the next call makes a new one, from the sources as they are then.
  pool.on('error', (error: unknown) => {
    if (made.get(entry.href) === pool) {
      made.delete(entry.href);
      pools.delete(entry.href);
      bundled.delete(entry.href);
    }
    failures.set(pool, error);
    void pool.destroy();
  });
  return pool;
}

/**
 * This process's Node options without tsx's loader (`tsx file.ts` and `node --import tsx` put it there, and workers
 * inherit it): a bundled or built worker has no TypeScript to load, and loading tsx took half of a worker's start
 * (0.3 s of CPU against 0.16 s).
 */
export function withoutTsx(execArgv: readonly string[]): string[] {
  const loaders = new Set(['--require', '-r', '--import', '--loader', '--experimental-loader']);
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const equals = arg.indexOf('=');
    const flag = equals < 0 ? arg : arg.slice(0, equals);
    if (!loaders.has(flag)) kept.push(arg);
    else {
      const value = equals < 0 ? (execArgv[++i] ?? '') : arg.slice(equals + 1);
      if (!/(^|[\\/])tsx([\\/]|$)/.test(value)) kept.push(flag, value);
    }
  }
  return kept;
}

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/** A worker bundled into one CommonJS script: the file holding it and the file a pool loads (see codeCachedEntry). */
interface Bundle {
  script: string;
  entry: string;
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

/** Bumped when the bundle's build options change, so that bundles built the old way are not reused. */
const BUNDLE_FORMAT = 2;

/**
 * The worker at `entry` bundled by esbuild, from the cache on disk when every file that went into it is still
 * byte for byte the same (bundling takes 0.2–1 s; checking about 1 MB of sources takes a few ms), else bundled
 * now and cached. Null when the cache cannot be written (a read-only install: workers then load through tsx).
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
  const entryFile = join(cache, `${name}.cjs`);
  const keyOf = (inputs: string[]) => {
    const hash = createHash('sha256').update(`${version}\n${BUNDLE_FORMAT}\n${entry}\n`);
    for (const input of inputs) hash.update(`${input}\n`).update(readFileSync(input));
    return hash.digest('hex');
  };
  const withEntry = (script: string): Bundle => {
    const loader = codeCachedEntry(scriptFile);
    let current: string | null = null;
    try {
      current = readFileSync(entryFile, 'utf8');
    } catch {
      // Not written yet.
    }
    if (current !== loader) writeAside(entryFile, loader);
    return { script, entry: entryFile };
  };
  try {
    const cached = JSON.parse(readFileSync(inputsFile, 'utf8')) as { key: string; inputs: string[] };
    if (keyOf(cached.inputs) === cached.key) return withEntry(readFileSync(scriptFile, 'utf8'));
  } catch {
    // No cache yet, or an input is gone: bundle.
  }
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Loaded from node_modules in the worker: the pool's own worker code must see the same module (its `move`
    // marker is a private symbol).
    external: ['piscina'],
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
    return withEntry(script);
  } catch {
    // A read-only install.
    return null;
  }
}

/** Written aside and renamed: another process reading the file meanwhile sees the old content or the new. */
function writeAside(file: string, data: string | Buffer): void {
  const aside = `${file}.${process.pid}.${threadId}.tmp`;
  writeFileSync(aside, data);
  renameSync(aside, file);
}

/**
 * The module a pool's worker loads for a bundle on disk: it compiles the bundle with V8's code cache
 * (`<bundle>.v8cache`, written by the first worker that runs without a usable one) and exports what the bundle
 * exports. Parsing and compiling the 1 MB bundle (zod, luxon and our code) is most of a worker's start; with the
 * cache it starts about twice as fast. V8 rejects a cache made for other source text or another V8, and the worker
 * then writes a fresh one.
 */
function codeCachedEntry(file: string): string {
  return `'use strict';
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { dirname } = require('node:path');
const { Script } = require('node:vm');
const { threadId } = require('node:worker_threads');
const file = ${JSON.stringify(file)};
const cacheFile = file + '.v8cache';
let cachedData;
try { cachedData = readFileSync(cacheFile); } catch {}
const script = new Script('(function (exports, require, module, __filename, __dirname) {' + readFileSync(file, 'utf8') + '\\n})', { filename: file, cachedData });
script.runInThisContext()(exports, require, module, file, dirname(file));
if (cachedData === undefined || script.cachedDataRejected) {
  try { const aside = cacheFile + '.' + process.pid + '.' + threadId + '.tmp'; writeFileSync(aside, script.createCachedData()); renameSync(aside, cacheFile); } catch {}
}
`;
}
