import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { EnvSchema, wholeNumberVar } from '../config/env.js';
import { ENV } from '../config-names.js';
import { PulseError } from '../domain/errors.js';
import {
  DEFAULT_PORT,
  DEFAULT_S3_PORT,
  dataDirOf,
  LOCAL_BUCKET,
  type LocalCredentials,
  resolveCredentials,
} from './data-dir.js';

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
  /** Where the tables and the bucket live: embedded, or external services (docs/local-mode.md#external-services). */
  services: LocalServices;
}

/** Access keys sent to the local or external services. */
export interface ServiceCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/**
 * The stores of local mode. Without endpoints, the embedded dynalite and s3rver under the data dir; with
 * PULSE_DYNAMODB_ENDPOINT / PULSE_S3_ENDPOINT, external DynamoDB- and S3-compatible services (e.g. DynamoDB Local,
 * whose key and item limits are byte-accurate, and MinIO).
 */
export interface LocalServices {
  dynamoEndpoint?: string | undefined;
  s3Endpoint?: string | undefined;
  region: string;
  credentials: ServiceCredentials;
  eventsTable: string;
  scoresTable: string;
  bucket: string;
}

/** Credentials the local services accept: any would do for the embedded ones, DynamoDB Local takes letters and digits only; a fixed pair keeps the SDK from looking for real ones. */
export const LOCAL_CREDENTIALS: ServiceCredentials = { accessKeyId: 'pulselocal', secretAccessKey: 'pulselocal' };
export const LOCAL_REGION = 'us-east-1';

/** A bad environment variable: the message names it and says what it must be. */
export class LocalConfigError extends PulseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { kind: 'invalid-input', status: 400, cause: options?.cause });
    this.name = 'LocalConfigError';
  }
}

/** Local mode's numeric variables: the deployed functions' schema (docs/configuration.md) and local mode's ports. */
const LocalEnvSchema = EnvSchema.pick({ [ENV.shardCount]: true, [ENV.retentionDays]: true }).extend({
  PORT: wholeNumberVar(0, 65535).default(DEFAULT_PORT),
  PULSE_S3_PORT: wholeNumberVar(0, 65535).default(DEFAULT_S3_PORT),
});

/** `env` over LocalEnvSchema, or a LocalConfigError naming the first bad variable: `PORT must be a whole number …`. */
function parseLocalEnv(env: NodeJS.ProcessEnv): z.output<typeof LocalEnvSchema> {
  const parsed = LocalEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new LocalConfigError(`${issue.path.join('.')} ${issue.message}`, { cause: parsed.error });
}

/** Local mode's configuration from the environment (docs/local-mode.md, docs/configuration.md). */
export function localConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  overrides: Partial<Pick<LocalConfig, 's3Port' | 'quiet'>> = {},
): LocalConfig {
  const dataDir = dataDirOf(env, cwd);
  const vars = parseLocalEnv(env);
  const modelsDir = env[ENV.modelsDir];
  return {
    dataDir,
    port: vars.PORT,
    s3Port: overrides.s3Port ?? vars.PULSE_S3_PORT,
    modelsDir: modelsDir ? resolve(cwd, modelsDir) : EXAMPLE_MODELS_DIR,
    shardCount: vars[ENV.shardCount],
    retentionDays: vars[ENV.retentionDays],
    credentials: resolveCredentials(dataDir, env),
    quiet: overrides.quiet ?? false,
    alertWebhookUrl: webhookUrl(env),
    services: localServices(env),
  };
}

function endpointVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password)
    throw new LocalConfigError(`${name} must be an http(s) URL without credentials, like http://127.0.0.1:8000`);
  return url.origin + url.pathname.replace(/\/$/, '');
}

function nameVar(env: NodeJS.ProcessEnv, name: string, fallback: string, pattern: RegExp, what: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!pattern.test(raw)) throw new LocalConfigError(`${name} must be ${what} (got "${raw}")`);
  return raw;
}

/**
 * Which stores local mode uses (docs/configuration.md#local-mode). Credentials for external services come from
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) when both are set, else a fixed local pair; the
 * region from AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. Never the shared AWS profile chain: local mode
 * must not pick up (or hang looking for) a real account's credentials.
 */
export function localServices(env: NodeJS.ProcessEnv = process.env): LocalServices {
  const prefix = nameVar(
    env,
    'PULSE_TABLE_PREFIX',
    'pulse',
    /^[A-Za-z0-9_.-]{1,200}$/,
    '1–200 letters, digits, "_", "-" or "."',
  );
  const bucket = nameVar(
    env,
    'PULSE_S3_BUCKET',
    LOCAL_BUCKET,
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'an S3 bucket name (3–63 lower-case letters, digits, "." or "-")',
  );
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const credentials: ServiceCredentials =
    accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
      : LOCAL_CREDENTIALS;
  return {
    dynamoEndpoint: endpointVar(env, 'PULSE_DYNAMODB_ENDPOINT'),
    s3Endpoint: endpointVar(env, 'PULSE_S3_ENDPOINT'),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || LOCAL_REGION,
    credentials,
    eventsTable: `${prefix}-events`,
    scoresTable: `${prefix}-scores`,
    bucket,
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
