import { relative } from 'node:path';
import { formatModelIssue, ModelValidationError } from '../domain/model/errors.js';
import { LocalConfigError, localConfig } from './config.js';
import { demoCalibrateCommand, readDemoMarker } from './demo.js';
import { EmbeddedStartError } from './embedded.js';
import { type LocalServer, startLocalServer } from './server.js';

/**
 * `npm start` — Pulse on one machine, no AWS: embedded DynamoDB (dynalite) and S3 (s3rver) under PULSE_DATA_DIR,
 * ingest + scores API on 127.0.0.1:PORT, model schedules in-process. `npm start -- --demo` also loads the demo
 * data set and runs every model. See docs/local-mode.md.
 */

const HELP = `Usage: npm start [-- --demo]

Runs Pulse locally: ingest and scores API on http://127.0.0.1:\${PORT:-3000}, an embedded S3 on
http://127.0.0.1:\${PULSE_S3_PORT:-4569} (bucket pulse-local), data under \${PULSE_DATA_DIR:-.pulse/}.

  --demo    load a demo data set (accounts, users, 60 days of events) and run every model
  --help    show this help

Environment: PORT, PULSE_DATA_DIR, PULSE_MODELS_DIR, PULSE_API_TOKEN, PULSE_WRITE_KEY, PULSE_S3_PORT,
PULSE_SHARD_COUNT, PULSE_RETENTION_DAYS, PULSE_ALERT_WEBHOOK_URL; PULSE_DYNAMODB_ENDPOINT and PULSE_S3_ENDPOINT
for external DynamoDB-/S3-compatible services (docs/configuration.md).
`;

/** The data dir as the user would type it: relative to the working directory when inside it. */
function shownDataDir(dataDir: string): string {
  const rel = relative(process.cwd(), dataDir);
  return rel === '' ? '.' : rel.startsWith('..') ? dataDir : rel;
}

