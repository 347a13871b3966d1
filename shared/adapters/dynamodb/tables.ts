import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * Both tables as plain data: the CDK app, local mode and the tests create them from these definitions, so the
 * key names can never drift. See docs/data-model.md.
 */
export interface KeySpec {
  name: string;
  type: 'S' | 'N';
}

export interface IndexSpec {
  indexName: string;
  partitionKey: KeySpec;
  sortKey: KeySpec;
  projection: 'ALL';
}

export interface TableSpec {
  partitionKey: KeySpec;
  sortKey: KeySpec;
  globalSecondaryIndexes: IndexSpec[];
  /** Epoch-seconds attribute DynamoDB's TTL deletes items by. */
  timeToLiveAttribute: string;
}

export const EVENTS_BY_ACCOUNT_INDEX = 'byAccount';
export const SCORES_BY_SCORE_INDEX = 'byScore';

/** A string key attribute. */
const stringKey = (name: string): KeySpec => ({ name, type: 'S' });

/** A table keyed by `pk`/`sk` (strings), with TTL on `expiresAt` and one GSI that projects every attribute. */
function tableWithIndex(indexName: string, indexPartitionKey: string, indexSortKey: string): TableSpec {
  return {
    partitionKey: stringKey('pk'),
    sortKey: stringKey('sk'),
    globalSecondaryIndexes: [
      { indexName, partitionKey: stringKey(indexPartitionKey), sortKey: stringKey(indexSortKey), projection: 'ALL' },
    ],
    timeToLiveAttribute: 'expiresAt',
  };
}

/** Events: `pk` = U#<user shard>#<YYYYMMDD>, `sk` = event id; sparse GSI by account (`apk`, `sk`). */
export const EVENTS_TABLE: TableSpec = tableWithIndex(EVENTS_BY_ACCOUNT_INDEX, 'apk', 'sk');

/** Scores, history, runs and entity records (`pk` = ENT#<user|account>#<shard>, `sk` = entity id); GSI `gpk`/`gsk`. */
export const SCORES_TABLE: TableSpec = tableWithIndex(SCORES_BY_SCORE_INDEX, 'gpk', 'gsk');

/** CreateTable input (on-demand capacity) for a spec. */
export function createTableInput(spec: TableSpec, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, KeySpec>();
  for (const key of [spec.partitionKey, spec.sortKey]) attributes.set(key.name, key);
  for (const index of spec.globalSecondaryIndexes) {
    attributes.set(index.partitionKey.name, index.partitionKey);
    attributes.set(index.sortKey.name, index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()].map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: spec.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: spec.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projection },
    })),
  };
}

/**
 * Create a table when it does not exist yet and turn TTL on (local mode and tests; in AWS the CDK app owns the
 * tables). Emulators without TTL support are tolerated: expiry is an optimisation, not a correctness rule.
 */
export async function ensureTable(client: DynamoDBClient, spec: TableSpec, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(spec, tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: spec.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch {
    // Already enabled, or not supported by the emulator.
  }
}
