import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoStores } from '../../../shared/adapters/dynamodb/stores.js';
import { DEFAULT_RETENTION_DAYS, DEFAULT_SHARD_COUNT } from '../../../shared/config/defaults.js';
import { EnvSchema, parseEnv } from '../../../shared/config/env.js';
import { ENV } from '../../../shared/config-names.js';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

describe('one configuration schema over the environment', () => {
  const schema = EnvSchema.pick({ [ENV.scoresTable]: true, [ENV.shardCount]: true, [ENV.retentionDays]: true });

  it('applies the documented defaults', () => {
    const c = parseEnv(schema, { [ENV.scoresTable]: 'scores' }, 'test');
    expect(c[ENV.shardCount]).toBe(16);
    expect(c[ENV.retentionDays]).toBe(400);
    expect([DEFAULT_SHARD_COUNT, DEFAULT_RETENTION_DAYS]).toEqual([16, 400]);
  });

  it('fails naming each variable that is missing or out of range', () => {
    expect(() => parseEnv(schema, { [ENV.shardCount]: '0' }, 'test')).toThrow(
      /^Invalid test configuration: PULSE_SCORES_TABLE: .+; PULSE_SHARD_COUNT: /,
    );
  });
});

describe('dynamoStores', () => {
  it('gives every sharded store the same shard count, the default unless told', () => {
    const stores = dynamoStores({ client, tables: { events: 'e', scores: 's' }, shardCount: 7 });
    expect([stores.shardCount, stores.events.shardCount]).toEqual([7, 7]);
    expect(dynamoStores({ client, tables: { events: 'e', scores: 's' } }).events.shardCount).toBe(DEFAULT_SHARD_COUNT);
  });
});
