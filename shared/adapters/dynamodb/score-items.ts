import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { reasonsForChange } from '../../domain/engine/finalize.js';
import type { AppliedPenalty, Contribution, Coverage, GroupScore, PreviousScore } from '../../domain/engine/types.js';
import type { ScoreOverride } from '../../domain/override.js';
import type { EntityLevel } from '../../ports/event-store.js';
import type { HistoryEntry, HistoryRun, StoredScore } from '../../ports/score-store.js';

type Item = Record<string, AttributeValue>;

/**
 * The compact `doc` of score items (docs/data-model.md#score-items). What the keys and the top-level list
 * attributes already hold (entity, model, score, band, delta, as-of of a history row) is not repeated, what the
 * read can derive is not stored (previous score and band, reasons for the change), and contributions are
 * positional arrays. Items written before (a `doc` without `v`) are read as they were.
 */
const COMPACT = 2;

/** [signal, value, points] */
type PackedContribution = [string, number, number];
/** [rule, points] */
type PackedPenalty = [string, number];

interface PackedPrevious {
  s: number;
  b: string;
  t: string;
  /** Contribution points in the order of the score's own signals when the signal lists match, else full triples. */
  c: number[] | PackedContribution[];
  /** Values of the previous contributions, when `c` holds points only. */
  cv?: number[];
  p: PackedPenalty[];
}

interface PackedCurrent {
  v: typeof COMPACT;
  a: string | null;
  mv: number;
  t: string;
  w: number;
  r: number;
  /** activeDays, observedDays, events, firstSeenAt, lastSeenAt */
  cov: [number, number, number, number | null, number | null];
  c: PackedContribution[];
  p: PackedPenalty[];
  pv: PackedPrevious | null;
  g?: GroupScore[];
  o?: ScoreOverride;
}

interface PackedHistory {
  v: typeof COMPACT;
  mv: number;
  /** Score, band, delta (rows of the first compact layout held them as the item's `s`, `b`, `d`). */
  s?: number;
  b?: string;
  d?: number | null;
  r: number;
  c: PackedContribution[];
  p: PackedPenalty[];
  o?: ScoreOverride;
}

const packContributions = (cs: readonly Contribution[]): PackedContribution[] =>
  cs.map((c) => [c.signal, c.value, c.points]);
const unpackContributions = (cs: readonly PackedContribution[]): Contribution[] =>
  cs.map(([signal, value, points]) => ({ signal, value, points }));
const packPenalties = (ps: readonly AppliedPenalty[]): PackedPenalty[] => ps.map((p) => [p.rule, p.points]);
const unpackPenalties = (ps: readonly PackedPenalty[]): AppliedPenalty[] =>
  ps.map(([rule, points]) => ({ rule, points }));

function packPrevious(previous: PreviousScore, own: readonly Contribution[]): PackedPrevious {
  const sameSignals =
    previous.contributions.length === own.length && previous.contributions.every((c, i) => c.signal === own[i]!.signal);
  return {
    s: previous.score,
    b: previous.band,
    t: previous.asOf,
    ...(sameSignals
      ? { c: previous.contributions.map((c) => c.points), cv: previous.contributions.map((c) => c.value) }
      : { c: packContributions(previous.contributions) }),
    p: packPenalties(previous.penalties),
  };
}

function unpackPrevious(packed: PackedPrevious, own: readonly Contribution[]): PreviousScore {
  const contributions =
    packed.cv === undefined
      ? unpackContributions(packed.c as PackedContribution[])
      : (packed.c as number[]).map((points, i) => ({ signal: own[i]!.signal, value: packed.cv![i]!, points }));
  return { score: packed.s, band: packed.b, asOf: packed.t, contributions, penalties: unpackPenalties(packed.p) };
}

/** The `doc` attribute of a current score item (score, band and delta are the item's `s`, `b`, `d`). */
export function packCurrent(score: StoredScore): string {
  const packed: PackedCurrent = {
    v: COMPACT,
    a: score.accountId,
    mv: score.modelVersion,
    t: score.asOf,
    w: score.windowDays,
    r: score.rawScore,
    cov: [
      score.coverage.activeDays,
      score.coverage.observedDays,
      score.coverage.events,
      score.coverage.firstSeenAt,
      score.coverage.lastSeenAt,
    ],
    c: packContributions(score.contributions),
    p: packPenalties(score.penalties),
    pv: score.previous ? packPrevious(score.previous, score.contributions) : null,
  };
  if (score.groups) packed.g = score.groups;
  if (score.override) packed.o = score.override;
  return JSON.stringify(packed);
}

