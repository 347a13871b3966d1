import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { countDates } from '../domain/dates.js';
import { LocalConfigError } from '../local/config.js';
import { EmbeddedStartError } from '../local/embedded.js';
import { MAX_BACKFILL_DAYS } from '../run/plan.js';
import { calibrateCommand } from './calibrate.js';
import type { ApiTarget } from './client.js';
import { alertsCommand } from './commands/alerts.js';
import { costCommand } from './commands/cost.js';
import { dashboardCommand } from './commands/dashboard.js';
import { eraseCommand } from './commands/erase.js';
import { exportCommand } from './commands/export.js';
import { checkIngestFile, DEFAULT_CONCURRENCY, ingestCommand, MAX_CONCURRENCY } from './commands/ingest.js';
import { migrateEventKeysCommand } from './commands/migrate-event-keys.js';
import { runCommand } from './commands/run.js';
import { scoresCommand } from './commands/scores.js';
import { shadowCommand } from './commands/shadow.js';
import { showCommand } from './commands/show.js';
import { validateCommand } from './commands/validate.js';
import {
  CliError,
  type CliIO,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  parseCount,
  parseDateFlag,
  parseDateOrInstantFlag,
  parseShare,
  processIO,
} from './io.js';
import { type OutputFormat, outputFormat } from './output.js';
import { resolveTarget, type TargetFlags } from './target.js';

const LOCAL_NOTE =
  'Without --url it acts on the local store in PULSE_DATA_DIR (default .pulse/): through the local server when ' +
  '`npm start` is running there, else directly.';

/** `--name <n>` → `--name`. */
const flagName = (spec: string) => spec.split(' ')[0]!;

/** `pulse cost`'s whole-number options: the flag, its help, the largest value, whether it is required. */
const COST_COUNT_OPTIONS: readonly (readonly [string, string, number, boolean])[] = [
  ['--events-per-month <n>', 'events ingested a month, e.g. 10000000', 1e12, true],
  ['--entities <n>', 'users plus accounts scored, e.g. 50000', 1e10, true],
  ['--models <n>', 'models running side by side (default 1)', 100, false],
  ['--runs-per-month <n>', 'runs of each model a month (default 30: daily)', 10_000, false],
  ['--window-days <n>', 'window of the models in days (default 30)', 3650, false],
  ['--events-per-request <n>', 'events an ingest request carries (default 50)', 500, false],
  [
    '--inactive-days <n>',
    'longest inactiveDays penalty of the models (default 14; a run reads back the longer of this and the window)',
    3650,
    false,
  ],
];

/** `pulse cost`'s shares, each from 0 to 1. */
const COST_SHARE_OPTIONS: readonly (readonly [string, string])[] = [
  [
    '--account-share <share>',
    'share of events that carry an account and are also written to the byAccount index, 0 to 1 (default 1)',
  ],
  [
    '--history-change-share <share>',
    'share of scores whose history entry changes from the run before, 0 to 1 (default: measured, docs/operations.md)',
  ],
];

/** A commander option parser that turns a CliError (bad value) into commander's usage error. */
const flag =
  <T>(parse: (value: string) => T) =>
  (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };

const urlOption = () =>
  new Option('--url <url>', 'a Pulse server, e.g. http://127.0.0.1:3000 (default: the local store)');
const tokenOption = () => new Option('--token <token>', 'API token (default: PULSE_API_TOKEN, else the local one)');
const jsonOption = () => new Option('--json', 'print JSON (full precision) instead of a table');
const csvOption = () => new Option('--csv', 'print CSV with a header row instead of a table');
type FormatFlags = { json?: boolean; csv?: boolean };
/** `--limit <n>`: rows to print, from 1 to `max` (`rows` says what a row is). */
const limitOption = (rows: string, max: number, fallback: number) =>
  new Option('--limit <n>', rows).argParser(flag((v) => parseCount(v, '--limit', max))).default(fallback);

/** The options of a listing command after its own: `limit`, then --json, --csv, --url and --token. */
const listingOptions = (command: Command, limit: Option) =>
  command
    .addOption(limit)
    .addOption(jsonOption())
    .addOption(csvOption())
    .addOption(urlOption())
    .addOption(tokenOption());

