import type { LoadedModel } from '../domain/model/load.js';
import type { RunRecord, RunStore } from '../ports/run-store.js';
import type { HistoryEntry, StoredScore } from '../ports/score-store.js';
import type { ApiRouteDeps, RunProgressView } from './api-routes.js';

/** The JSON views of the scores API's resources (docs/api.md). */

export function scoreView(s: StoredScore) {
  return {
    model: s.model,
    modelVersion: s.modelVersion,
    asOf: s.asOf,
    windowDays: s.windowDays,
    score: s.score,
    rawScore: s.rawScore,
    band: s.band,
    previousScore: s.previousScore,
    delta: s.delta,
    previousBand: s.previousBand,
    coverage: s.coverage,
    contributions: s.contributions,
    penalties: s.penalties,
    reasons: s.reasons,
    ...(s.groups ? { groups: s.groups } : {}),
    override: s.override ?? null,
  };
}

export function historyView(h: HistoryEntry) {
  return {
    asOf: h.asOf,
    model: h.model,
    modelVersion: h.modelVersion,
    score: h.score,
    rawScore: h.rawScore,
    band: h.band,
    delta: h.delta,
    override: h.override ?? null,
  };
}

export function modelView({ model, contentHash }: LoadedModel) {
  return {
    name: model.name,
    version: model.version,
    description: model.description ?? null,
    level: model.level,
    windowDays: model.windowDays,
    timezone: model.timezone,
    cadence: model.cadence,
    signals: model.signals.map((s) => s.name),
    penalties: model.penalties.map((p) => p.name),
    bands: model.bands.map((b) => ({ name: b.name, min: b.min ?? null })),
    contentHash,
  };
}

export async function runView(run: RunRecord, runs: RunStore, progressOf: ApiRouteDeps['progressOf']) {
  const ended = run.status === 'succeeded' || run.status === 'failed';
  let progress: RunProgressView = (!ended && progressOf?.(run.runId)) || { done: ended ? 1 : 0, total: 1 };
  if (run.kind === 'backfill') {
    const children = run.runs ?? [];
    let done = 0;
    for (const id of children) {
      const child = await runs.get(id);
      if (child && (child.status === 'succeeded' || child.status === 'failed')) done++;
    }
    progress = { done, total: children.length };
  }
  return {
    runId: run.runId,
    kind: run.kind,
    model: run.model,
    modelVersion: run.modelVersion,
    asOf: run.asOf,
    date: run.date,
    status: run.status,
    counts: run.counts,
    snapshot: run.snapshot,
    error: run.error,
    ...(run.alertCounts ? { alerts: run.alertCounts } : {}),
    ...(run.summary ? { summary: run.summary } : {}),
    ...(run.runs ? { runs: run.runs } : {}),
    progress,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}
