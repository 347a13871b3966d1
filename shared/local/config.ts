import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RETENTION_DAYS } from '../ingest/limits.js';
import { DEFAULT_PORT, DEFAULT_S3_PORT, dataDirOf, type LocalCredentials, resolveCredentials } from './data-dir.js';

/** The repository's example models (PULSE_MODELS_DIR's default). */
export const EXAMPLE_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export interface LocalConfig {
  dataDir: string;
  port: number;
  /** 0 picks a free port (the CLI's in-process store, which nobody else reads). */
  s3Port: number;
  modelsDir: string;
  shardCount: number;
  retentionDays: number;
  credentials: LocalCredentials;
  /** No logs (the CLI's in-process store). */
  quiet: boolean;
  /** PULSE_ALERT_WEBHOOK_URL: each fired alert is POSTed here (docs/local-mode.md#alert-webhook). */
  alertWebhookUrl?: string | undefined;
}

/** A bad environment variable: the message names it and says what it must be. */
export class LocalConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalConfigError';
  }
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new LocalConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** Local mode's configuration from the environment (docs/local-mode.md, docs/configuration.md). */
export function localConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  overrides: Partial<Pick<LocalConfig, 's3Port' | 'quiet'>> = {},
): LocalConfig {
  const dataDir = dataDirOf(env, cwd);
  return {
    dataDir,
    port: intVar(env, 'PORT', DEFAULT_PORT, 0, 65535),
    s3Port: overrides.s3Port ?? intVar(env, 'PULSE_S3_PORT', DEFAULT_S3_PORT, 0, 65535),
    modelsDir: env.PULSE_MODELS_DIR ? resolve(cwd, env.PULSE_MODELS_DIR) : EXAMPLE_MODELS_DIR,
    shardCount: intVar(env, 'PULSE_SHARD_COUNT', 16, 1, 1024),
    retentionDays: intVar(env, 'PULSE_RETENTION_DAYS', DEFAULT_RETENTION_DAYS, 1, 3650),
    credentials: resolveCredentials(dataDir, env),
    quiet: overrides.quiet ?? false,
    alertWebhookUrl: webhookUrl(env),
  };
}

function webhookUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.PULSE_ALERT_WEBHOOK_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new LocalConfigError('PULSE_ALERT_WEBHOOK_URL must be an http(s) URL');
  }
  // The URL may hold a credential (a Slack webhook's path is one): the message never repeats it.
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new LocalConfigError('PULSE_ALERT_WEBHOOK_URL must be an http(s) URL');
  return raw;
}
