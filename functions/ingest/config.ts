import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { DynamoEntityStore } from '../../shared/adapters/dynamodb/entity-store.js';
import { DynamoEventStore } from '../../shared/adapters/dynamodb/event-store.js';
import { ENV } from '../../shared/config-names.js';
import { DEFAULT_RETENTION_DAYS } from '../../shared/domain/hot-window.js';
import type { AppDeps } from '../../shared/http/app.js';
import type { WriteKeySource } from '../../shared/http/auth.js';
import { limitsWith } from '../../shared/ingest/limits.js';

/** The ingest function's configuration, checked once at cold start: a missing variable fails fast. */
export const IngestConfigSchema = z.object({
  [ENV.eventsTable]: z.string().min(1),
  [ENV.scoresTable]: z.string().min(1),
  [ENV.writeKeysSecretArn]: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN'),
  [ENV.shardCount]: z.coerce.number().int().min(1).max(1024).default(16),
  [ENV.retentionDays]: z.coerce.number().int().min(1).max(3650).default(DEFAULT_RETENTION_DAYS),
  [ENV.hotDays]: z.coerce.number().int().min(1).max(3650).optional(),
});

export interface IngestConfig {
  eventsTable: string;
  scoresTable: string;
  writeKeysSecretArn: string;
  shardCount: number;
  retentionDays: number;
  /** The events table's TTL in days (the hot window); unset: the retention period. */
  hotDays?: number | undefined;
}

export function parseIngestConfig(env: Record<string, string | undefined>): IngestConfig {
  const parsed = IngestConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid ingest configuration: ${problems}`);
  }
  const c = parsed.data;
  return {
    eventsTable: c[ENV.eventsTable],
    scoresTable: c[ENV.scoresTable],
    writeKeysSecretArn: c[ENV.writeKeysSecretArn],
    shardCount: c[ENV.shardCount],
    retentionDays: c[ENV.retentionDays],
    hotDays: c[ENV.hotDays],
  };
}

// CloudFormation can only generate a string field, so the deployed secret starts as one key; a list adds more.
const SecretSchema = z.object({
  writeKeys: z.union([
    z
      .string()
      .min(1)
      .transform((key) => [key]),
    z.array(z.string().min(1)).min(1),
  ]),
});

/**
 * Write keys from a Secrets Manager secret `{"writeKeys":"..."}` or `{"writeKeys":["...", ...]}`, cached for `ttlMs` so a rotated key is
 * picked up within minutes; when a refresh fails, the last good keys keep serving.
 */
export function secretWriteKeys(
  client: SecretsManagerClient,
  secretArn: string,
  options: { ttlMs?: number; clock?: () => number } = {},
): WriteKeySource {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const clock = options.clock ?? Date.now;
  let cached: { keys: readonly string[]; at: number } | undefined;
  let loading: Promise<readonly string[]> | undefined;

  const load = async (): Promise<readonly string[]> => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const parsed = SecretSchema.safeParse(JSON.parse(out.SecretString ?? 'null'));
    if (!parsed.success)
      throw new Error('the write-key secret must be JSON {"writeKeys":"<key>"} or {"writeKeys":["<key>", ...]}');
    cached = { keys: parsed.data.writeKeys, at: clock() };
    return cached.keys;
  };

  return async () => {
    if (cached && clock() - cached.at < ttlMs) return cached.keys;
    loading ??= load().finally(() => {
      loading = undefined;
    });
    try {
      return await loading;
    } catch (error) {
      if (cached) return cached.keys;
      throw error;
    }
  };
}

/** Adapters for the ingest app from the configuration and the (module-scope) AWS clients. */
export function ingestDeps(
  config: IngestConfig,
  clients: { dynamo: DynamoDBClient; secrets: SecretsManagerClient },
): AppDeps {
  return {
    ingest: {
      events: new DynamoEventStore({
        client: clients.dynamo,
        tableName: config.eventsTable,
        shardCount: config.shardCount,
        // Items expire after the hot window; the archive keeps them for the retention period.
        retentionDays: config.hotDays ?? config.retentionDays,
      }),
      entities: new DynamoEntityStore({
        client: clients.dynamo,
        tableName: config.scoresTable,
        shardCount: config.shardCount,
      }),
      writeKeys: secretWriteKeys(clients.secrets, config.writeKeysSecretArn),
      limits: limitsWith({ retentionDays: config.retentionDays }),
    },
  };
}
