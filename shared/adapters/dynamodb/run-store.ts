import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { RunExistsError, RunNotFoundError } from '../../ports/errors.js';
import type { RunPatch, RunRecord, RunStore } from '../../ports/run-store.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';
import { SCORES_BY_SCORE_INDEX } from './tables.js';

type Item = Record<string, AttributeValue>;

export interface DynamoRunStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  retry?: RetryPolicy | undefined;
  clock?: (() => number) | undefined;
}

/**
 * Runs in the scores table: `pk` = RUN#<runId>, `sk` = RUN, the record as JSON in `doc`; listed per model newest
 * first through the table's generic index (`gpk` = RUNS#<model>, `gsk` = <createdAt>#<runId>). Updates are
 * read-modify-write guarded by `updatedAt`, so concurrent steps never lose each other's fields.
 */
export class DynamoRunStore implements RunStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly retry: RetryPolicy;
  private readonly clock: () => number;

  constructor(options: DynamoRunStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.clock = options.clock ?? Date.now;
  }

  async create(run: RunRecord): Promise<void> {
    try {
      await withRetries(
        () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: itemOf(run),
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        this.retry,
        'creating a run',
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new RunExistsError(run.runId);
      throw error;
    }
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const result = await withRetries(
      () =>
        this.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: `RUN#${runId}` }, sk: { S: 'RUN' } },
            ConsistentRead: true,
          }),
        ),
      this.retry,
      'reading a run',
    );
    return result.Item ? (JSON.parse(result.Item.doc!.S!) as RunRecord) : undefined;
  }

  async update(runId: string, patch: RunPatch): Promise<RunRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const run = await this.get(runId);
      if (!run) throw new RunNotFoundError(runId);
      let stamp = new Date(this.clock()).toISOString();
      if (stamp <= run.updatedAt) stamp = new Date(Date.parse(run.updatedAt) + 1).toISOString();
      const updated: RunRecord = { ...run, ...patch, updatedAt: stamp };
      try {
        await withRetries(
          () =>
            this.client.send(
              new PutItemCommand({
                TableName: this.tableName,
                Item: itemOf(updated),
                ConditionExpression: 'updatedAt = :seen',
                ExpressionAttributeValues: { ':seen': { S: run.updatedAt } },
              }),
            ),
          this.retry,
          'updating a run',
        );
        return updated;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new Error(`run ${runId}: too many concurrent updates`);
  }

  async list(model: string, limit = 50): Promise<RunRecord[]> {
    const result = await withRetries(
      () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: SCORES_BY_SCORE_INDEX,
            KeyConditionExpression: 'gpk = :gpk',
            ExpressionAttributeValues: { ':gpk': { S: `RUNS#${model}` } },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      this.retry,
      'listing runs',
    );
    return (result.Items ?? []).map((i) => JSON.parse(i.doc!.S!) as RunRecord);
  }
}

function itemOf(run: RunRecord): Item {
  return {
    pk: { S: `RUN#${run.runId}` },
    sk: { S: 'RUN' },
    gpk: { S: `RUNS#${run.model}` },
    gsk: { S: `${run.createdAt}#${run.runId}` },
    status: { S: run.status },
    updatedAt: { S: run.updatedAt },
    doc: { S: JSON.stringify(run) },
  };
}
