/**
 * Key shapes of the two DynamoDB tables as the CDK app creates them. The adapters in shared/adapters/dynamodb own
 * the item layout; this file only states the attributes DynamoDB itself must know: keys, GSIs and the TTL attribute.
 */
export interface KeySpec {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export interface IndexSpec extends KeySpec {
  readonly indexName: string;
}

export interface TableSpec extends KeySpec {
  readonly indexes: readonly IndexSpec[];
  /** Epoch-seconds attribute after which DynamoDB deletes the item. */
  readonly ttlAttribute: string;
}

/** Events, entity traits and user→account links: one item per event in its shard's time-ordered partition. */
export const EVENTS_TABLE: TableSpec = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [{ indexName: 'byAccount', partitionKey: 'apk', sortKey: 'sk' }],
  ttlAttribute: 'expiresAt',
};

/** Current scores, history rows, runs and alerts; `byScore` lists a model's entities by band and score. */
export const SCORES_TABLE: TableSpec = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [{ indexName: 'byScore', partitionKey: 'gpk', sortKey: 'gsk' }],
  ttlAttribute: 'expiresAt',
};
