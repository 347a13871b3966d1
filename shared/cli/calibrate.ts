import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { type BacktestResult, backtest } from '../calibrate/backtest.js';
import { parseBadRates } from '../calibrate/bands.js';
import {
  type CalibrateJson,
  type CalibrationReport,
  calibrate,
  checkEnoughOutcomes,
  toJson,
} from '../calibrate/calibrate.js';
import { CalibrateError, CalibrateUsageError } from '../calibrate/errors.js';
import { aucVerdict, fmt } from '../calibrate/format.js';
import { readOutcomesFile } from '../calibrate/outcomes.js';
import { renderHtml } from '../calibrate/report-html.js';
import { renderMarkdown } from '../calibrate/report-md.js';
import { snapshotBacktest } from '../calibrate/snapshots.js';
import { fileEventSource } from '../calibrate/sources.js';
import { suggestedModelYaml } from '../calibrate/suggest.js';
import { ModelValidationError } from '../domain/model/errors.js';
import {
  type CalibrateEnv,
  modelSnapshotPrefix,
  openLocalEvents,
  openSnapshotLocation,
  resolveModel,
} from './calibrate-sources.js';
import type { CliIO } from './io.js';

/** The most worker threads `--threads` may ask for (docs/calibrate.md#threads). */
const MAX_THREADS = 64;
export const DEFAULT_HORIZON_DAYS = 30;

/** What a progress tick counts: bytes of an events file, shards of the store, snapshot partitions. */
export type ProgressUnit = 'bytes' | 'shards' | 'partitions';

export interface CalibrateOptions {
  /** A model file, or the name of an active model (PULSE_MODELS_DIR, default the repository's models/). */
  model: string;
  /** Native events, one JSON object a line. Without it (and without `snapshots`): the local store. */
  events?: string | undefined;
  outcomes: string;
  /**
   * Read the published snapshots instead of replaying events: `true` for the local store's embedded S3, an
   * `s3://bucket[/prefix]`, or a folder holding a copy of the bucket.
   */
  snapshots?: string | true | undefined;
  horizonDays?: number | undefined;
  /** Where report.md, report.html and <model>.suggested.yaml go; nothing is written without it. */
  out?: string | undefined;
  /** `--allow-sign-flip`: let a weight take the sign opposite to its signal's own AUC. */
  allowSignFlip?: boolean | undefined;
  /** `--band-bad-rates`: cut the suggested bands where the fitted churn rate falls to these (one per cut-off). */
  bandBadRates?: number[] | undefined;
  /** Leave out outcomes whose entity never appears in the events instead of failing. */
  skipUnknown?: boolean | undefined;
  bootstrapReplicates?: number | undefined;
  seed?: number | undefined;
  /** `--threads`: worker threads replaying an events file (docs/calibrate.md#threads); default by file size. */
  threads?: number | undefined;
  /** Receives progress: `done` of `total` in `unit`. */
  onProgress?: ((done: number, total: number, unit: ProgressUnit) => void) | undefined;
  now?: Date | undefined;
  /** Environment (PULSE_DATA_DIR, PULSE_MODELS_DIR) and working directory; default: this process's. */
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  /** The client for `s3://` snapshot locations (default: the AWS SDK's default chain). */
  s3Client?: S3Client | undefined;
}

export interface CalibrateRun {
  json: CalibrateJson;
  report: CalibrationReport;
  /** The files written (null without --out). */
  files: { markdown: string; html: string; suggested: string } | null;
}

/**
 * `pulse calibrate` without the command line: backtest the model (replaying a file or the local store, or reading
 * published snapshots), evaluate it against the outcomes, fit suggested weights, write the reports and the
 * suggested model, and return the `--json` result. Throws CalibrateUsageError (exit 2) for unusable flags and
 * CalibrateError (exit 1) for data that cannot be calibrated; both say what to fix.
 */
export async function runCalibrate(options: CalibrateOptions): Promise<CalibrateJson> {
  return (await runCalibrateDetailed(options)).json;
}