function banner(server: LocalServer, config: ReturnType<typeof localConfig>, demo = false): string {
  const { credentials } = config;
  const generated = (yes: boolean) => (yes ? ' (generated; saved in the data dir)' : '');
  const models = server.stack.models.map(({ model }) => `${model.name} v${model.version} (${model.cadence})`);
  const dataDir = shownDataDir(config.dataDir);
  return [
    '',
    `Pulse is running at ${server.url}`,
    '',
    `  Dashboard   ${server.url}/?token=${encodeURIComponent(credentials.apiToken)}`,
    `  API token   ${credentials.apiToken}${generated(credentials.generated.apiToken)}`,
    `  Write key   ${credentials.writeKey}${generated(credentials.generated.writeKey)}`,
    ...(server.stack.dynamo.embedded
      ? []
      : [
          `  DynamoDB    ${server.stack.dynamo.endpoint} (tables ${server.stack.tables.events}, ${server.stack.tables.scores})`,
        ]),
    server.stack.s3.embedded
      ? `  S3          ${server.s3Url} (bucket ${server.stack.s3.bucket}, path-style, any credentials)`
      : `  S3          ${server.s3Url} (bucket ${server.stack.s3.bucket})`,
    `  Data        ${dataDir}/`,
    `  Models      ${models.join(', ')}`,
    ...server.unscheduled.map((u) => `  Not scheduled: ${u.reason}`),
    ...(server.resumedRuns.length > 0
      ? [`  Resuming   ${server.resumedRuns.join(', ')} (stopped by the last shutdown)`]
      : []),
    ...(!demo && readDemoMarker(config.dataDir)?.status === 'loading'
      ? ['  Demo       loading was stopped part-way: npm start -- --demo finishes it']
      : []),
    '',
    'Try:',
    `  curl ${server.url}/healthz`,
    `  curl -H "Authorization: Bearer ${credentials.apiToken}" ${server.url}/v1/models`,
    `  npx pulse ingest events.jsonl && npx pulse run customer && npx pulse scores`,
    '  (pulse run scores the last complete day, as the schedule does; --as-of DATE picks another)',
    ...(demo
      ? [
          `  ${demoCalibrateCommand(dataDir)}`,
          "  (how well the account score predicted the demo accounts' outcomes, and a suggested model: docs/calibrate.md)",
        ]
      : []),
    '',
    'Ctrl-C stops the server cleanly (nothing acknowledged is lost; a run in progress resumes at the next start).',
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const unknown = args.filter((a) => a !== '--demo');
  if (unknown.length > 0) {
    process.stderr.write(`error: unknown option ${unknown.join(' ')}\n\n${HELP}`);
    return 2;
  }
  const demo = args.includes('--demo');

  // Signals are handled from the start: one arriving while the stores open stops the server as soon as it is up.
  let server: LocalServer | undefined;
  let stopRequested: string | undefined;
  let stoppingSince = 0;
  const stop = (signal: string) => {
    if (stoppingSince > 0) {
      // Ctrl-C reaches npm and this process at once (the whole foreground group), and npm may relay it: only a
      // later, deliberate second signal means "stop now".
      if (Date.now() - stoppingSince < 2000) return;
      process.stderr.write(
        `${signal} again: exiting without waiting (unfinished work is resumed or redone at the next start)\n`,
      );
      process.exit(130);
    }
    stoppingSince = Date.now();
    stopRequested = signal;
    process.stderr.write(
      `\n${signal}: stopping — finishing in-flight requests, stopping the demo load and runs at a safe point (Ctrl-C again to exit at once)\n`,
    );
    if (server) shutDown(server);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  let config: ReturnType<typeof localConfig>;
  try {
    config = localConfig();
    server = await startLocalServer(config);
  } catch (error) {
    if (error instanceof LocalConfigError || error instanceof EmbeddedStartError) {
      process.stderr.write(`error: ${error.message}\n`);
      return error instanceof LocalConfigError ? 2 : 1;
    }
    if (error instanceof ModelValidationError) {
      for (const issue of error.issues) process.stderr.write(`${formatModelIssue(issue)}\n`);
      process.stderr.write('error: fix the model files above (PULSE_MODELS_DIR), then start again\n');
      return 1;
    }
    throw error;
  }
  if (stopRequested) {
    shutDown(server);
    return -1;
  }

  process.stdout.write(banner(server, config, demo));

  if (demo) {
    const { DemoStoppedError, runDemo } = await import('./demo.js');
    const running = server;
    try {
      const summary = await running.background((signal) =>
        runDemo(running.stack, {
          writeKey: config.credentials.writeKey,
          log: (line) => process.stdout.write(`${line}\n`),
          signal,
        }),
      );
      process.stdout.write(`${summary}\n`);
      process.stdout.write(`\nDemo loaded. Pulse is running at ${running.url}\n`);
      process.stdout.write(`  Dashboard ${running.url}/?token=${encodeURIComponent(config.credentials.apiToken)}\n`);
      process.stdout.write(`  API token ${config.credentials.apiToken}\n  Write key ${config.credentials.writeKey}\n`);
      process.stdout.write(
        `  Calibrate the account model against the demo's outcomes:\n    ${demoCalibrateCommand(shownDataDir(config.dataDir))}\n`,
      );
    } catch (error) {
      if (error instanceof DemoStoppedError) process.stderr.write(`${error.message}\n`);
      else if (!running.stopping.aborted)
        process.stderr.write(`error: the demo could not be loaded: ${(error as Error).message}\n`);
    }
  }
  return -1;
}

/** Stop the server and exit: 0 with one line when it stopped cleanly, 1 with the reason otherwise. */
function shutDown(server: LocalServer): void {
  server.close().then(
    ({ unfinishedRuns }) => {
      const resume =
        unfinishedRuns.length > 0
          ? ` ${unfinishedRuns.length} unfinished run${unfinishedRuns.length === 1 ? '' : 's'} resume${unfinishedRuns.length === 1 ? 's' : ''} at the next start.`
          : '';
      process.stderr.write(`Pulse stopped: every acknowledged event is stored.${resume}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}

const code = await main(process.argv);
if (code >= 0) process.exitCode = code;
