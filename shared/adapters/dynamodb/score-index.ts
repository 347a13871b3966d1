import { z } from 'zod';

/** The byScore index of the scores table (docs/data-model.md): partitions, sort keys and the list cursor. */

/**
 * Each band of a model is spread over this many index partitions (by entity shard), so a run writing a million
 * scores is not capped by one GSI partition's ~1,000 writes a second; listing merges the spread partitions.
 */
export const SCORE_INDEX_SPREAD = 8;

export const bandPartition = (model: string, band: string, g: number) => `SCORE#${model}#${band}#${g}`;

/**
 * A fixed-width hex string whose lexicographic order is the numeric order of any double (negative scores
 * included): flip the sign bit of positives, every bit of negatives.
 */
export function sortableNumber(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x === 0 ? 0 : x);
  let hi = view.getUint32(0);
  let lo = view.getUint32(4);
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else hi = (hi | 0x80000000) >>> 0;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** A key of the byScore index: `<16 hex digits>#<type>#<id>`. */
const INDEX_KEY = /^[0-9a-f]{16}#(user|account)#.+$/s;

/** The score list's position: model, band filter, band index of the walk, last key read per index partition. */
export const ScoreCursorSchema = z
  .object({
    m: z.string(),
    f: z.string().nullable(),
    b: z.number().int().min(0),
    a: z.array(z.string().max(2048).regex(INDEX_KEY).nullable()).length(SCORE_INDEX_SPREAD),
  })
  .strict();
