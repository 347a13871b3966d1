import { StateTable } from './state-table.js';
import { StringIndex } from './string-index.js';
import type { KnownEntity } from './types.js';

/** A breakdown group of an account: its state row and its users. */
export interface Group {
  row: number;
  users: Set<string>;
}

/**
 * The entities of a run and their state: id → row of `main` (`ids.keys[row]` is the id), and per row its account,
 * what is known of it, its users (rollup mean/max) and its breakdown groups.
 */
export class EntityRows {
  readonly ids: StringIndex;
  readonly main: StateTable;
  readonly accountIds: (string | undefined)[] = [];
  readonly known: (KnownEntity | undefined)[] = [];
  /** rollup mean/max: per account row, its users' rows in `members`. */
  readonly users: (Map<string, number> | undefined)[] = [];
  readonly members: StateTable;
  /** breakdown: per account row, one group per value of the user trait, rows in `groupRows`. */
  readonly groups: (Map<string, Group> | undefined)[] = [];
  readonly groupRows: StateTable;

  constructor(
    slotCount: number,
    setCount: number,
    /** rollup mean/max: each account's users keep their own state. */
    readonly perUser: boolean,
    /** The model has a breakdown by a user trait. */
    readonly breakdown: boolean,
    /** About how many entities will come (a hint): the id index is sized for them up front. */
    expectedEntities = 0,
  ) {
    this.ids = new StringIndex({ packed: true, initialCapacity: 2 * expectedEntities });
    this.main = new StateTable(slotCount, setCount);
    this.members = new StateTable(slotCount, setCount);
    this.groupRows = new StateTable(slotCount, setCount);
  }

  get size(): number {
    return this.ids.size;
  }

  /** The row of an entity, allocated on first sight. */
  rowOf(entityId: string): number {
    const count = this.ids.size;
    const row = this.ids.add(entityId);
    if (row === count) this.allocRow();
    return row;
  }

  /** The row of an entity the caller knows has none yet (StringIndex.appendNew: its id is not looked up). */
  newRow(entityId: string): number {
    const row = this.ids.appendNew(entityId);
    this.allocRow();
    return row;
  }

  /** A new entity's row in `main`, the one at its index in `ids` (rows are allocated here only). */
  private allocRow(): void {
    this.main.alloc();
    this.accountIds.push(undefined);
    this.known.push(undefined);
    if (this.perUser) this.users.push(undefined);
    if (this.breakdown) this.groups.push(undefined);
  }

  /** The row of a user of an account (rollup mean/max), allocated on first sight. */
  memberOf(row: number, userId: string): number {
    let users = this.users[row];
    if (users === undefined) this.users[row] = users = new Map();
    let member = users.get(userId);
    if (member === undefined) {
      member = this.members.alloc();
      users.set(userId, member);
    }
    return member;
  }

  /** The breakdown group of an account for one trait value, allocated on first sight. */
  groupOf(row: number, key: string): Group {
    let groups = this.groups[row];
    if (groups === undefined) this.groups[row] = groups = new Map();
    let group = groups.get(key);
    if (!group) {
      group = { row: this.groupRows.alloc(), users: new Set() };
      groups.set(key, group);
    }
    return group;
  }
}
