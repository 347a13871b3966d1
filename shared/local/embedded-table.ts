import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

import type { EmbeddedTable, InsertOutcome } from '../adapters/dynamodb/sole-writer-event-store.js';

type Item = Record<string, AttributeValue>;

/** The parts of dynalite's storage module used here (dynalite/db/index.js; the package ships no types). */
interface TableDescription {
  TableName: string;
  KeySchema: { AttributeName: string }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  GlobalSecondaryIndexes?: unknown[];
  LocalSecondaryIndexes?: unknown[];
}
interface IndexActions {
  puts: { index: string; key: string; item: Item }[];
}
interface LevelOperation {
  type: 'put';
  key: string;
  value: unknown;
}
interface ChainedBatch {
  put(key: string, value: unknown): void;
  write(options: { sync: boolean }): Promise<void>;
}
interface LevelDatabase {
  getMany(keys: string[], options: { valueEncoding: 'buffer'; fillCache: boolean }): Promise<(Buffer | undefined)[]>;
  getMany(keys: string[]): Promise<(Item | undefined)[]>;
}
interface DynaliteStore {
  db: LevelDatabase;
  options: { maxItemSize: number };
  getTable(name: string, checkStatus: boolean, cb: (error: Error | null, table: TableDescription) => void): void;
  lifecycleManager?: { trackOperation<T>(operation: Promise<T>): Promise<T> };
}
interface DynaliteDb {
  create(options: unknown): DynaliteStore;
  createKey(item: Item, table: TableDescription): string;
  getIndexActions(indexes: unknown[], existing: Item | undefined, item: Item, table: TableDescription): IndexActions;
  validateItem(item: Item, table: TableDescription): { body?: { message?: string } } | undefined;
  validateKey(key: Item, table: TableDescription): { body?: { message?: string } } | undefined;
  itemSize(item: Item): number;
}
interface DynaliteValidations {
  validateAttributeValue(value: AttributeValue): string | undefined;
}

const require = createRequire(import.meta.url);

/** Numbers dynalite stores unchanged (its normal form of an integer of at most 38 digits). */
const CANONICAL_INTEGER = /^(?:0|-?[1-9][0-9]{0,37})$/;

/** dynalite's HTTP server and the storage behind it, in one process. */
export interface DynaliteInProcess {
  server: Server;
  table(name: string): EmbeddedTable;
}

export interface DynaliteOptions {
  /** The LevelDB directory; in memory without one (tests). */
  path?: string | undefined;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

/**
 * Create dynalite's server and keep hold of its storage (dynalite does not hand it out: its `db.create` is wrapped for
 * the duration of the call), so this process can write items in dynalite's own layout — the very keys and values
 * its PutItem writes — while every reader keeps going through its DynamoDB API.
 */
export function dynaliteInProcess(options: DynaliteOptions): DynaliteInProcess {
  const db = require('dynalite/db') as DynaliteDb;
  const validations = require('dynalite/validations') as DynaliteValidations;
  const create = db.create;
  let store: DynaliteStore | undefined;
  db.create = (createOptions: unknown) => {
    store = create(createOptions);
    return store;
  };
  let server: Server;
  try {
    server = dynalite(options);
  } finally {
    db.create = create;
  }
  if (!store) throw new Error('dynalite did not create its store through dynalite/db');
  const held = store;
  return { server, table: (name) => new DynaliteTable(held, db, validations, name) };
}

/** One table's items in dynalite's LevelDB: `item-<table>~<key>`, its index entries `index-<type>~<table>~<index>~<key>`. */
class DynaliteTable implements EmbeddedTable {
  private readonly itemPrefix: string;
  private described: Promise<TableDescription> | undefined;

  constructor(
    private readonly store: DynaliteStore,
    private readonly db: DynaliteDb,
    private readonly validations: DynaliteValidations,
    private readonly name: string,
  ) {
    this.itemPrefix = `item-${name}~`;
  }

