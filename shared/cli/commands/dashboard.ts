import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { createAdaptorServer } from '@hono/node-server';
import { type RemoteAuth, RemoteDashboardData, regionOfApiUrl } from '../../dashboard/remote-data.js';
import { dashboardRoutes } from '../../dashboard/routes.js';
import { dataDirOf } from '../../local/data-dir.js';
import { CliError, type CliIO, EXIT_OK, usageError } from '../io.js';
import { runningLocalServer } from '../target.js';

export interface DashboardFlags {
  url?: string | undefined;
  jwt?: string | undefined;
  token?: string | undefined;
  region?: string | undefined;
  port: number;
}

export interface DashboardOptions {
  /** Stops the server (tests); by default SIGINT/SIGTERM do. */
  signal?: AbortSignal | undefined;
}

/**
 * `pulse dashboard --url <API>` (docs/dashboard.md#against-aws): the dashboard pages on 127.0.0.1, reading a
 * deployed scores API signed with the caller's AWS credentials (SigV4), a JWT, or a Pulse API token. Without
 * --url it prints the local server's dashboard address (the local server serves the pages itself).
 */
export async function dashboardCommand(flags: DashboardFlags, io: CliIO, options: DashboardOptions = {}) {
  if (!flags.url) {
    if (flags.jwt || flags.token || flags.region) throw usageError('--jwt, --token and --region need --url');
    const local = await runningLocalServer(dataDirOf(io.env, io.cwd));
    if (!local) {
      throw usageError(
        'give --url <deployed scores API URL>, or start the local server (npm start): it serves the dashboard itself',
      );
    }
    io.stdout.write(`The local server serves the dashboard: ${local.url}/?token=${local.apiToken}\n`);
    return EXIT_OK;
  }
  const auth = authOf(flags, io);
  let data: RemoteDashboardData;
  try {
    data = new RemoteDashboardData({ url: flags.url, auth });
  } catch {
    throw usageError(
      `--url must be a URL like https://abc123.execute-api.eu-west-1.amazonaws.com (got "${flags.url}")`,
    );
  }
  if (!/^https?:$/.test(new URL(flags.url).protocol)) throw usageError(`--url must be http(s) (got "${flags.url}")`);
  // Fail now, with the reason, rather than on the first page view.
  try {
    await data.models();
  } catch (error) {
    throw new CliError(`cannot read ${data.source}: ${(error as Error).message}`);
  }

  const sessionToken = io.env.PULSE_DASHBOARD_TOKEN || randomBytes(24).toString('base64url');
  const app = dashboardRoutes({ data, token: sessionToken });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? usageError(`port ${flags.port} is in use: pass --port <free port>`) : error),
    );
    server.listen(flags.port, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
  const url = `http://127.0.0.1:${address.port}`;
  io.stdout.write(
    [
      `Pulse dashboard for ${data.source}`,
      `  Open ${url}/?token=${sessionToken}`,
      `  (auth: ${auth.kind === 'sigv4' ? `SigV4, region ${auth.region}` : flags.jwt ? 'JWT' : 'API token'})`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    options.signal?.addEventListener('abort', stop, { once: true });
    if (!options.signal) {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  });
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return EXIT_OK;
}

function authOf(flags: DashboardFlags, io: CliIO): RemoteAuth {
  if (flags.jwt && flags.token) throw usageError('give either --jwt or --token, not both');
  if (flags.jwt) return { kind: 'bearer', token: flags.jwt };
  if (flags.token) return { kind: 'bearer', token: flags.token };
  const region = flags.region ?? regionOfApiUrl(flags.url!) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw usageError('the AWS region is unknown: pass --region (or set AWS_REGION) for a custom API domain');
  }
  return { kind: 'sigv4', region, credentials: defaultProvider() };
}
