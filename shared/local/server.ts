import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { problemResponse, problemType, RETRY_AFTER_SECONDS } from '../http/problem.js';
import { logger } from '../observability.js';
import type { LocalConfig } from './config.js';
import { dataPaths, removeServerInfo, writePrivateFile, writeServerInfo } from './data-dir.js';
import { EmbeddedStartError } from './embedded.js';
import { terminalRunLogger } from './log.js';
import { LocalScheduler } from './schedule.js';
import { type LocalStack, openLocalStack } from './stack.js';

export interface LocalServer {
  url: string;
  s3Url: string;
  stack: LocalStack;
  scheduler: LocalScheduler;
  /** Models whose cadence cannot be scheduled locally, with why. */
  unscheduled: { model: string; reason: string }[];
  /** Runs a previous stop left unfinished, resumed at this start. */
  resumedRuns: string[];
  /** Aborted when the server starts stopping: background work (the demo load) stops at its next safe point. */
  stopping: AbortSignal;
  /** Run background work (the demo load) that close() waits for, after aborting `stopping`, before the stores close. */
  background<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /**
   * Stop cleanly (docs/local-mode.md#stopping): stop the schedules, answer new requests 503 with Retry-After and
   * accept no new connections, let in-flight requests finish (an acknowledged event is stored before its 202 is
   * sent), let background work reach a safe point, stop the runner at its next checkpoint (what did not end is
   * resumed by the next start), then close the stores.
   */
  close(): Promise<StopSummary>;
}

export interface StopSummary {
  /** Requests answered 503 because they arrived while stopping. */
  refused: number;
  /** Runs left to resume at the next start. */
  unfinishedRuns: string[];
}

/** Shutdown waits this long for in-flight requests before closing connections. */
const REQUEST_DRAIN_MS = 10_000;

/** The runs the last stop left unfinished (none when the file is absent or unreadable). */
function savedUnfinishedRuns(dataDir: string): string[] {
  const file = dataPaths(dataDir).unfinishedRuns;
  if (!existsSync(file)) return [];
  try {
    const ids = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function saveUnfinishedRuns(dataDir: string, runIds: readonly string[]): void {
  const file = dataPaths(dataDir).unfinishedRuns;
  if (runIds.length === 0) rmSync(file, { force: true });
  else writePrivateFile(file, `${JSON.stringify(runIds)}\n`);
}

/** What a request arriving while the server stops gets: retry later (the restarted server will take it). */
export function stoppingResponse(): Response {
  return problemResponse(
    {
      type: problemType('stopping'),
      title: 'The server is stopping',
      status: 503,
      detail: 'Nothing in this request was processed. Send it again after Retry-After seconds.',
    },
    { 'retry-after': String(RETRY_AFTER_SECONDS), connection: 'close' },
  );
}

function listen(server: Server, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new EmbeddedStartError(`port ${port} is in use: set PORT to a free port (e.g. PORT=3001 npm start)`)
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * A 413 is answered before the body is read (docs/api.md#limits): close the connection after it, so Node does not
 * keep reading (and discarding) the rest of an oversized upload to reuse the connection.
 */
function closeAfterTooLarge(fetch: (request: Request) => Response | Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    const response = await fetch(request);
    if (response.status === 413) response.headers.set('connection', 'close');
    return response;
  };
}

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/** Passes requests to `fetch` until draining starts, then answers each 503 with Retry-After (and closes its connection). */
export function drainGate(fetch: Fetch): { fetch: Fetch; startDraining(): void; refused(): number } {
  let draining = false;
  let refused = 0;
  return {
    fetch: (request, env) => {
      if (!draining) return fetch(request, env);
      refused++;
      return stoppingResponse();
    },
    startDraining: () => {
      draining = true;
    },
    refused: () => refused,
  };
}

/** Open the local stack, serve it on 127.0.0.1:PORT and arm the model schedules. */
export async function startLocalServer(config: LocalConfig): Promise<LocalServer> {
  const stack = await openLocalStack(config, { logger: config.quiet ? undefined : terminalRunLogger() });
  const gate = drainGate(closeAfterTooLarge((request) => stack.app.fetch(request)));
  const server = createAdaptorServer({ fetch: gate.fetch }) as Server;
  let address: AddressInfo;
  try {
    address = await listen(server, config.port);
  } catch (error) {
    await stack.close();
    throw error;
  }
  const url = `http://127.0.0.1:${address.port}`;
  writeServerInfo(config.dataDir, {
    url,
    s3Url: stack.s3.endpoint,
    dynamoUrl: stack.dynamo.endpoint,
    eventsTable: stack.tables.events,
    scoresTable: stack.tables.scores,
    bucket: stack.s3.bucket,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    apiToken: config.credentials.apiToken,
    writeKey: config.credentials.writeKey,
  });

  const scheduler = new LocalScheduler((model) => {
    stack.runner.submit({ model, asOf: 'scheduled' }).catch((error: unknown) => {
      logger.warn('scheduled run could not start', { model, error: (error as Error).message });
    });
  });
  const unscheduled = scheduler.start(
    stack.models.map(({ model }) => ({ name: model.name, cadence: model.cadence, timezone: model.timezone })),
  );

  // Runs the last stop left unfinished: a backfill resumes at its first unfinished date, a run starts over.
  const resumedRuns = savedUnfinishedRuns(config.dataDir);
  for (const runId of resumedRuns) {
    stack.runner.enqueue(runId).catch((error: unknown) => {
      logger.warn('an unfinished run could not be resumed', { runId, error: (error as Error).message });
    });
  }

  const abort = new AbortController();
  const tasks = new Set<Promise<unknown>>();
  const background = <T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const running = task(abort.signal);
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    tasks.add(settled);
    void settled.then(() => tasks.delete(settled));
    return running;
  };

  let closing: Promise<StopSummary> | undefined;
  const close = () => {
    closing ??= (async () => {
      scheduler.stop();
      gate.startDraining();
      abort.abort();
      // The run in progress stops at its next checkpoint now, not after the drain (the demo waits on it).
      const runnerStopped = stack.runner.stop();
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections become idle as their last response is sent: close them as they do.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const timer = setTimeout(() => server.closeAllConnections(), REQUEST_DRAIN_MS);
      await drained;
      clearInterval(sweep);
      clearTimeout(timer);
      await Promise.all(tasks);
      await runnerStopped;
      const { unfinishedRuns } = await stack.close();
      saveUnfinishedRuns(config.dataDir, unfinishedRuns);
      removeServerInfo(config.dataDir);
      return { refused: gate.refused(), unfinishedRuns };
    })();
    return closing;
  };
  return {
    url,
    s3Url: stack.s3.endpoint,
    stack,
    scheduler,
    unscheduled,
    resumedRuns,
    stopping: abort.signal,
    background,
    close,
  };
}
