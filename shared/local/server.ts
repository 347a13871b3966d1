import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { logger } from '../observability.js';
import type { LocalConfig } from './config.js';
import { removeServerInfo, writeServerInfo } from './data-dir.js';
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
  /**
   * Stop cleanly: stop the schedules, stop accepting connections, let in-flight requests finish (an acknowledged
   * event is stored before its 202 is sent), let a running run end, then close the embedded stores.
   */
  close(): Promise<void>;
}

/** Shutdown waits this long for in-flight requests before closing connections. */
const REQUEST_DRAIN_MS = 10_000;

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

/** Open the local stack, serve it on 127.0.0.1:PORT and arm the model schedules. */
export async function startLocalServer(config: LocalConfig): Promise<LocalServer> {
  const stack = await openLocalStack(config, { logger: config.quiet ? undefined : terminalRunLogger() });
  const server = createAdaptorServer({ fetch: closeAfterTooLarge(stack.app.fetch) }) as Server;
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

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      scheduler.stop();
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections become idle as their last response is sent: close them as they do.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const timer = setTimeout(() => server.closeAllConnections(), REQUEST_DRAIN_MS);
      await drained;
      clearInterval(sweep);
      clearTimeout(timer);
      await stack.close();
      removeServerInfo(config.dataDir);
    })();
    return closing;
  };
  return { url, s3Url: stack.s3.endpoint, stack, scheduler, unscheduled, close };
}
