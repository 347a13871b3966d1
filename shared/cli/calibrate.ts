import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { backtest } from '../calibrate/backtest.js';
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
import { suggestedModelYaml } from '../calibrate/suggest.js';
import { ModelValidationError } from '../domain/model/errors.js';
import { loadModelFile } from '../domain/model/load.js';

export const DEFAULT_HORIZON_DAYS = 30;
export const DEFAULT_OUT_DIR = 'calibration';

export interface CalibrateOptions {
  model: string;
  events: string;
  outcomes: string;
  horizonDays?: number | undefined;
  /** Where report.md, report.html and <model>.suggested.yaml go (default ./calibration). */
  out?: string | undefined;
  /** Leave out outcomes whose entity never appears in the events instead of failing. */
  skipUnknown?: boolean | undefined;
  bootstrapReplicates?: number | undefined;
  seed?: number | undefined;
  /** Receives replay progress (bytes read, file size). */
  onProgress?: ((bytesRead: number, totalBytes: number) => void) | undefined;
  now?: Date | undefined;
}

export interface CalibrateRun {
  json: CalibrateJson;
  report: CalibrationReport;
  files: { markdown: string; html: string; suggested: string };
}

/**
 * `pulse calibrate` without the command line: backtest the model on the events, evaluate it against the outcomes,
 * fit suggested weights, write the reports and the suggested model, and return the `--json` result.
 * Throws CalibrateUsageError (exit 2) for unusable flags and CalibrateError (exit 1) for data that cannot be
 * calibrated; both say what to fix.
 */
export async function runCalibrate(options: CalibrateOptions): Promise<CalibrateJson> {
  return (await runCalibrateDetailed(options)).json;
}

