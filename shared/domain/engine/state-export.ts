import { ACCOUNT_AT_SLOT, type CompiledModel, FIRST_SEEN_SLOT, LAST_SEEN_SLOT } from './compile.js';
import type { EntityRows, Group } from './entity-rows.js';
import { MERGE_ADD, MERGE_MAX, MERGE_MIN, MERGE_OR, MERGE_SKIP, type StateTableExport } from './state-table.js';
import type { KnownEntity } from './types.js';

export interface ScoringRunStats {
  /** Events that fed at least the entity's activity (in the lookback period). */
  counted: number;
  duplicates: number;
  /** Outside [lookback start, T). */
  outOfRange: number;
  /** Account-level models: events whose user has no account. */
  unattributed: number;
}

/**
 * A run's entity state as plain data and typed arrays: what `exportState()` gives and `importState()` merges, so a
 * run can be scored in parts (worker threads, processes) and merged. Structured-clonable; pass `transferables()`
 * as the transfer list to move the arrays instead of copying them.
 */
export interface ScoringRunState {
  /** Checked on import: the same model layout and instant. */
  modelName: string;
  asOf: number;
  slotCount: number;
  /** Entity ids; row i of `main` belongs to `keys[i]`. */
  keys: string[];
  accountIds: (string | undefined)[];
  known: (KnownEntity | undefined)[];
  main: StateTableExport;
  /** rollup mean/max: per entity row, its users in first-seen order and their rows in `members`. */
  users: ([string[], number[]] | undefined)[] | null;
  members: StateTableExport;
  /** breakdown: per entity row, its groups as [key, users, row in `groupRows`] in first-seen order. */
  groups: [string, string[], number][][] | null;
  groupRows: StateTableExport;
  stats: ScoringRunStats;
}

/** The typed arrays of a state, for a postMessage transfer list. */
export function stateTransferables(state: ScoringRunState): ArrayBuffer[] {
  return [state.main.data.buffer, state.members.data.buffer, state.groupRows.data.buffer] as ArrayBuffer[];
}

/** The rows of a run as data (ScoringRunState); the header names the model and instant they belong to. */
export function exportRows(
  rows: EntityRows,
  header: Pick<ScoringRunState, 'modelName' | 'asOf' | 'slotCount'>,
  stats: ScoringRunStats,
): ScoringRunState {
  const n = rows.size;
  return {
    ...header,
    keys: rows.ids.keys.slice(),
    accountIds: rows.accountIds.slice(),
    known: rows.known.slice(),
    main: rows.main.export(),
    users: rows.perUser
      ? Array.from({ length: n }, (_, row) => {
          const users = rows.users[row];
          return users === undefined ? undefined : ([[...users.keys()], [...users.values()]] as [string[], number[]]);
        })
      : null,
    members: rows.members.export(),
    groups: rows.breakdown
      ? Array.from({ length: n }, (_, row) =>
          [...(rows.groups[row] ?? new Map<string, Group>())].map(
            ([key, g]) => [key, [...g.users], g.row] as [string, string[], number],
          ),
        )
      : null,
    groupRows: rows.groupRows.export(),
    stats: { ...stats },
  };
}

/**
 * Merge exported rows into `rows` (see ScoringRun.importState for what merging means). The caller checks the state
 * is of the same model and instant, and adds its stats.
 */
export function importRows(rows: EntityRows, state: ScoringRunState, ops: Uint8Array): void {
  const slotCount = state.slotCount;
  for (let from = 0; from < state.keys.length; from++) {
    const row = rows.rowOf(state.keys[from]!);
    const data = rows.main.dataOf(row);
    const at = rows.main.baseOf(row) + ACCOUNT_AT_SLOT;
    const otherAt = state.main.data[from * slotCount + ACCOUNT_AT_SLOT]!;
    const otherAccount = state.accountIds[from];
    if (
      otherAt > data[at]! ||
      (otherAt === data[at]! && otherAt !== Number.NEGATIVE_INFINITY && otherAccount! > rows.accountIds[row]!)
    ) {
      rows.accountIds[row] = otherAccount;
      data[at] = otherAt;
    } else if (rows.accountIds[row] === undefined) rows.accountIds[row] = otherAccount;
    if (rows.known[row] === undefined) rows.known[row] = state.known[from];
    rows.main.mergeRow(row, state.main, from, ops);
    const users = state.users?.[from];
    if (users !== undefined) {
      const [ids, memberRows] = users;
      for (let i = 0; i < ids.length; i++) {
        rows.members.mergeRow(rows.memberOf(row, ids[i]!), state.members, memberRows[i]!, ops);
      }
    }
    const groups = state.groups?.[from];
    if (groups !== undefined) {
      for (const [key, users, groupRow] of groups) {
        const group = rows.groupOf(row, key);
        for (const user of users) group.users.add(user);
        rows.groupRows.mergeRow(group.row, state.groupRows, groupRow, ops);
      }
    }
  }
}

/** Per slot, how it merges: sums and counts add, bitmaps OR, first seen min, last seen max, the account's time skipped. */
export function mergeOpsOf(compiled: CompiledModel): Uint8Array {
  const ops = new Uint8Array(compiled.slotCount).fill(MERGE_ADD);
  ops[FIRST_SEEN_SLOT] = MERGE_MIN;
  ops[LAST_SEEN_SLOT] = MERGE_MAX;
  ops[ACCOUNT_AT_SLOT] = MERGE_SKIP;
  ops.fill(MERGE_OR, compiled.activeSlot, compiled.activeSlot + compiled.dayWords);
  for (const s of compiled.signals) {
    if (s.kind === 'days') ops.fill(MERGE_OR, s.slot, s.slot + compiled.dayWords);
    else if (s.kind === 'weeks') ops.fill(MERGE_OR, s.slot, s.slot + compiled.weekWords);
  }
  return ops;
}