  async insertAbsent(items: readonly Item[]): Promise<InsertOutcome[]> {
    const table = await this.description();
    const outcomes: InsertOutcome[] = new Array(items.length);
    const keys: string[] = [];
    const positions: number[] = [];
    for (const [i, item] of items.entries()) {
      const refusal = this.refusal(item, table);
      if (refusal !== undefined) outcomes[i] = { refused: refusal };
      else {
        keys.push(this.itemPrefix + this.db.createKey(item, table));
        positions.push(i);
      }
    }
    // The store's own level (dynalite wraps some methods of it); values stay undecoded, only presence matters.
    const existing =
      keys.length > 0 ? await this.store.db.getMany(keys, { valueEncoding: 'buffer', fillCache: false }) : [];
    const operations: LevelOperation[] = [];
    for (const [j, key] of keys.entries()) {
      const i = positions[j]!;
      if (existing[j] !== undefined) {
        outcomes[i] = 'duplicate';
        continue;
      }
      const item = items[i]!;
      operations.push({ type: 'put', key, value: item });
      for (const [type, indexes] of [
        ['global', table.GlobalSecondaryIndexes],
        ['local', table.LocalSecondaryIndexes],
      ] as const) {
        if (!indexes) continue;
        for (const put of this.db.getIndexActions(indexes, undefined, item, table).puts)
          operations.push({ type: 'put', key: `index-${type}~${this.name}~${put.index}~${put.key}`, value: put.item });
      }
      outcomes[i] = 'stored';
    }
    if (operations.length > 0) await this.write(operations);
    return outcomes;
  }

  async getItems(keys: readonly Item[]): Promise<(Item | undefined)[]> {
    if (keys.length === 0) return [];
    const table = await this.description();
    for (const key of keys) {
      const invalid = this.db.validateKey(key, table);
      if (invalid) throw new Error(invalid.body?.message ?? 'the key does not match the table');
    }
    return this.store.db.getMany(keys.map((key) => this.itemPrefix + this.db.createKey(key, table)));
  }

  /**
   * One atomic write, synced to disk: an acknowledged event survives the process being killed and the machine
   * losing power. A chained batch (each put goes straight into LevelDB's write batch: a third of the CPU of an
   * array batch). dynalite's wrapper of `batch` takes no options, so the level's own method is called; the write is
   * registered with dynalite's shutdown, which waits for it.
   */
  private write(operations: LevelOperation[]): Promise<void> {
    const level = this.store.db as unknown as { batch(): ChainedBatch };
    const batch = (Object.getPrototypeOf(level) as { batch(this: unknown): ChainedBatch }).batch.call(level);
    for (const operation of operations) batch.put(operation.key, operation.value);
    const writing = batch.write({ sync: true });
    return this.store.lifecycleManager ? this.store.lifecycleManager.trackOperation(writing) : writing;
  }

  /** Why dynalite's BatchWriteItem would refuse this item, if it would. Numbers are normalised as it does. */
  private refusal(item: Item, table: TableDescription): string | undefined {
    if (this.plainlyValid(item, table)) return undefined;
    for (const name in item) {
      const message = this.validations.validateAttributeValue(item[name]!);
      if (message) return message;
    }
    if (this.db.itemSize(item) > this.store.options.maxItemSize)
      return 'Item size has exceeded the maximum allowed size';
    const invalid = this.db.validateItem(item, table);
    return invalid ? (invalid.body?.message ?? 'the item does not match the table') : undefined;
  }

  /**
   * A cheap proof that dynalite would take the item as it is (what Pulse writes): only string and canonical integer
   * values, far under the size limit, key attributes non-empty strings within the key size limits, every declared
   * attribute of its declared type. Anything else goes through dynalite's own checks.
   */
  private plainlyValid(item: Item, table: TableDescription): boolean {
    let size = 0;
    for (const name in item) {
      const value = item[name] as { S?: unknown; N?: unknown };
      let types = 0;
      for (const _ in value) types++;
      if (types !== 1) return false;
      if (typeof value.S === 'string') size += name.length + value.S.length;
      else if (typeof value.N === 'string' && CANONICAL_INTEGER.test(value.N)) size += name.length + value.N.length;
      else return false;
    }
    if (size * 2 > this.store.options.maxItemSize) return false;
    for (const { AttributeName, AttributeType } of table.AttributeDefinitions) {
      const value = item[AttributeName] as Record<string, unknown> | undefined;
      if (value !== undefined && value[AttributeType] === undefined) return false;
    }
    for (const { AttributeName } of table.KeySchema) {
      const key = item[AttributeName]?.S;
      if (key === undefined || key.length === 0 || key.length > 1024) return false;
    }
    return true;
  }

  /**
   * The table's key schema and indexes, read once: local mode never changes a table while serving, and a read per
   * call costs as much as the writes (the level's get runs on this thread).
   */
  private description(): Promise<TableDescription> {
    this.described ??= new Promise<TableDescription>((resolve, reject) =>
      this.store.getTable(this.name, false, (error, table) => (error ? reject(error) : resolve(table))),
    ).catch((error: unknown) => {
      this.described = undefined;
      throw error;
    });
    return this.described;
  }
}