/** `<type>` of an entity command: user or account. */
function entityTypeArg(type: string): 'user' | 'account' {
  if (type !== 'user' && type !== 'account')
    throw new CliError(`<type> must be user or account (got "${type}")`, EXIT_USAGE);
  return type;
}

/** The `pulse` program; every action stores its exit code in `result`. */
export async function buildProgram(io: CliIO, result: { code: number }): Promise<Command> {
  const act =
    <A extends unknown[]>(body: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      result.code = await body(...args);
    };
  const withTarget = async (flags: TargetFlags, body: (target: ApiTarget) => Promise<number>) => {
    const target = await resolveTarget(flags, io);
    try {
      return await body(target);
    } finally {
      await target.close();
    }
  };
  /** The output format first (a usage error needs no target), then the command against its target. */
  const withOutput = (
    flags: TargetFlags & FormatFlags,
    body: (target: ApiTarget, format: OutputFormat) => Promise<number>,
  ) => {
    const format = outputFormat(flags);
    return withTarget(flags, (target) => body(target, format));
  };

  const program = new Command('pulse')
    .description(
      'Pulse: customer engagement scoring. Validate models, ingest events, run models, read scores and alerts, try drafts, calibrate.',
    )
    .version('0.1.0', '-V, --version')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  program
    .command('validate')
    .description('Check model files: every problem as file:line: field: reason')
    .argument('<dir|file>', 'a model file (YAML/JSON) or a folder of them, e.g. models/')
    .addHelpText(
      'after',
      '\nExit code 0 when every model is valid, 1 when one is not.\n\nExample:\n  pulse validate models/',
    )
    .action(act((target: string) => validateCommand(target, io)));

  program
    .command('ingest')
    .description('Send a JSONL or CSV file of events, in batches of up to 500, resumably')
    .argument('<file>', 'file.jsonl (one native event a line) or file.csv (header: name,userId,timestamp,...)')
    .addOption(urlOption())
    .option('--write-key <key>', 'write key (default: PULSE_WRITE_KEY, else the local one)')
    .option('--checkpoint <file>', 'where progress is kept (default: <file>.checkpoint.json)')
    .option('--restart', 'ignore an existing checkpoint and start from the first line')
    .option(
      '--batch-size <n>',
      'events a request, 1-500',
      flag((v) => parseCount(v, '--batch-size', 500)),
      500,
    )
    .option(
      '--concurrency <n>',
      `requests in flight at once, 1-${MAX_CONCURRENCY}`,
      flag((v) => parseCount(v, '--concurrency', MAX_CONCURRENCY)),
      DEFAULT_CONCURRENCY,
    )
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\nAn interrupted ingest resumes after the last acknowledged line when run again; resending is harmless\n` +
        '(events are idempotent by eventId). CSV columns: name, userId, timestamp (ISO 8601 or epoch ms), optional\n' +
        'eventId, accountId, properties (JSON); other columns become properties.\n\nExamples:\n' +
        '  pulse ingest events.jsonl\n  pulse ingest events.csv --url https://pulse.example.com --write-key $KEY',
    )
    .action(
      act(
        (
          file: string,
          flags: TargetFlags & { checkpoint?: string; restart?: boolean; batchSize: number; concurrency: number },
        ) => {
          checkIngestFile(file, io);
          return withTarget(flags, (target) =>
            ingestCommand(
              {
                file,
                checkpoint: flags.checkpoint,
                restart: flags.restart,
                batchSize: flags.batchSize,
                concurrency: flags.concurrency,
              },
              target,
              io,
            ),
          );
        },
      ),
    );

  program
    .command('run')
    .description('Score a model as of a date (default: the last complete day), or backfill a date range, with progress')
    .argument('<model>', 'model name, e.g. customer (see GET /v1/models)')
    .option(
      '--as-of <date>',
      'score as of the end of this day (YYYY-MM-DD) in the model time zone (default: the last complete day there, as a scheduled run does)',
      flag((v) => parseDateFlag(v, '--as-of')),
    )
    .option(
      '--from <date>',
      'backfill: first as-of date (YYYY-MM-DD)',
      flag((v) => parseDateFlag(v, '--from')),
    )
    .option(
      '--to <date>',
      'backfill: last as-of date (YYYY-MM-DD)',
      flag((v) => parseDateFlag(v, '--to')),
    )
    .addOption(urlOption())
    .addOption(tokenOption())
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\n\nExamples:\n  pulse run customer\n  pulse run customer --as-of 2026-03-01\n  pulse run customer --from 2026-02-01 --to 2026-02-28`,
    )
    .action(
      act(async (model: string, flags: TargetFlags & { asOf?: string; from?: string; to?: string }) => {
        if (flags.asOf && (flags.from || flags.to))
          throw new CliError('give --as-of, or --from and --to, not both', EXIT_USAGE);
        if (Boolean(flags.from) !== Boolean(flags.to))
          throw new CliError('a backfill needs both --from and --to', EXIT_USAGE);
        if (flags.from && flags.to && flags.from > flags.to)
          throw new CliError('--from must not be after --to', EXIT_USAGE);
        if (flags.from && flags.to && countDates(flags.from, flags.to) > MAX_BACKFILL_DAYS) {
          throw new CliError(
            `a backfill covers at most ${MAX_BACKFILL_DAYS} dates: --from ${flags.from} --to ${flags.to} spans ${countDates(flags.from, flags.to).toLocaleString('en-US')}`,
            EXIT_USAGE,
          );
        }
        return withTarget(flags, (target) =>
          runCommand({ model, asOf: flags.asOf, from: flags.from, to: flags.to }, target, io),
        );
      }),
    );

  listingOptions(
    program
      .command('scores')
      .description('List the highest scores as a table')
      .option('--model <name>', 'one model (default: each active model)')
      .option('--band <band>', 'only this band, e.g. at-risk'),
    limitOption('rows a model, 1-1000', 1000, 20),
  )
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\n\nExamples:\n  pulse scores\n  pulse scores --model customer --band at-risk --limit 50\n  pulse scores --model customer --limit 1000 --csv > scores.csv`,
    )
    .action(
      act((flags: TargetFlags & FormatFlags & { model?: string; band?: string; limit: number }) =>
        withOutput(flags, (target, format) =>
          scoresCommand({ model: flags.model, band: flags.band, limit: flags.limit, format }, target, io),
        ),
      ),
    );

  program
    .command('show')
    .description('Show why one entity scores what it does: score, band, reasons, contributions, penalties, history')
    .argument('<type>', 'user or account')
    .argument('<id>', 'the entity id')
    .option('--model <name>', 'one model (default: every model that scores it)')
    .addOption(jsonOption())
    .addOption(new Option('--csv', 'print its contributions and penalties as CSV with a header row'))
    .addOption(urlOption())
    .addOption(tokenOption())
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\nExit code 1 when the entity has no score.\n\nExamples:\n  pulse show account acme\n  pulse show user u-42 --model trial --json`,
    )
    .action(
      act((type: string, id: string, flags: TargetFlags & FormatFlags & { model?: string }) => {
        const entityType = entityTypeArg(type);
        return withOutput(flags, (target, format) =>
          showCommand({ entityType, entityId: id, model: flags.model, format }, target, io),
        );
      }),
    );

  program
    .command('export')
    .description(
      'Export everything stored about one user or account as JSON (events, traits, scores, history, alerts, overrides)',
    )
    .argument('<type>', 'user or account')
    .argument('<id>', 'the entity id')
    .option('--out <file>', 'write the JSON to this file (created with mode 0600) instead of stdout')
    .addOption(urlOption())
    .addOption(tokenOption())
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\nAgainst a deployed API (--url), events come from the events table only (the hot window, at most 25,000; older ones are in the archive, read them with Athena). Exit code 1 when nothing is stored about it.\n\nExamples:\n  pulse export user u-42 --out u-42.json`,
    )
    .action(
      act((type: string, id: string, flags: TargetFlags & { out?: string }) => {
        const entityType = entityTypeArg(type);
        return withTarget(flags, (target) => exportCommand({ entityType, entityId: id, out: flags.out }, target, io));
      }),
    );

  program
    .command('erase')
    .description(
      'Erase everything stored about one user or account (events, traits, scores, history, alerts, overrides, snapshot rows) and refuse its new data',
    )
    .argument('<type>', 'user or account')
    .argument('<id>', 'the entity id')
    .option('--lift', "lift the entity's tombstone instead: its new data is accepted again (nothing erased comes back)")
    .option('--json', 'print the answer as JSON')
    .addOption(urlOption())
    .addOption(tokenOption())
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\nErasing an account erases the account's own data, not its users' (each user is erased on their own). Running it again is safe and answers the same way. Every erasure is in the audit log (GET /v1/erasures) with the id hashed.\n\nExamples:\n  pulse erase user u-42\n  pulse erase user u-42 --lift\n  pulse erase account acme --url https://<api> --token <jwt>`,
    )
    .action(
      act((type: string, id: string, flags: TargetFlags & { lift?: boolean; json?: boolean }) => {
        const entityType = entityTypeArg(type);
        return withTarget(flags, (target) =>
          eraseCommand({ entityType, entityId: id, lift: flags.lift, json: flags.json }, target, io),
        );
      }),
    );

  listingOptions(
    program
      .command('alerts')
      .description('List recent alerts (drops, spikes, band changes), newest first, with their reasons')
      .option('--model <name>', 'one model (default: every active model)')
      .option(
        '--since <date>',
        'alerts of runs as of this date (YYYY-MM-DD) or ISO instant or later (default: 7 days ago)',
        flag((v) => parseDateOrInstantFlag(v, '--since')),
      ),
    limitOption('rows, 1-1000', 1000, 100),
  )
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\n\nExamples:\n  pulse alerts\n  pulse alerts --model customer --since 2026-03-01 --csv > alerts.csv`,
    )
    .action(
      act((flags: TargetFlags & FormatFlags & { model?: string; since?: string; limit: number }) =>
        withOutput(flags, (target, format) =>
          alertsCommand({ model: flags.model, since: flags.since, limit: flags.limit, format }, target, io),
        ),
      ),
    );

  program
    .command('migrate-event-keys')
    .description(
      'Give events stored by an earlier version the (userId, eventId) key (a one-off backfill, safe to rerun)',
    )
    .requiredOption('--table <name>', 'the events table (stack output EventsTableName)')
    .option('--region <region>', 'AWS region (default: from the AWS environment)')
    .option('--endpoint <url>', 'a DynamoDB-compatible endpoint instead of AWS, e.g. http://127.0.0.1:8000')
    .addHelpText(
      'after',
      '\nUses the AWS credentials of the environment. Local mode migrates its own store when it starts; see\n' +
        'docs/data-model.md (Migrating event keys).\n\nExample:\n  pulse migrate-event-keys --table pulse-data-EventsTable1234 --region eu-west-1',
    )
    .action(act((flags: { table: string; region?: string; endpoint?: string }) => migrateEventKeysCommand(flags, io)));

  const cost = program.command('cost').description('Estimate the monthly AWS cost of running Pulse at a given volume');
  for (const [spec, help, max, required] of COST_COUNT_OPTIONS) {
    const parse = flag((v) => parseCount(v, flagName(spec), max));
    if (required) cost.requiredOption(spec, help, parse);
    else cost.option(spec, help, parse);
  }
  for (const [spec, help] of COST_SHARE_OPTIONS)
    cost.option(
      spec,
      help,
      flag((v) => parseShare(v, flagName(spec))),
    );
  cost
    .option('--compare', 'print the design this work started from next to the current one')
    .option(
      '--markdown',
      'print the Markdown cost table of docs/operations.md (1M, 10M, 100M and 1B events a month; --events-per-month is ignored)',
    )
    .option('--json', "print the estimate (with each line item's formula) as JSON")
    .addHelpText(
      'after',
      '\nThe cost model and its assumptions are in docs/operations.md.\n\nExample:\n  pulse cost --events-per-month 10000000 --entities 50000 --compare',
    )
    .action(
      act(
        (flags: {
          eventsPerMonth: number;
          entities: number;
          models?: number;
          runsPerMonth?: number;
          windowDays?: number;
          eventsPerRequest?: number;
          inactiveDays?: number;
          accountShare?: number;
          historyChangeShare?: number;
          compare?: boolean;
          markdown?: boolean;
          json?: boolean;
        }) => costCommand(flags, io),
      ),
    );

  program
    .command('shadow')
    .description('Score a draft model version against the local store, publishing nothing, and list band changes')
    .argument('<draft-model-file>', 'the draft (YAML or JSON), e.g. customer.draft.yaml with a bumped version')
    .option(
      '--as-of <date>',
      'score as of the end of this day (YYYY-MM-DD) in the model time zone (default: now)',
      flag((v) => parseDateFlag(v, '--as-of')),
    )
    .option('--compare-with <model>', 'the live model to compare with (default: the draft’s name)')
    .addOption(limitOption('rows of the table, 1-10000 (--json prints every change)', 10_000, 50))
    .option('--json', 'print the whole shadow report as JSON')
    .addOption(urlOption())
    .addOption(tokenOption())
    .addHelpText(
      'after',
      `\n${LOCAL_NOTE}\nThe draft is scored exactly like a run (same events, same engine) and compared with the live model's\n` +
        'current scores; nothing is written (no scores, history, snapshot or alerts). Only local mode offers\n' +
        'shadow runs (the AWS API cannot read events).\n\nExit code 0 when the comparison ran (whether or not bands change),\n' +
        '1 on an invalid draft or a failure, 2 on bad usage.\n\nExamples:\n' +
        '  pulse shadow customer.draft.yaml\n  pulse shadow customer.draft.yaml --as-of 2026-03-01 --json',
    )
    .action(
      act(
        (file: string, flags: TargetFlags & { asOf?: string; compareWith?: string; limit: number; json?: boolean }) => {
          const path = resolve(io.cwd, file);
          if (!existsSync(path))
            throw new CliError(`${file} does not exist: give a draft model file (YAML or JSON)`, EXIT_USAGE);
          return withTarget(flags, (target) =>
            shadowCommand(
              { file, asOf: flags.asOf, compareWith: flags.compareWith, limit: flags.limit, json: flags.json },
              target,
              io,
            ),
          );
        },
      ),
    );

  program
    .command('dashboard')
    .description(
      'Serve the dashboard on 127.0.0.1 for a deployed scores API (SigV4 with your AWS credentials, or a JWT)',
    )
    .option('--url <url>', 'the scores API URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com')
    .option('--jwt <token>', 'a JWT for an API deployed with the JWT authorizer (default: SigV4)')
    .option('--token <token>', "a Pulse server's PULSE_API_TOKEN (another machine's local server)")
    .option('--region <region>', 'AWS region for SigV4 (default: from the URL, else AWS_REGION)')
    .option(
      '--port <n>',
      'local port (0: any free port)',
      flag((v) => (v === '0' ? 0 : parseCount(v, '--port', 65535))),
      3001,
    )
    .addHelpText(
      'after',
      '\nThe pages are the ones the local server serves at / (docs/dashboard.md). The command prints a sign-in URL\n' +
        "with a one-off token (or PULSE_DASHBOARD_TOKEN when set). Without --url it prints the local server's\n" +
        'dashboard URL.\n\nExamples:\n  pulse dashboard --url https://abc123.execute-api.eu-west-1.amazonaws.com\n' +
        '  pulse dashboard --url https://api.example.com --jwt "$ID_TOKEN"',
    )
    .action(
      act((flags: { url?: string; jwt?: string; token?: string; region?: string; port: number }) =>
        dashboardCommand(flags, io),
      ),
    );

  program.addCommand(calibrateCommand(io, result));
  return program;
}

function report(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // Commander printed the message (or the help) already.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
    return EXIT_USAGE;
  }
  if (error instanceof CliError) {
    io.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof LocalConfigError) {
    io.stderr.write(`error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof EmbeddedStartError) {
    io.stderr.write(`error: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILURE;
}

/** Run the CLI with `argv` (as process.argv: node, script, args...) and return the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const result = { code: EXIT_OK };
  try {
    const program = await buildProgram(io, result);
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv]);
  } catch (error) {
    return report(error, io);
  }
  return result.code;
}

const invokedDirectly = (() => {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  const code = await runCli(process.argv);
  process.exitCode = code;
}
