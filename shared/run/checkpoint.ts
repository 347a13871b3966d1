import type { ScoringRunState, StateTableExport } from '../domain/engine/scoring-run.js';

/**
 * Where a worker stopped scoring a shard before its time ran out (docs/operations.md#runs): the engine's exact state
 * after every event before `resumeFrom`, and what the next invocation needs to carry on from there. State and
 * cursor live in one object, so a retried invocation always resumes from a consistent point.
 */
export interface ShardCheckpoint {
  runId: string;
  shard: number;
  /** Epoch ms: events before this instant are in `state`; the next invocation reads from here. */
  resumeFrom: number;
  /** Events read so far. */
  events: number;
  /** Invocations that contributed to the state so far. */
  invocations: number;
  /** Accounts whose traits the model needs at the end (user models with account `appliesTo`), or null. */
  accounts: string[] | null;
  state: ScoringRunState;
}

const MAGIC = 'PULSECK1';
const TABLES = ['main', 'members', 'groupRows'] as const;

/**
 * Binary form: magic, a JSON header (everything but the three state tables' numbers) and the numbers as raw
 * little-endian float64 (exact, infinities included, no JSON round-trip of millions of numbers).
 */
export function encodeCheckpoint(checkpoint: ShardCheckpoint): Uint8Array {
  const { state } = checkpoint;
  const tables = Object.fromEntries(
    TABLES.map((t) => [t, { count: state[t].count, sets: state[t].sets, length: state[t].data.length }]),
  );
  const header = Buffer.from(
    JSON.stringify({ ...checkpoint, state: { ...state, main: null, members: null, groupRows: null }, tables }),
    'utf8',
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.byteLength);
  const numbers = TABLES.map((t) => {
    const data = state[t].data;
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  });
  return Buffer.concat([Buffer.from(MAGIC, 'ascii'), length, header, ...numbers]);
}

export function decodeCheckpoint(body: Uint8Array): ShardCheckpoint {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.toString('ascii', 0, MAGIC.length) !== MAGIC) throw new Error('not a Pulse shard checkpoint');
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  let at = MAGIC.length + 4;
  const parsed = JSON.parse(bytes.toString('utf8', at, at + headerLength)) as Omit<ShardCheckpoint, 'state'> & {
    state: Omit<ScoringRunState, (typeof TABLES)[number]>;
    tables: Record<(typeof TABLES)[number], { count: number; sets: string[][][] | null; length: number }>;
  };
  at += headerLength;
  const tables = {} as Record<(typeof TABLES)[number], StateTableExport>;
  for (const t of TABLES) {
    const { count, sets, length } = parsed.tables[t];
    // Copy: the slice of the object body need not be 8-byte aligned.
    const data = new Float64Array(length);
    new Uint8Array(data.buffer).set(bytes.subarray(at, at + length * 8));
    at += length * 8;
    tables[t] = { count, sets, data };
  }
  const { tables: _tables, state, ...rest } = parsed;
  // JSON has no `undefined` in arrays: it came back as null, which the engine would take for a value.
  const orUndefined = <T>(value: T | null): T | undefined => (value === null ? undefined : value);
  return {
    ...rest,
    state: {
      ...state,
      accountIds: state.accountIds.map(orUndefined),
      known: state.known.map(orUndefined),
      users: state.users === null ? null : state.users.map(orUndefined),
      ...tables,
    },
  };
}
