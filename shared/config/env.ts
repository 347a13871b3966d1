import { z } from 'zod';
import { ENV } from '../config-names.js';
import { DEFAULT_RETENTION_DAYS, DEFAULT_SHARD_COUNT, MAX_DAYS, MAX_SHARD_COUNT, MIN_SHARD_COUNT } from './defaults.js';

/** An unset variable and an empty one mean the same: the default. */
const unsetIfEmpty = (raw: unknown) => (raw === '' ? undefined : raw);

/**
 * A variable holding a whole number from `min` to `max`, written as digits only; the message says so and repeats
 * what was given: `must be a whole number from 1 to 256 (got "x")`. Unset or empty: undefined (add `.default`).
 */
export function wholeNumberVar(min: number, max: number) {
  const digits = z
    .string()
    .refine((raw) => /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, {
      error: (issue) => `must be a whole number from ${min} to ${max} (got "${String(issue.input)}")`,
    })
    .transform(Number);
  return z.preprocess(unsetIfEmpty, digits.optional());
}

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
  [ENV.shardCount]: wholeNumberVar(MIN_SHARD_COUNT, MAX_SHARD_COUNT).default(DEFAULT_SHARD_COUNT),
  [ENV.retentionDays]: wholeNumberVar(1, MAX_DAYS).default(DEFAULT_RETENTION_DAYS),
  [ENV.hotDays]: wholeNumberVar(1, MAX_DAYS),
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

type EnvVars = z.output<typeof EnvSchema>;

/** The variable behind each field. */
type VarOf<K extends EnvField> = EnvVars[(typeof ENV)[K]];

/** The variables of `fields` under their ENV names: one that may be unset becomes an optional field. */
type Renamed<F extends EnvField> = { [K in F as undefined extends VarOf<K> ? never : K]: VarOf<K> } & {
  [K in F as undefined extends VarOf<K> ? K : never]?: VarOf<K>;
};

/** A field of a function's configuration: the name ENV gives the variable it is read from. */
export type EnvField = keyof typeof ENV;

/** What every function reads to build its DynamoDB stores (`dynamoStores`): the two tables and the shard count. */
export const STORE_FIELDS = ['eventsTable', 'scoresTable', 'shardCount'] as const satisfies readonly EnvField[];

/**
 * A function's configuration: the variables it reads, named as in ENV, checked by EnvSchema and renamed, e.g.
 * `envConfig('scoresTable', 'shardCount')` reads PULSE_SCORES_TABLE and PULSE_SHARD_COUNT as
 * `{ scoresTable: string; shardCount: number }`.
 */
export function envConfig<const F extends EnvField>(...fields: F[]) {
  // In EnvSchema's order, so a message naming several variables lists them the same way in every function.
  const wanted = new Set<string>(fields.map((field) => ENV[field]));
  const names = Object.keys(EnvSchema.shape).filter((name) => wanted.has(name));
  const picked = EnvSchema.pick(Object.fromEntries(names.map((name) => [name, true])) as Record<keyof EnvVars, true>);
  return picked.transform(
    (vars) => Object.fromEntries(fields.map((field) => [field, (vars as EnvVars)[ENV[field]]])) as Renamed<F>,
  );
}
