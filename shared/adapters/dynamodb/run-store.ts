import { RunExistsError, RunNotFoundError } from '../../ports/errors.js';
import type { RunPatch, RunRecord, RunStore } from '../../ports/run-store.js';
import { DynamoTable, type DynamoTableOptions, type Item, isConditionalCheckFailed } from './table.js';
import { SCORES_BY_SCORE_INDEX } from './tables.js';

export interface DynamoRunStoreOptions extends DynamoTableOptions {
  clock?: (() => number) | undefined;
}

/**
 * Runs in the scores table: `pk` = RUN#<runId>, `sk` = RUN, the record as JSON in `doc`; listed per model newest
 * first through the table's generic index (`gpk` = RUNS#<model>, `gsk` = <createdAt>#<runId>). Updates are
 * read-modify-write guarded by `updatedAt`, so concurrent steps never lose each other's fields.
 */
export class DynamoRunStore implements RunStore {
  private readonly table: DynamoTable;
  private readonly clock: () => number;

  constructor(options: DynamoRunStoreOptions) {
    this.table = new DynamoTable(options);
    this.clock = options.clock ?? Date.now;
  }

  async create(run: RunRecord): Promise<void> {
    if (!(await this.table.putNew(itemOf(run), 'creating a run'))) throw new RunExistsError(run.runId);
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const item = await this.table.get({ pk: { S: `RUN#${runId}` }, sk: { S: 'RUN' } }, 'reading a run');
    return item ? (JSON.parse(item.doc!.S!) as RunRecord) : undefined;
  }

  async update(runId: string, patch: RunPatch): Promise<RunRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const run = await this.get(runId);
      if (!run) throw new RunNotFoundError(runId);
      let stamp = new Date(this.clock()).toISOString();
      if (stamp <= run.updatedAt) stamp = new Date(Date.parse(run.updatedAt) + 1).toISOString();
      const updated: RunRecord = { ...run, ...patch, updatedAt: stamp };
      try {
        await this.table.put(itemOf(updated), 'updating a run', {
          ConditionExpression: 'updatedAt = :seen',
          ExpressionAttributeValues: { ':seen': { S: run.updatedAt } },
        });
        return updated;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    throw new Error(`run ${runId}: too many concurrent updates`);
  }

  async list(model: string, limit = 50): Promise<RunRecord[]> {
    const input = {
      IndexName: SCORES_BY_SCORE_INDEX,
      KeyConditionExpression: 'gpk = :gpk',
      ExpressionAttributeValues: { ':gpk': { S: `RUNS#${model}` } },
      ScanIndexForward: false,
      Limit: limit,
    };
    // One page: the newest `limit` runs.
    const first = await this.table.pages(input, 'listing runs').next();
    return (first.value?.Items ?? []).map((i) => JSON.parse(i.doc!.S!) as RunRecord);
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
