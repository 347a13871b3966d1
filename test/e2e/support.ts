// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '../support/dynamo.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export { freePort };

/** The models the e2e servers load. */
export const E2E_MODELS = join(ROOT, 'test/e2e/fixtures/models');

export const DAY = 86_400_000;
/** Today's UTC midnight, epoch ms: e2e data is dated relative to it so the scoring window always covers it. */
export const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
/** The UTC date `daysAgo` days before today, YYYY-MM-DD. */
export const dateOf = (daysAgo: number): string => new Date(today - daysAgo * DAY).toISOString().slice(0, 10);
/** An ISO instant `daysAgo` days before today at 10:00 UTC plus `minute` minutes. */
export const at = (daysAgo: number, minute: number): string =>
  new Date(today - daysAgo * DAY + 10 * 3_600_000 + minute * 60_000).toISOString();

/** `n` logins of `userId` on the day `daysAgo`, a minute apart (the `activity` model: 10 points a login, 7-day window). */
export const logins = (userId: string, n: number, daysAgo: number, extra: { accountId?: string } = {}) =>
  Array.from({ length: n }, (_, i) => ({
    eventId: `${userId}-${daysAgo}-${i}`,
    name: 'login',
    userId,
    ...extra,
    timestamp: at(daysAgo, i),
  }));

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A child process with its output collected, and a way to wait for a line or its exit. */
export interface Child {
  process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnChild(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Child {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // 'close' (after 'exit' and the end of its output): a parent may exit before the child it relays signals to.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            cleanup();
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`process exited before ${pattern}; output:\n${output}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface LocalServerEnv {
  port: number;
  s3Port: number;
  dataDir: string;
  apiToken: string;
  writeKey: string;
  modelsDir?: string;
  /** More variables for the server (e.g. PULSE_ALERT_WEBHOOK_URL). */
  extra?: NodeJS.ProcessEnv;
}

/** A local server's settings on two free ports (API and embedded S3). */
export async function onFreePorts(e: Omit<LocalServerEnv, 'port' | 's3Port'>): Promise<LocalServerEnv> {
  return { port: await freePort(), s3Port: await freePort(), ...e };
}

export function serverEnv(e: LocalServerEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(e.port),
    PULSE_S3_PORT: String(e.s3Port),
    PULSE_DATA_DIR: e.dataDir,
    PULSE_API_TOKEN: e.apiToken,
    PULSE_WRITE_KEY: e.writeKey,
    ...(e.modelsDir ? { PULSE_MODELS_DIR: e.modelsDir } : {}),
    ...e.extra,
  };
}

/**
 * `node --import tsx shared/local/main.ts`, as `npm start` runs it, until it prints its banner. Node loads tsx as
 * a loader in the same process, so a signal reaches the server itself (tsx's CLI would relay it, and SIGKILL a
 * server too busy to acknowledge within 30 ms).
 */
export async function startLocalServer(e: LocalServerEnv, args: string[] = []): Promise<Child> {
  const child = spawnChild(process.execPath, ['--import', 'tsx', 'shared/local/main.ts', ...args], serverEnv(e));
  await child.waitFor(/Pulse is running at http:\/\/127\.0\.0\.1:\d+/, 60_000);
  return child;
}

/** The `pulse` CLI as a child process; resolves with its exit code and output. */
export async function runPulse(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const child = spawnChild(process.execPath, [join(ROOT, 'bin/pulse.mjs'), ...args], env);
  const code = await child.exited;
  return { code, output: child.output() };
}

export class Api {
  constructor(
    readonly base: string,
    readonly token: string,
    readonly writeKey: string,
  ) {}

  async get(path: string, headers: Record<string, string> = { authorization: `Bearer ${this.token}` }) {
    const response = await fetch(`${this.base}${path}`, { headers });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: (await response.json()) as any,
    };
  }

  async post(path: string, body: unknown, auth: 'api' | 'write' = 'api') {
    const authorization =
      auth === 'api' ? `Bearer ${this.token}` : `Basic ${Buffer.from(`${this.writeKey}:`).toString('base64')}`;
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  /** POST /v1/runs and poll until the run ends. */
  async run(body: Record<string, string>): Promise<any> {
    const started = await this.post('/v1/runs', body);
    if (started.status !== 202)
      throw new Error(`POST /v1/runs answered ${started.status}: ${JSON.stringify(started.body)}`);
    for (;;) {
      const run = await this.get(`/v1/runs/${started.body.runId}`);
      if (run.body.status === 'succeeded' || run.body.status === 'failed') return run.body;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** What `useLocalServer` fills in before the suite's tests run. */
export interface LocalServerSuite {
  data: { path: string; remove(): void };
  token: string;
  writeKey: string;
  env: LocalServerEnv;
  /** The running server (a test that restarts it assigns the new one, so it is stopped at the end). */
  server: Child;
  api: Api;
}

/**
 * `npm start`'s server for the tests of the enclosing describe: on free ports, in a temp data dir, with the e2e
 * models and credentials named after `name`; stopped and its data dir removed after them. `extra` (more server
 * variables, e.g. a webhook receiver's URL) is read when the server starts.
 */
export function useLocalServer(
  name: string,
  extra: () => NodeJS.ProcessEnv | Promise<NodeJS.ProcessEnv> = () => ({}),
): LocalServerSuite {
  const suite = {
    data: tempDir(`pulse-${name}-`),
    token: `${name}-api-token`,
    writeKey: `${name}-write-key`,
  } as LocalServerSuite;
  beforeAll(async () => {
    suite.env = await onFreePorts({
      dataDir: suite.data.path,
      apiToken: suite.token,
      writeKey: suite.writeKey,
      modelsDir: E2E_MODELS,
      extra: await extra(),
    });
    suite.server = await startLocalServer(suite.env);
    suite.api = new Api(`http://127.0.0.1:${suite.env.port}`, suite.token, suite.writeKey);
  }, 120_000);
  afterAll(async () => {
    await suite.server?.stop();
    suite.data.remove();
  });
  return suite;
}

/** The local server's embedded S3 (s3rver, its fixed credentials), as a BI tool's sync reaches it. */
export function embeddedS3(env: LocalServerEnv): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${env.s3Port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

/**
 * `SELECT <columns>` over every Parquet file under `prefix` of the local bucket, read by DuckDB as a BI tool would
 * (copied out into a new folder under `dir` first); no files, no rows.
 */
export async function parquetRows(
  s3: S3Client,
  prefix: string,
  dir: string,
  columns: string,
  orderBy = '',
): Promise<Record<string, unknown>[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'pulse-local', Prefix: prefix }));
  const into = join(dir, 'read', `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(into, { recursive: true });
  let n = 0;
  for (const object of listed.Contents ?? []) {
    if (!object.Key!.endsWith('.parquet')) continue;
    const body = await s3.send(new GetObjectCommand({ Bucket: 'pulse-local', Key: object.Key! }));
    writeFileSync(join(into, `${n++}.parquet`), await body.Body!.transformToByteArray());
  }
  if (n === 0) return [];
  const duck = await DuckDBConnection.create();
  try {
    const reader = await duck.runAndReadAll(
      `SELECT ${columns} FROM read_parquet('${join(into, '*.parquet')}', union_by_name = true) ${orderBy}`,
    );
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    duck.closeSync();
  }
}
