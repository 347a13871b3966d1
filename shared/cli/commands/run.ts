import { Presets, SingleBar } from 'cli-progress';
import { lastCompleteDay } from '../../domain/time.js';
import { type ApiTarget, PulseClient } from '../client.js';
import { CliError, type CliIO, EXIT_OK, EXIT_USAGE, interactive } from '../io.js';

export interface RunOptions {
  model: string;
  asOf?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Poll interval, ms. */
  pollMs?: number | undefined;
}

interface RunView {
  runId: string;
  kind: 'run' | 'backfill';
  model: string;
  asOf: string;
  date: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  counts: { entities: number; events: number };
  snapshot: { uri: string; manifest: string } | null;
  error: string | null;
  runs?: string[];
  progress: { done: number; total: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `pulse run`: start a run (or a backfill) and follow it to the end with a progress bar. */
export async function runCommand(options: RunOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const client = new PulseClient(target);
  const body =
    options.from !== undefined
      ? { model: options.model, from: options.from, to: options.to }
      : { model: options.model, asOf: options.asOf ?? (await scheduledAsOf(client, options.model)) };
  const started = await client.call<{ runId: string; status: string }>('POST', '/v1/runs', { body, auth: 'api' });
  io.stderr.write(`run ${started.runId} ${started.status}\n`);

  const bar = interactive(io)
    ? new SingleBar(
        { stream: io.stderr, format: `${options.model} [{bar}] {value}/{total} {unit} | {status}`, hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  let run: RunView;
  let barStarted = false;
  try {
    for (;;) {
      run = await client.call<RunView>('GET', `/v1/runs/${encodeURIComponent(started.runId)}`, { auth: 'api' });
      const payload = { status: run.status, unit: run.kind === 'backfill' ? 'dates' : 'steps' };
      if (bar && !barStarted) {
        bar.start(run.progress.total, run.progress.done, payload);
        barStarted = true;
      } else if (bar) {
        bar.setTotal(run.progress.total);
        bar.update(run.progress.done, payload);
      }
      if (run.status === 'succeeded' || run.status === 'failed') break;
      await sleep(options.pollMs ?? 250);
    }
  } finally {
    bar?.stop();
  }
  if (run.status === 'failed') throw new CliError(`run ${run.runId} failed: ${run.error ?? 'no reason given'}`);
  const what =
    run.kind === 'backfill' ? `backfill of ${run.runs?.length ?? 0} dates up to ${run.date}` : `as of ${run.date}`;
  io.stdout.write(
    `run ${run.runId} succeeded (${what}): ${run.counts.entities} entities scored from ${run.counts.events} events\n`,
  );
  if (run.snapshot) io.stdout.write(`snapshot ${run.snapshot.uri}\n`);
  return EXIT_OK;
}

/**
 * Without --as-of: the last complete day in the model's time zone, as a scheduled run scores. "Now" would score a
 * partial day and replace the trend the schedule computed (docs/local-mode.md#the-pulse-cli).
 */
async function scheduledAsOf(client: PulseClient, model: string): Promise<string> {
  const models = await client.call<{ items: { name: string; timezone: string }[] }>('GET', '/v1/models', {
    auth: 'api',
  });
  const found = models.items.find((m) => m.name === model);
  if (!found) {
    const names = models.items.map((m) => m.name).join(', ');
    throw new CliError(`model: unknown model "${model}"; active models: ${names}`, EXIT_USAGE);
  }
  return lastCompleteDay(Date.now(), found.timezone);
}
