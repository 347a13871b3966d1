// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
