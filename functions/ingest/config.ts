import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { dynamoEventStore, dynamoScoresTableStores } from '../../shared/adapters/dynamodb/stores.js';
import { envConfig, parseEnv, STORE_FIELDS } from '../../shared/config/env.js';
import { PulseError } from '../../shared/domain/errors.js';
import { TombstoneCache } from '../../shared/erasure/tombstones.js';
import type { AppDeps } from '../../shared/http/app.js';
import type { WriteKeySource } from '../../shared/http/auth.js';
import { limitsWith } from '../../shared/ingest/limits.js';
import { logger } from '../../shared/observability.js';

/**
 * The ingest function's configuration, checked once at cold start: a missing variable fails fast. `hotDays` is the
 * events table's TTL in days (the hot window); unset: the retention period.
 */
export const IngestConfigSchema = envConfig(...STORE_FIELDS, 'writeKeysSecretArn', 'retentionDays', 'hotDays');

export type IngestConfig = z.output<typeof IngestConfigSchema>;

export function parseIngestConfig(env: Record<string, string | undefined>): IngestConfig {
  return parseEnv(IngestConfigSchema, env, 'ingest');
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
 * How long write keys are cached (docs/operations.md#revoking-a-write-key):
 * - refresh: a key removed from the secret stops working within a minute. One GetSecretValue a minute per warm
 *   ingest instance is about $0.22 a month each, small beside a faster revocation.
 * - max stale: when refreshing keeps failing, the last good keys are honoured for 15 minutes after the last
 *   successful load, then ingest fails closed (503 with Retry-After; clients resend, nothing is lost). Fifteen
 *   minutes rides over a throttling burst or a short Secrets Manager incident (about 90 retries) while bounding how
 *   long a revoked key can keep working if the secret cannot be read (e.g. a broken KMS key or IAM policy).
 * - retry: after a failed refresh, the next try waits 10 s, so an outage is not hammered by every request.
 */
export const WRITE_KEY_REFRESH_MS = 60_000;
export const WRITE_KEY_MAX_STALE_MS = 15 * 60_000;
export const WRITE_KEY_RETRY_MS = 10_000;

/** The last good write keys are older than the max-stale bound and could not be refreshed: refuse (503), never accept. */
export class WriteKeysStaleError extends PulseError {
  constructor(ageMs: number, options?: { cause?: unknown }) {
    super(`the write keys could not be refreshed for ${Math.round(ageMs / 1000)} s`, {
      kind: 'unavailable',
      status: 503,
      cause: options?.cause,
    });
    this.name = 'WriteKeysStaleError';
  }
}

export interface SecretWriteKeysOptions {
  refreshMs?: number | undefined;
  maxStaleMs?: number | undefined;
  retryMs?: number | undefined;
  clock?: (() => number) | undefined;
  /** Told about failed refreshes (never the keys). */
  onRefreshFailed?: ((info: { error: string; ageMs: number | undefined; honoured: boolean }) => void) | undefined;
}

/**
 * Write keys from a Secrets Manager secret `{"writeKeys":"..."}` or `{"writeKeys":["...", ...]}`: loaded at the
 * first request, refreshed once `refreshMs` old. A failed refresh keeps the last good keys only while they are
 * younger than `maxStaleMs`; past that every request is refused until a refresh succeeds (fail closed).
 */
export function secretWriteKeys(
  client: SecretsManagerClient,
  secretArn: string,
  options: SecretWriteKeysOptions = {},
): WriteKeySource {
  const refreshMs = options.refreshMs ?? WRITE_KEY_REFRESH_MS;
  const maxStaleMs = options.maxStaleMs ?? WRITE_KEY_MAX_STALE_MS;
  const retryMs = options.retryMs ?? WRITE_KEY_RETRY_MS;
  const clock = options.clock ?? Date.now;
  let cached: { keys: readonly string[]; at: number } | undefined;
  let failed: { error: unknown; at: number } | undefined;
  let loading: Promise<readonly string[]> | undefined;

  const load = async (): Promise<readonly string[]> => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const parsed = SecretSchema.safeParse(JSON.parse(out.SecretString ?? 'null'));
    if (!parsed.success)
      throw new Error('the write-key secret must be JSON {"writeKeys":"<key>"} or {"writeKeys":["<key>", ...]}');
    cached = { keys: parsed.data.writeKeys, at: clock() };
    failed = undefined;
    return cached.keys;
  };

  /** The cached keys while young enough to honour, else the refusal. */
  const lastGood = (error: unknown): readonly string[] => {
    const ageMs = cached ? clock() - cached.at : undefined;
    if (cached && ageMs !== undefined && ageMs < maxStaleMs) return cached.keys;
    throw ageMs === undefined ? error : new WriteKeysStaleError(ageMs, { cause: error });
  };

  return async () => {
    const now = clock();
    if (cached && now - cached.at < refreshMs) return cached.keys;
    if (failed && now - failed.at < retryMs) return lastGood(failed.error);
    loading ??= load().finally(() => {
      loading = undefined;
    });
    try {
      return await loading;
    } catch (error) {
      failed = { error, at: clock() };
      const ageMs = cached ? clock() - cached.at : undefined;
      options.onRefreshFailed?.({
        error: error instanceof Error ? error.name : 'Error',
        ageMs,
        honoured: ageMs !== undefined && ageMs < maxStaleMs,
      });
      return lastGood(error);
    }
  };
}

/** Adapters for the ingest app from the configuration and the (module-scope) AWS clients. */
export function ingestDeps(
  config: IngestConfig,
  clients: { dynamo: DynamoDBClient; secrets: SecretsManagerClient },
): AppDeps {
  const storeOptions = {
    client: clients.dynamo,
    tables: { events: config.eventsTable, scores: config.scoresTable },
    shardCount: config.shardCount,
    // Items expire after the hot window; the archive keeps them for the retention period.
    eventTtlDays: config.hotDays ?? config.retentionDays,
  };
  // Ingest writes events and entity records and reads tombstones: no export reader or eraser.
  const stores = { events: dynamoEventStore(storeOptions), ...dynamoScoresTableStores(storeOptions) };
  return {
    ingest: {
      events: stores.events,
      entities: stores.entities,
      // Erased users and accounts are refused; tombstones are read at most once a minute (docs/api.md#erasure).
      erased: new TombstoneCache(stores.erasureLog),
      writeKeys: secretWriteKeys(clients.secrets, config.writeKeysSecretArn, {
        onRefreshFailed: ({ error, ageMs, honoured }) =>
          logger.warn(
            honoured
              ? 'write-key refresh failed; last good keys honoured'
              : 'write-key refresh failed; ingest refused until it succeeds',
            {
              error,
              keysAgeSeconds: ageMs === undefined ? null : Math.round(ageMs / 1000),
            },
          ),
      }),
      limits: limitsWith({ retentionDays: config.retentionDays }),
    },
  };
}
