import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { DEFAULT_SHARD_COUNT } from '../../config/defaults.js';
import { chunk } from '../../domain/chunk.js';
import type { EntityLevel, EntityRecord, TraitsRefusal, TraitsUpdate } from '../../domain/entity.js';
import { type EntityState, groupUpdates, mergeEntity } from '../../domain/entity-merge.js';
import type { Traits } from '../../domain/model/schema.js';
import type { EntityStore } from '../../ports/entity-store.js';
import { StoreUnavailableError } from '../../ports/errors.js';
import { entityPartition } from './keys.js';
import { sendAll } from './retry.js';
import { DynamoTable, type DynamoTableOptions, type Item, isConditionalCheckFailed } from './table.js';
import { isValidationError } from './validation.js';

export interface DynamoEntityStoreOptions extends DynamoTableOptions {
  /** Entity records live in the scores table. */
  tableName: string;
  shardCount?: number | undefined;
  /** Read-merge-write rounds before giving up on a contended entity. */
  maxConflicts?: number | undefined;
}

/**
 * Users and accounts known from identify/group calls, in the scores table (`pk` = ENT#<type>#<shard>,
 * `sk` = id). An update reads the record, merges in memory (entity-merge.ts) and writes it back on the
 * condition that nobody else wrote in between (a `version` counter), so concurrent calls never lose a trait.
 */
export class DynamoEntityStore implements EntityStore {
  readonly shardCount: number;
  private readonly table: DynamoTable;
  private readonly maxConflicts: number;

  constructor(options: DynamoEntityStoreOptions) {
    this.table = new DynamoTable(options);
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    this.maxConflicts = options.maxConflicts ?? 10;
  }

  async upsert(updates: readonly TraitsUpdate[]): Promise<TraitsRefusal[]> {
    const groups = [...groupUpdates(updates).values()];
    const refused: TraitsRefusal[] = [];
    // A few entities at a time: identify/group traffic is light, and this bounds the burst on one partition.
    for (const part of chunk(groups, 8)) {
      for (const own of await Promise.all(part.map((group) => this.upsertOne(group)))) refused.push(...own);
    }
    return refused;
  }

  async get(entityType: EntityLevel, entityId: string): Promise<EntityRecord | undefined> {
    return (await this.read(entityType, entityId))?.state.record;
  }

  async accountOf(userIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const { client, name } = this.table;
    const keys = [...new Set(userIds)].map((id) => this.key('user', id));
    await Promise.all(
      chunk(keys, 100).map((part) =>
        sendAll(
          part,
          async (pending) => {
            const result = await client.send(
              new BatchGetItemCommand({
                RequestItems: {
                  [name]: {
                    Keys: pending as Item[],
                    ConsistentRead: true,
                    ProjectionExpression: '#sk, accountId',
                    ExpressionAttributeNames: { '#sk': 'sk' },
                  },
                },
              }),
            );
            for (const item of result.Responses?.[name] ?? []) {
              const userId = item.sk?.S;
              const accountId = item.accountId?.S;
              if (userId !== undefined && accountId !== undefined) out.set(userId, accountId);
            }
            return (result.UnprocessedKeys?.[name]?.Keys ?? []) as Item[];
          },
          this.table.retry,
          'reading account links',
        ),
      ),
    );
    return out;
  }

