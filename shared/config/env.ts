import { z } from 'zod';
import { ENV } from '../config-names.js';
import { DEFAULT_RETENTION_DAYS, DEFAULT_SHARD_COUNT, MAX_DAYS, MAX_SHARD_COUNT, MIN_SHARD_COUNT } from './defaults.js';

/**
 * Every environment variable a deployed function reads, with its check and default (docs/configuration.md).
 * Each function picks the variables it needs (`EnvSchema.pick`), so a missing one fails its cold start.
 */
export const EnvSchema = z.object({
  [ENV.eventsTable]: z.string().min(1),
  [ENV.scoresTable]: z.string().min(1),
  [ENV.snapshotBucket]: z.string().min(1),
  [ENV.alertBus]: z.string().min(1),
  [ENV.modelsDir]: z.string().min(1),
  [ENV.stateMachineArn]: z.string().startsWith('arn:', 'must be a Step Functions state machine ARN'),
  [ENV.writeKeysSecretArn]: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN'),
  [ENV.shardCount]: z.coerce.number().int().min(MIN_SHARD_COUNT).max(MAX_SHARD_COUNT).default(DEFAULT_SHARD_COUNT),
  [ENV.retentionDays]: z.coerce.number().int().min(1).max(MAX_DAYS).default(DEFAULT_RETENTION_DAYS),
  [ENV.hotDays]: z.coerce.number().int().min(1).max(MAX_DAYS).optional(),
});

/**
 * `schema` over `env`, or an Error naming every variable that is missing or wrong:
 * "Invalid <what> configuration: PULSE_SCORES_TABLE: Required; ...".
 */
export function parseEnv<S extends z.ZodTypeAny>(
  schema: S,
  env: Record<string, string | undefined>,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid ${what} configuration: ${problems}`);
  }
  return parsed.data;
}