/** A current score item back to the stored score (both layouts). */
export function unpackCurrent(item: Item): StoredScore {
  const doc = JSON.parse(item.doc!.S!) as PackedCurrent | StoredScore;
  if (!('v' in doc) || doc.v !== COMPACT) return doc as StoredScore;
  const pk = item.pk!.S!;
  const model = pk.slice('CUR#'.length, pk.lastIndexOf('#'));
  const contributions = unpackContributions(doc.c);
  const penalties = unpackPenalties(doc.p);
  const previous = doc.pv ? unpackPrevious(doc.pv, contributions) : null;
  const delta = item.d?.N === undefined ? null : Number(item.d.N);
  const [activeDays, observedDays, events, firstSeenAt, lastSeenAt] = doc.cov;
  const coverage: Coverage = { activeDays, observedDays, events, firstSeenAt, lastSeenAt };
  const score: StoredScore = {
    entityType: item.et!.S as EntityLevel,
    entityId: item.eid!.S!,
    accountId: doc.a,
    model,
    modelVersion: doc.mv,
    asOf: doc.t,
    windowDays: doc.w,
    rawScore: doc.r,
    score: Number(item.s!.N),
    band: item.b!.S!,
    previousScore: previous?.score ?? null,
    delta,
    previousBand: previous?.band ?? null,
    coverage,
    contributions,
    penalties,
    // What the run computed (docs/models.md#explanations): derived again from the same inputs.
    reasons: previous && delta !== 0 ? reasonsForChange(contributions, penalties, previous) : [],
    previous,
  };
  if (doc.g) score.groups = doc.g;
  if (doc.o) score.override = doc.o;
  return score;
}

/** The `doc` of a history row (its entity and as-of are in the key); self-contained, so it can be copied to `cdoc`. */
export function packHistory(entry: HistoryEntry): string {
  const packed: PackedHistory = {
    v: COMPACT,
    mv: entry.modelVersion,
    s: entry.score,
    b: entry.band,
    d: entry.delta,
    r: entry.rawScore,
    c: packContributions(entry.contributions),
    p: packPenalties(entry.penalties),
  };
  if (entry.override) packed.o = entry.override;
  return JSON.stringify(packed);
}

/** A history item back to its entry (both layouts); `model` is the one queried. */
export function unpackHistory(item: Item, model: string): HistoryEntry {
  return historyEntryFrom(item.doc!.S!, item, model, asOfOfHistory(item, model));
}

/** The as-of of a history row: its sort key is `<model>#<asOf>`. */
export const asOfOfHistory = (item: Item, model: string) => item.sk!.S!.slice(model.length + 1);

/** Whether a history doc is in the compact layout (else it is a whole entry as JSON, written before). */
export const isCompactDoc = (doc: string) => doc.startsWith(`{"v":${COMPACT},`);

/** The entry a history doc (`doc`, or a run's carried `cdoc`) gives for the day `asOf`. */
export function historyEntryFrom(docText: string, item: Item, model: string, asOf: string): HistoryEntry {
  const doc = JSON.parse(docText) as PackedHistory | HistoryEntry;
  if (!('v' in doc) || doc.v !== COMPACT) return { ...(doc as HistoryEntry), asOf };
  const pk = item.pk!.S!; // HIST#<type>#<id>
  const rest = pk.slice('HIST#'.length);
  const hash = rest.indexOf('#');
  const delta = doc.d !== undefined ? doc.d : item.d?.N === undefined ? null : Number(item.d.N);
  const entry: HistoryEntry = {
    entityType: rest.slice(0, hash) as EntityLevel,
    entityId: rest.slice(hash + 1),
    model,
    modelVersion: doc.mv,
    asOf,
    score: doc.s ?? Number(item.s!.N),
    rawScore: doc.r,
    band: doc.b ?? item.b!.S!,
    delta,
    contributions: unpackContributions(doc.c),
    penalties: unpackPenalties(doc.p),
  };
  if (doc.o) entry.override = doc.o;
  return entry;
}

/** The current item's `hr`: the open history run (docs/data-model.md#history-runs). */
export function packRun(run: HistoryRun): string {
  return JSON.stringify({ f: run.from, d: packDays(run.from, run.days) });
}

export function unpackRun(text: string): HistoryRun {
  const { f, d } = JSON.parse(text) as { f: string; d: string };
  return { from: f, days: unpackDays(f, d) };
}

/** Whether an as-of is in the one form days are rebuilt in (so a carried day reads back byte for byte). */
export const isCanonicalAsOf = (asOf: string) => {
  const ms = Date.parse(asOf);
  return Number.isFinite(ms) && new Date(ms).toISOString() === asOf;
};

/**
 * Later days of a run as millisecond steps from the day before, repeats folded: a daily run of 40 days after
 * `from` is `86400000*40`.
 */
export function packDays(from: string, days: readonly string[]): string {
  const parts: string[] = [];
  let last = Date.parse(from);
  let step = 0;
  let count = 0;
  const flush = () => {
    if (count > 0) parts.push(count === 1 ? String(step) : `${step}*${count}`);
  };
  for (const day of days) {
    const ms = Date.parse(day);
    const next = ms - last;
    if (next === step) count++;
    else {
      flush();
      step = next;
      count = 1;
    }
    last = ms;
  }
  flush();
  return parts.join(',');
}

export function unpackDays(from: string, packed: string): string[] {
  const days: string[] = [];
  if (packed === '') return days;
  let at = Date.parse(from);
  for (const part of packed.split(',')) {
    const [step, count] = part.split('*');
    for (let i = 0; i < Number(count ?? 1); i++) {
      at += Number(step);
      days.push(new Date(at).toISOString());
    }
  }
  return days;
}

/**
 * Bytes DynamoDB counts for an item (attribute names plus values; numbers ~1 byte per 2 digits + 1), the size its
 * write units and storage are billed by (docs/operations.md#cost-model).
 */
export function dynamoItemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(value.N.replace(/^-|\.|e.*$/g, '').length / 2) + 1;
    else bytes += Buffer.byteLength(JSON.stringify(value));
  }
  return bytes;
}