  async *listShard(entityType: EntityLevel, shard: number): AsyncIterable<EntityRecord[]> {
    const input = {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `ENT#${entityType}#${shard}` } },
    };
    for await (const items of this.table.items(input, 'listing entities')) {
      yield items.map((item) => fromItem(entityType, item).record);
    }
  }

  private key(entityType: EntityLevel, entityId: string): Item {
    return { pk: { S: entityPartition(entityType, entityId, this.shardCount) }, sk: { S: entityId } };
  }

  private async read(
    entityType: EntityLevel,
    entityId: string,
  ): Promise<{ state: EntityState; version: number; item: Item } | undefined> {
    const item = await this.table.get(this.key(entityType, entityId), 'reading an entity');
    if (!item) return undefined;
    return { state: fromItem(entityType, item), version: Number(item.version?.N ?? 0), item };
  }

  private async upsertOne(group: TraitsUpdate[]): Promise<TraitsRefusal[]> {
    const { entityType, entityId } = group[0]!;
    for (let round = 0; round < this.maxConflicts; round++) {
      const current = await this.read(entityType, entityId);
      const next = mergeEntity(entityType, entityId, current?.state, group);
      // Nothing applied to an entity not stored yet: it stays unknown.
      if (next.refused.length === group.length && !current) return next.refused;
      const version = (current?.version ?? 0) + 1;
      try {
        // Attributes this store does not manage (written by others) are carried over untouched.
        const item = toItem({ ...current?.item, ...this.key(entityType, entityId) }, next, version);
        await this.table.put(item, 'storing traits', {
          ConditionExpression: current ? 'version = :v' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: current ? { ':v': { N: String(current.version) } } : undefined,
        });
        return next.refused;
      } catch (error) {
        // An item DynamoDB will not take (over 400 KB with attributes written by others, a key past its limits):
        // this entity's calls are refused, the rest of the request goes on (docs/api.md#limits).
        if (isValidationError(error)) {
          const message = `could not be stored: ${error.message}`;
          return group.map((update) => ({ update, path: 'traits', message }));
        }
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    throw new StoreUnavailableError(`storing traits: entity kept changing for ${this.maxConflicts} rounds`, 1);
  }
}

/**
 * Traits are a map of trait name → the value as JSON text: values round-trip exactly (any JSON number, nested
 * arrays, objects), which DynamoDB's own number type (38 digits, |x| < 1e126) would not guarantee.
 */
function toItem(base: Item, state: EntityState, version: number): Item {
  const record = state.record;
  const traits: Item = {};
  for (const [key, value] of Object.entries(record.traits)) {
    if (value !== undefined) traits[key] = { S: JSON.stringify(value) };
  }
  const item: Item = { ...base, traits: { M: traits }, version: { N: String(version) } };
  for (const name of ['accountId', 'accountLinkedAt', 'firstSeenAt', 'lastSeenAt', 'archived']) delete item[name];
  if (record.accountId !== undefined) item.accountId = { S: record.accountId };
  if (state.accountLinkedAt !== undefined) item.accountLinkedAt = { N: String(state.accountLinkedAt) };
  if (record.firstSeenAt !== undefined) item.firstSeenAt = { N: String(record.firstSeenAt) };
  if (record.lastSeenAt !== undefined) item.lastSeenAt = { N: String(record.lastSeenAt) };
  if (record.archived !== undefined) item.archived = { BOOL: record.archived };
  return item;
}

function fromItem(entityType: EntityLevel, item: Item): EntityState {
  const record: EntityRecord = {
    entityType,
    entityId: item.sk?.S ?? '',
    traits: traitsFrom(item.traits?.M),
  };
  if (item.accountId?.S !== undefined) record.accountId = item.accountId.S;
  if (item.firstSeenAt?.N !== undefined) record.firstSeenAt = Number(item.firstSeenAt.N);
  if (item.lastSeenAt?.N !== undefined) record.lastSeenAt = Number(item.lastSeenAt.N);
  if (item.archived?.BOOL !== undefined) record.archived = item.archived.BOOL;
  const accountLinkedAt = item.accountLinkedAt?.N === undefined ? undefined : Number(item.accountLinkedAt.N);
  return { record, accountLinkedAt };
}

function traitsFrom(map: Item | undefined): Traits {
  const traits: Traits = {};
  for (const [key, value] of Object.entries(map ?? {})) {
    if (value.S !== undefined) traits[key] = JSON.parse(value.S);
  }
  return traits;
}