export async function runCalibrateDetailed(options: CalibrateOptions): Promise<CalibrateRun> {
  const where: CalibrateEnv = { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd() };
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  if (!Number.isInteger(horizonDays) || horizonDays < 0 || horizonDays > 3650)
    throw new CalibrateUsageError(`--horizon-days must be a whole number of days from 0 to 3650, got ${horizonDays}`);
  if (!options.model) throw new CalibrateUsageError('--model is required');
  if (options.bandBadRates !== undefined) {
    const rates = options.bandBadRates;
    if (rates.some((r) => !(r > 0 && r < 1)) || rates.some((r, i) => i > 0 && r >= rates[i - 1]!))
      throw new CalibrateUsageError('--band-bad-rates must be decreasing churn rates between 0 and 1');
  }
  if (options.events !== undefined && options.snapshots !== undefined)
    throw new CalibrateUsageError(
      'give --events (replay a file) or --snapshots (read published scores), not both; without either, the local store is replayed',
    );
  const files: [string, string | undefined][] = [
    ['--outcomes', options.outcomes],
    ['--events', options.events],
  ];
  for (const [flag, file] of files) {
    if (file === undefined && flag === '--events') continue;
    if (!file) throw new CalibrateUsageError(`${flag} is required`);
    const path = resolve(where.cwd, file);
    if (!existsSync(path) || !statSync(path).isFile()) throw new CalibrateUsageError(`${flag} ${file}: no such file`);
  }
  const loaded = resolveModel(options.model, where);
  const model = loaded.model;
  const outcomes = readOutcomesFile(resolve(where.cwd, options.outcomes));
  const goodCount = outcomes.filter((o) => o.good).length;
  // Fail before the replay when the file alone cannot give a meaningful AUC.
  checkEnoughOutcomes(goodCount, outcomes.length - goodCount);
  const unknownEntities = options.skipUnknown ? 'skip' : 'error';
  let result: BacktestResult;
  if (options.snapshots !== undefined) {
    const opened = await openSnapshotLocation(options.snapshots, where, { s3Client: options.s3Client });
    try {
      const modelPrefix = await modelSnapshotPrefix(opened, model.name);
      const uri = opened.objects.uri(modelPrefix);
      result = await snapshotBacktest({
        model,
        outcomes,
        horizonDays,
        objects: opened.objects,
        modelPrefix,
        label: uri.endsWith('/') ? uri : `${uri}/`,
        unknownEntities,
        onProgress: (done, total) => options.onProgress?.(done, total, 'partitions'),
      });
    } finally {
      await opened.close();
    }
  } else if (options.events !== undefined) {
    result = await backtest({
      model,
      source: { ...fileEventSource(resolve(where.cwd, options.events)), label: options.events },
      outcomes,
      horizonDays,
      unknownEntities,
      threads: options.threads,
      onProgress: (done, total) => options.onProgress?.(done, total, 'bytes'),
    });
  } else {
    const opened = await openLocalEvents(where);
    try {
      result = await backtest({
        model,
        source: opened.source,
        outcomes,
        horizonDays,
        unknownEntities,
        onProgress: (done, total) => options.onProgress?.(done, total, 'shards'),
      });
    } finally {
      await opened.close();
    }
  }
  const report = calibrate(model, result, {
    horizonDays,
    bootstrapReplicates: options.bootstrapReplicates,
    seed: options.seed,
    allowSignFlip: options.allowSignFlip,
    bandFit: options.bandBadRates ? { method: 'bad-rates', rates: options.bandBadRates } : undefined,
    now: options.now,
  });
  if (options.out === undefined) return { json: toJson(report, null), report, files: null };
  const outDir = resolve(where.cwd, options.out);
  const shownOut = options.out;
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new CalibrateUsageError(
      `--out ${shownOut} cannot be created: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const suggestedName = `${model.name}.suggested.yaml`;
  const written = {
    markdown: join(shownOut, 'report.md'),
    html: join(shownOut, 'report.html'),
    suggested: join(shownOut, suggestedName),
  };
  const header = [
    ` Suggested by pulse calibrate on ${report.generatedAt.slice(0, 10)} from ${report.current.n} outcomes`,
    ` (${report.current.bad} churned), horizon ${horizonDays} days, based on ${basename(loaded.file)} v${model.version}`,
    ` (${result.source.kind === 'snapshots' ? 'scores as published in its snapshots' : 'replayed events'}).`,
    ` AUC current ${fmt.auc(report.current.auc)}, suggested ${fmt.auc(report.suggested.auc)} in-sample,`,
    ` ${fmt.auc(report.crossValidatedAuc)} cross-validated. Review before you publish it.`,
  ].join('\n');
  const yaml = suggestedModelYaml(
    readFileSync(loaded.file, 'utf8'),
    loaded.file,
    written.suggested,
    model,
    report.suggestion,
    header,
  );
  writeFileSync(join(outDir, suggestedName), yaml);
  writeFileSync(join(outDir, 'report.md'), renderMarkdown(report, suggestedName));
  writeFileSync(join(outDir, 'report.html'), renderHtml(report, suggestedName));
  return { json: toJson(report, written.suggested), report, files: written };
}

export interface CommandFlags {
  model?: string;
  events?: string;
  outcomes?: string;
  snapshots?: string | boolean;
  horizonDays?: string;
  out?: string;
  json?: boolean;
  allowSignFlip?: boolean;
  bandBadRates?: string;
  skipUnknown?: boolean;
  seed?: string;
  threads?: string;
}

const HELP_AFTER = `
Events: --events replays a JSONL file; without it the local store in PULSE_DATA_DIR (default .pulse/) is
replayed, read through the running local server when npm start is up. --snapshots reads the scores as they were
published instead of replaying: from the local store's S3 (no value), s3://bucket[/prefix] (default AWS
credentials), or a folder holding a copy of the bucket. --model takes a file or an active model's name
(PULSE_MODELS_DIR, default models/).

Exit code 0 on success, 1 when the data cannot be calibrated, 2 on bad usage. Details: docs/calibrate.md.

Examples:
  pulse calibrate --model models/customer.yaml --events events.jsonl --outcomes outcomes.csv
  pulse calibrate --model customer --outcomes outcomes.csv --horizon-days 14
  pulse calibrate --model customer --outcomes outcomes.csv --snapshots s3://my-pulse-bucket --json`;

/**
 * \`pulse calibrate\`: docs/calibrate.md. Exit 0 on success, 1 when the data cannot be calibrated, 2 on bad usage. With
 * \`io\` and \`result\` (the CLI's), output goes to io and the exit code to result.code; commander's own errors (an
 * unknown flag, --help) are thrown for the CLI to map.
 */
export function calibrateCommand(io?: CliIO, result?: { code: number }): Command {
  const command = new Command('calibrate')
    .description('Backtest a model against real outcomes (AUC, churn by band, lift) and suggest weights')
    .option('--model <file|name>', 'model file (YAML or JSON), or the name of an active model')
    .option('--events <file.jsonl>', 'native events, one JSON object a line (default: the local store)')
    .option(
      '--snapshots [location]',
      'read published snapshots instead: local S3 (no value), s3://bucket[/prefix], or a folder',
    )
    .option('--outcomes <file>', 'CSV or JSONL with entity_type,entity_id,outcome,outcome_date')
    .option('--horizon-days <n>', 'score each entity this many days before its outcome', String(DEFAULT_HORIZON_DAYS))
    .option(
      '--out <dir>',
      'write report.md, report.html and <model>.suggested.yaml there (nothing is written without it)',
    )
    .option('--json', 'print the result as JSON on stdout')
    .option('--allow-sign-flip', 'let a suggested weight take the sign opposite to what its signal alone predicts')
    .option(
      '--band-bad-rates <r1,r2,...>',
      'cut the suggested bands where the fitted churn rate falls to these (one per band after the first, decreasing); default: keep the current band shares',
    )
    .option('--skip-unknown', 'leave out outcomes whose entity is unknown (never in the events) instead of failing')
    .option('--seed <n>', 'seed of the bootstrap and cross-validation', '1')
    .option('--threads <n>', 'worker threads replaying --events (default: one per core for files of 64 MiB or more)')
    .addHelpText('after', HELP_AFTER);
  if (io && result) {
    return command
      .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
      .showHelpAfterError('(add --help for usage)')
      .exitOverride()
      .action(async (flags: CommandFlags) => {
        result.code = await calibrateAction(flags, io);
      });
  }
  return command
    .exitOverride((error) => {
      // Commander has printed the problem; bad flags are usage errors (2), help is success (0).
      process.exit(error.exitCode === 0 ? 0 : 2);
    })
    .action(async (flags: CommandFlags) => {
      process.exitCode = await calibrateAction(flags);
    });
}

type ActionIO = Pick<CliIO, 'stdout'> & {
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
};

const BAR_FORMAT: Record<ProgressUnit, string> = {
  bytes: 'replaying events [{bar}] {percentage}% | {shownDone} of {shownTotal} MB | eta {eta_formatted}',
  shards: 'replaying the local store [{bar}] {value}/{total} shards | eta {eta_formatted}',
  partitions: 'reading snapshots [{bar}] {value}/{total} partitions',
};

/** The command's body, returning its exit code (separate from commander so it can be tested in-process). */
export async function calibrateAction(
  flags: CommandFlags,
  io: ActionIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let bar: SingleBar | undefined;
  try {
    const missing = (['model', 'outcomes'] as const).filter((k) => !flags[k]);
    if (missing.length > 0)
      throw new CalibrateUsageError(
        `missing ${missing.map((k) => `--${k}`).join(', ')} (usage: pulse calibrate --model <file|name> --outcomes <file.csv> [--events <file.jsonl> | --snapshots [location]])`,
      );
    const horizonDays = parseWhole(flags.horizonDays ?? String(DEFAULT_HORIZON_DAYS), '--horizon-days');
    const seed = parseWhole(flags.seed ?? '1', '--seed');
    const threads = flags.threads === undefined ? undefined : parseWhole(flags.threads, '--threads');
    if (threads === 0) throw new CalibrateUsageError('--threads must be at least 1, got "0"');
    // Each worker holds its own copy of the reader and engine (tens of MB): a typo like 1000 must not exhaust memory.
    if (threads !== undefined && threads > MAX_THREADS)
      throw new CalibrateUsageError(`--threads must be at most ${MAX_THREADS}, got "${threads}"`);
    let bandBadRates: number[] | undefined;
    if (flags.bandBadRates !== undefined) {
      const bands = resolveModel(flags.model!, { env: io.env ?? process.env, cwd: io.cwd ?? process.cwd() }).model.bands
        .length;
      const parsed = parseBadRates(flags.bandBadRates, bands);
      if (typeof parsed === 'string') throw new CalibrateUsageError(parsed);
      bandBadRates = parsed;
    }
    const interactive = Boolean(io.stderr.isTTY) && !(io.env ?? process.env).CI;
    let started = false;
    const run = await runCalibrateDetailed({
      model: flags.model!,
      events: flags.events,
      snapshots: flags.snapshots === undefined || flags.snapshots === false ? undefined : flags.snapshots,
      outcomes: flags.outcomes!,
      horizonDays,
      out: flags.out,
      allowSignFlip: flags.allowSignFlip,
      bandBadRates,
      skipUnknown: flags.skipUnknown,
      seed,
      threads,
      env: io.env,
      cwd: io.cwd,
      onProgress: (done, total, unit) => {
        if (!interactive) return;
        const mb = (n: number) => (n / 1e6).toFixed(1);
        const payload = { shownDone: mb(done), shownTotal: mb(total) };
        if (!started) {
          bar = new SingleBar(
            { stream: io.stderr, format: BAR_FORMAT[unit], hideCursor: true },
            Presets.shades_classic,
          );
          bar.start(total, done, payload);
          started = true;
        } else bar?.update(done, payload);
      },
    });
    bar?.stop();
    bar = undefined;
    if (flags.json) io.stdout.write(`${JSON.stringify(run.json, null, 2)}\n`);
    else io.stdout.write(summary(run));
    return 0;
  } catch (error) {
    bar?.stop();
    if (error instanceof CalibrateUsageError) {
      io.stderr.write(`pulse calibrate: ${error.message}\n`);
      return 2;
    }
    if (error instanceof CalibrateError || error instanceof ModelValidationError) {
      io.stderr.write(`pulse calibrate: ${error.message}\n`);
      return 1;
    }
    io.stderr.write(`pulse calibrate: unexpected error: ${(error as Error).message}\n`);
    return 1;
  }
}

function parseWhole(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw new CalibrateUsageError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

function summary({ report, files }: CalibrateRun): string {
  const c = report.current;
  const b = report.backtest;
  const bands = c.bands.map((band) => `${band.band} ${fmt.pct(band.badRate)} (n=${band.n})`).join(', ');
  const how =
    b.source.kind === 'snapshots'
      ? `scores as published ${report.horizonDays} days before each outcome, read from ${b.source.label}`
      : `scored ${report.horizonDays} days before each outcome from ${b.source.label}`;
  const leftOut = [
    b.skipped.length > 0 ? `${b.skipped.length} unknown left out` : '',
    b.unscored.length > 0 ? `${b.unscored.length} unscored (no snapshot for their date)` : '',
  ].filter(Boolean);
  const best = report.bestSingle
    ? `; best single signal "${report.bestSingle.name}" ${fmt.auc(report.bestSingle.auc)}`
    : '';
  const oot = report.outOfTime
    ? `out of time (from ${report.outOfTime.splitDate}): suggested ${fmt.auc(report.outOfTime.suggestedAuc)}, current ${fmt.auc(report.outOfTime.currentAuc)}, best single signal ${fmt.auc(report.outOfTime.bestSingleAuc)}`
    : `out of time: not run (${report.outOfTimeSkipped})`;
  const transforms = report.suggestion.signals
    .filter((s) => s.kind === 'weight' && !s.kept)
    .map((s) => `${s.name} ${s.suggested}${s.transform === 'none' ? '' : ` × ${s.transform}`}`)
    .join(', ');
  const bandsAfter = report.bandsAfter
    .map((row, k) => `${row.band} ${fmt.pct(report.bandsBefore[k]!.share)} → ${fmt.pct(row.share)}`)
    .join(', ');
  return [
    `${report.model.name} v${report.model.version}: ${c.n} outcomes (${c.bad} churned), ${how}`,
    ...(leftOut.length > 0 ? [leftOut.join(', ')] : []),
    `AUC ${fmt.auc(c.auc)} (95% CI ${fmt.auc(c.aucCi[0])}–${fmt.auc(c.aucCi[1])}): ${aucVerdict(c.auc)}`,
    `churn by band: ${bands}${c.monotonic ? '' : ' — not monotonic'}`,
    `bottom-decile lift ${fmt.times(c.bottomDecile.lift)}`,
    `suggested: AUC ${fmt.auc(report.suggested.auc)} in-sample, ${fmt.auc(report.crossValidatedAuc)} cross-validated${best}`,
    oot,
    `suggested weights: ${transforms || '(none varied)'}`,
    ...(report.constraints.length > 0
      ? [
          `held at 0 by the sign constraint: ${report.constraints.map((x) => x.name).join(', ')} (--allow-sign-flip to lift)`,
        ]
      : []),
    `bands (share of entities, current → suggested): ${bandsAfter}; ${report.bandChanges.length} entities would change band`,
    ...report.warnings.map((w) => `warning: ${w}`),
    files
      ? `wrote ${files.markdown}, ${files.html}, ${files.suggested}`
      : 'nothing written: add --out <dir> for report.md, report.html and the suggested model file',
    '',
  ].join('\n');
}