export async function runCalibrateDetailed(options: CalibrateOptions): Promise<CalibrateRun> {
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  if (!Number.isInteger(horizonDays) || horizonDays < 0 || horizonDays > 3650)
    throw new CalibrateUsageError(`--horizon-days must be a whole number of days from 0 to 3650, got ${horizonDays}`);
  for (const [flag, file] of [
    ['--model', options.model],
    ['--events', options.events],
    ['--outcomes', options.outcomes],
  ] as const) {
    if (!file) throw new CalibrateUsageError(`${flag} is required`);
    if (!existsSync(file) || !statSync(file).isFile()) throw new CalibrateUsageError(`${flag} ${file}: no such file`);
  }
  const loaded = loadModelFile(options.model);
  const model = loaded.model;
  const outcomes = readOutcomesFile(options.outcomes);
  const goodCount = outcomes.filter((o) => o.good).length;
  // Fail before the replay when the file alone cannot give a meaningful AUC.
  checkEnoughOutcomes(goodCount, outcomes.length - goodCount);
  const result = await backtest({
    model,
    eventsFile: options.events,
    outcomes,
    horizonDays,
    unknownEntities: options.skipUnknown ? 'skip' : 'error',
    onProgress: options.onProgress,
  });
  const report = calibrate(model, result, {
    horizonDays,
    bootstrapReplicates: options.bootstrapReplicates,
    seed: options.seed,
    now: options.now,
  });
  const outDir = options.out ?? DEFAULT_OUT_DIR;
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new CalibrateUsageError(
      `--out ${outDir} cannot be created: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const suggestedName = `${model.name}.suggested.yaml`;
  const files = {
    markdown: join(outDir, 'report.md'),
    html: join(outDir, 'report.html'),
    suggested: join(outDir, suggestedName),
  };
  const header = [
    ` Suggested by pulse calibrate on ${report.generatedAt.slice(0, 10)} from ${report.current.n} outcomes`,
    ` (${report.current.bad} churned), horizon ${horizonDays} days, based on ${basename(options.model)} v${model.version}.`,
    ` AUC current ${fmt.auc(report.current.auc)}, suggested ${fmt.auc(report.suggested.auc)} in-sample,`,
    ` ${fmt.auc(report.crossValidatedAuc)} cross-validated. Review before you publish it.`,
  ].join('\n');
  const yaml = suggestedModelYaml(
    readFileSync(options.model, 'utf8'),
    options.model,
    files.suggested,
    model,
    report.suggestion,
    header,
  );
  writeFileSync(files.suggested, yaml);
  writeFileSync(files.markdown, renderMarkdown(report, suggestedName));
  writeFileSync(files.html, renderHtml(report, suggestedName));
  return { json: toJson(report, files.suggested), report, files };
}

interface CommandFlags {
  model?: string;
  events?: string;
  outcomes?: string;
  horizonDays?: string;
  out?: string;
  json?: boolean;
  skipUnknown?: boolean;
  seed?: string;
}

/** `pulse calibrate`: PRODUCT §9b. Exit 0 on success, 1 when the data cannot be calibrated, 2 on bad usage. */
export function calibrateCommand(): Command {
  return new Command('calibrate')
    .description('Backtest a model against real outcomes (AUC, churn by band, lift) and suggest weights')
    .option('--model <file>', 'model file (YAML or JSON)')
    .option('--events <file.jsonl>', 'native events, one JSON object a line')
    .option('--outcomes <file>', 'CSV or JSONL with entity_type,entity_id,outcome,outcome_date')
    .option('--horizon-days <n>', 'score each entity this many days before its outcome', String(DEFAULT_HORIZON_DAYS))
    .option('--out <dir>', 'where to write report.md, report.html and <model>.suggested.yaml', DEFAULT_OUT_DIR)
    .option('--json', 'print the result as JSON on stdout')
    .option('--skip-unknown', 'leave out outcomes whose entity never appears in the events (default: fail)')
    .option('--seed <n>', 'seed of the bootstrap and cross-validation', '1')
    .exitOverride((error) => {
      // Commander has printed the problem; bad flags are usage errors (2), help is success (0).
      process.exit(error.exitCode === 0 ? 0 : 2);
    })
    .action(async (flags: CommandFlags) => {
      process.exitCode = await calibrateAction(flags);
    });
}

/** The command's body, returning its exit code (separate from commander so it can be tested in-process). */
export async function calibrateAction(
  flags: CommandFlags,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream | NodeJS.WritableStream } = process,
): Promise<number> {
  let bar: SingleBar | undefined;
  try {
    const missing = (['model', 'events', 'outcomes'] as const).filter((k) => !flags[k]);
    if (missing.length > 0)
      throw new CalibrateUsageError(
        `missing ${missing.map((k) => `--${k}`).join(', ')} (usage: pulse calibrate --model <file> --events <file.jsonl> --outcomes <file.csv>)`,
      );
    const horizonDays = parseWhole(flags.horizonDays ?? String(DEFAULT_HORIZON_DAYS), '--horizon-days');
    const seed = parseWhole(flags.seed ?? '1', '--seed');
    if ('isTTY' in io.stderr && io.stderr.isTTY) {
      bar = new SingleBar(
        {
          stream: io.stderr,
          format: 'replaying events [{bar}] {percentage}% | {mb} of {totalMb} MB | eta {eta_formatted}',
          hideCursor: true,
        },
        Presets.shades_classic,
      );
    }
    let started = false;
    const run = await runCalibrateDetailed({
      model: flags.model!,
      events: flags.events!,
      outcomes: flags.outcomes!,
      horizonDays,
      out: flags.out,
      skipUnknown: flags.skipUnknown,
      seed,
      onProgress: (read, total) => {
        if (!bar) return;
        const payload = { mb: (read / 1e6).toFixed(1), totalMb: (total / 1e6).toFixed(1) };
        if (!started) {
          bar.start(total, read, payload);
          started = true;
        } else bar.update(read, payload);
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

function summary({ report, files, json }: CalibrateRun): string {
  const c = report.current;
  const bands = c.bands.map((b) => `${b.band} ${fmt.pct(b.badRate)} (n=${b.n})`).join(', ');
  return [
    `${report.model.name} v${report.model.version}: ${c.n} outcomes (${c.bad} churned), scored ${report.horizonDays} days before each outcome`,
    `AUC ${fmt.auc(c.auc)} (95% CI ${fmt.auc(c.aucCi[0])}–${fmt.auc(c.aucCi[1])}): ${aucVerdict(c.auc)}`,
    `churn by band: ${bands}${c.monotonic ? '' : ' — not monotonic'}`,
    `bottom-decile lift ${fmt.times(c.bottomDecile.lift)}`,
    `suggested weights: AUC ${fmt.auc(json.suggested.auc)} in-sample, ${fmt.auc(report.crossValidatedAuc)} cross-validated; ${report.bandChanges.length} entities would change band`,
    `wrote ${files.markdown}, ${files.html}, ${files.suggested}`,
    '',
  ].join('\n');
}
