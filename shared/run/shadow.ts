import { createNormalizer, finalizeScore } from '../domain/engine/finalize.js';
import type { RawScore, ReasonForChange } from '../domain/engine/types.js';
import type { Model } from '../domain/model/schema.js';
import { resolveAsOf } from '../domain/time.js';
import type { StoredScore } from '../ports/score-store.js';
import { mapLimit } from './concurrency.js';
import type { RunDeps } from './deps.js';
import { previousOf } from './previous.js';
import { scoreShard } from './worker.js';

export interface ShadowRequest {
  /** The draft model (validated, not necessarily active). */
  draft: Model;
  /** A date or ISO instant, as for runs. */
  asOf: string;
  /** The live model whose current scores the draft is compared with (default: the draft's name). */
  compareWith?: string | undefined;
  concurrency?: number | undefined;
}

export interface BandChange {
  entityType: RawScore['entityType'];
  entityId: string;
  from: { band: string; score: number; asOf: string; modelVersion: number };
  to: { band: string; score: number };
  /** The signals and penalties whose points differ most between the live score and the draft's. */
  reasons: ReasonForChange[];
}

export interface ShadowReport {
  model: string;
  draftVersion: number;
  compareWith: string;
  asOf: string;
  date: string;
  /** Entities the draft scores. */
  entities: number;
  /** Of those, entities without a live score to compare with. */
  newEntities: number;
  unchanged: number;
  /** Band counts of the live scores (of entities the draft scores) and of the draft. */
  bands: { live: Record<string, number>; draft: Record<string, number> };
  /** Entities whose band would change, largest score move first. */
  changes: BandChange[];
}

/**
 * Evaluate a draft model as of a date without publishing anything (no scores, snapshot or alerts written) and
 * report which entities would change band compared with the live model's current scores, and why.
 */
export async function shadowRun(
  deps: Pick<RunDeps, 'events' | 'entities' | 'scores'>,
  request: ShadowRequest,
): Promise<ShadowReport> {
  const draft = request.draft;
  const compareWith = request.compareWith ?? draft.name;
  const asOf = resolveAsOf(request.asOf, draft.timezone);
  const asOfIso = new Date(asOf.instant).toISOString();
  const shards = Array.from({ length: deps.events.shardCount }, (_, i) => i);
  const scored: { raw: RawScore; current: StoredScore | undefined }[] = [];
  await mapLimit(shards, request.concurrency ?? 4, async (shard) => {
    const result = await scoreShard(deps, draft, asOf.instant, shard, compareWith);
    for (const raw of result.raws) scored.push({ raw, current: result.currents.get(raw.entityId) });
  });
  const normalize = createNormalizer(
    draft,
    Float64Array.from(scored, (s) => s.raw.rawScore),
  );
  const report: ShadowReport = {
    model: draft.name,
    draftVersion: draft.version,
    compareWith,
    asOf: asOfIso,
    date: asOf.date,
    entities: scored.length,
    newEntities: 0,
    unchanged: 0,
    bands: { live: {}, draft: {} },
    changes: [],
  };
  for (const { raw, current } of scored) {
    const score = finalizeScore(draft, raw, {
      asOf: asOfIso,
      normalize,
      previous: current ? previousOf(current) : undefined,
    });
    report.bands.draft[score.band] = (report.bands.draft[score.band] ?? 0) + 1;
    if (!current) {
      report.newEntities++;
      continue;
    }
    report.bands.live[current.band] = (report.bands.live[current.band] ?? 0) + 1;
    if (current.band === score.band) {
      report.unchanged++;
      continue;
    }
    report.changes.push({
      entityType: raw.entityType,
      entityId: raw.entityId,
      from: { band: current.band, score: current.score, asOf: current.asOf, modelVersion: current.modelVersion },
      to: { band: score.band, score: score.score },
      reasons: score.reasons,
    });
  }
  report.changes.sort(
    (a, b) =>
      Math.abs(b.to.score - b.from.score) - Math.abs(a.to.score - a.from.score) || (a.entityId < b.entityId ? -1 : 1),
  );
  return report;
}
