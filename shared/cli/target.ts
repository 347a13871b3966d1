import { dataDirOf, processAlive, readServerInfo, type ServerInfo, savedCredentials } from '../local/data-dir.js';
import type { ApiTarget } from './client.js';
import { type CliIO, usageError } from './io.js';

export interface TargetFlags {
  url?: string | undefined;
  token?: string | undefined;
  writeKey?: string | undefined;
}

function remoteTarget(url: string, apiToken: string | undefined, writeKey: string | undefined, label = url): ApiTarget {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw usageError(`--url must be a URL like http://127.0.0.1:3000 (got "${url}")`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw usageError(`--url must be http(s) (got "${url}")`);
  return {
    label,
    baseUrl: base.href,
    fetch: (request) => fetch(request),
    apiToken,
    writeKey,
    close: async () => {},
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The local server running on this data dir (its server.json, a live pid and an answer on /healthz), if any. */
export async function runningLocalServer(dataDir: string): Promise<ServerInfo | undefined> {
  const server = readServerInfo(dataDir);
  if (server && processAlive(server.pid) && (await answers(server.url))) return server;
  return undefined;
}

/**
 * Where a command sends its requests. With `--url`: that server (credentials from flags or env). Without: the
 * local store in PULSE_DATA_DIR — through the local server when one is running on it (LevelDB admits one process
 * per directory), else by opening the store in this process. Credentials: flag, env, then the data dir's.
 */
export async function resolveTarget(flags: TargetFlags, io: CliIO): Promise<ApiTarget> {
  const envToken = flags.token ?? io.env.PULSE_API_TOKEN;
  const envKey = flags.writeKey ?? io.env.PULSE_WRITE_KEY;
  if (flags.url) return remoteTarget(flags.url, envToken, envKey);

  const dataDir = dataDirOf(io.env, io.cwd);
  const saved = savedCredentials(dataDir);
  const server = await runningLocalServer(dataDir);
  if (server) {
    return remoteTarget(
      server.url,
      envToken ?? server.apiToken ?? saved.apiToken,
      envKey ?? server.writeKey ?? saved.writeKey,
      `the local server ${server.url}`,
    );
  }
  const { openLocalStack } = await import('../local/stack.js');
  const { localConfig } = await import('../local/config.js');
  const config = localConfig(io.env, io.cwd, { s3Port: 0, quiet: true });
  const stack = await openLocalStack(config);
  return {
    label: `the local store in ${dataDir}`,
    baseUrl: 'http://pulse.local/',
    fetch: async (request) => stack.app.fetch(request),
    apiToken: config.credentials.apiToken,
    writeKey: config.credentials.writeKey,
    // The CLI's own runs end before it exits (a stop would leave them to the next server start).
    close: async () => {
      await stack.idle();
      await stack.close();
    },
  };
}
