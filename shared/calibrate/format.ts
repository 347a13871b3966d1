import type { CalibrationReport } from './calibrate.js';

/** Where the scores came from, for a report's subtitle. */
export function sourceLine(report: CalibrationReport): string {
  const b = report.backtest;
  if (b.source.kind === 'snapshots') {
    const dates = b.snapshots?.dates ?? [];
    return `published snapshots ${dates[0] ?? '–'} to ${dates[dates.length - 1] ?? '–'}`;
  }
  return `events ${fmt.date(b.events.firstAt)} to ${fmt.date(b.events.lastAt)}`;
}

export const fmt = {
  auc: (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(3)),
  pct: (x: number | null): string => (x === null || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)}%`),
  num: (x: number): string => (Number.isInteger(x) ? x.toLocaleString('en-US') : String(Math.round(x * 100) / 100)),
  times: (x: number): string => (Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)}×`),
  date: (ms: number | null): string => (ms === null ? '–' : new Date(ms).toISOString().slice(0, 10)),
};

/** A plain-words reading of an AUC. */
export function aucVerdict(auc: number): string {
  if (Number.isNaN(auc)) return 'cannot be computed';
  if (auc < 0.5) return 'worse than chance: the score ranks churners above retained entities';
  if (auc < 0.6) return 'barely better than chance';
  if (auc < 0.7) return 'weak';
  if (auc < 0.8) return 'useful';
  if (auc < 0.9) return 'strong';
  return 'very strong (check that nothing after the as-of leaks into the score)';
}

/** Sentences both reports end with: what was left out or approximated, so nobody over-reads the numbers. */
export function notes(report: CalibrationReport): string[] {
  const out: string[] = [];
  const b = report.backtest;
  const m = report.model;
  if (b.source.kind === 'snapshots') {
    const snap = b.snapshots;
    const dates = snap?.dates ?? [];
    out.push(
      `Scores were read from the published snapshots in ${b.source.label} (${dates.length} partition(s)${dates.length > 0 ? `, dt=${dates[0]} to dt=${dates[dates.length - 1]}` : ''}), not replayed: these are the scores as they were published. Each outcome used the partition of its outcome date minus ${report.horizonDays} days${snap && snap.fallbacks > 0 ? `; ${snap.fallbacks} used an earlier partition (up to 7 days) because theirs was missing` : ''}.`,
    );
    if (snap?.versions.some((v) => v !== m.version))
      out.push(
        `The snapshots were published by version(s) ${snap.versions.join(', ')} of the model; the model given is version ${m.version}. Scores and signal values are the published ones; the suggested weights apply to version ${m.version}’s signals.`,
      );
    if (snap && snap.missingSignals.length > 0)
      out.push(
        `No snapshot row had a value for ${snap.missingSignals.join(', ')} (a signal added after those runs?): it reads as 0 and keeps its weight.`,
      );
  } else {
    const from = b.source.kind === 'store' ? `, read from ${b.source.label}` : '';
    out.push(
      `Each entity was scored as of its outcome date minus ${report.horizonDays} days (${b.runs} distinct as-of dates), replaying only events strictly before that instant${from}.`,
    );
  }
  if (b.skipped.length > 0)
    out.push(
      b.source.kind === 'snapshots'
        ? `${b.skipped.length} outcome(s) were left out because their entity is not in the snapshot matched with them (--skip-unknown).`
        : `${b.skipped.length} outcome(s) were left out because their entity never appears in the events (--skip-unknown).`,
    );
  if (b.unscored.length > 0) {
    const first = b.unscored[0]!;
    out.push(
      `${b.unscored.length} outcome(s) could not be scored and were left out (first: line ${first.outcome.line}, ${first.outcome.outcomeDate}: ${first.reason}).`,
    );
  }
  if (b.events.invalid > 0)
    out.push(
      `${b.events.invalid} of ${b.events.lines} event line(s) were not valid events and were ignored (first: ${b.events.invalidSamples.map((s) => `line ${s.line}: ${s.message}`).join('; ')}).`,
    );
  if (b.partialHistory > 0)
    out.push(
      `${b.partialHistory} outcome(s) had less than a full ${m.windowDays}-day window of events before their as-of (the events start ${fmt.date(b.events.firstAt)}); their scores may read low.`,
    );
  if (m.appliesTo && m.appliesTo.length > 0 && b.source.kind !== 'snapshots')
    out.push('The model’s appliesTo filter was not applied: the outcomes file chooses who is scored.');
  if (m.normalize.method === 'percentile')
    out.push(
      b.source.kind === 'snapshots'
        ? 'Published percentile scores were ranked within their run; suggested scores are ranked among all calibrated entities together.'
        : 'Percentile scores were ranked among all backtested entities together (not per as-of date).',
    );
  if (m.level === 'account' && (m.rollup === 'mean' || m.rollup === 'max'))
    out.push(`Suggested scores re-weight the rolled-up (${m.rollup}) values: an approximation of a full re-run.`);
  out.push(
    'The suggested model’s AUC is in-sample (fitted and measured on the same outcomes) and so optimistic; the cross-validated AUC (5 folds, on the fitted log-odds before rounding, normalisation and clamping) is the honest estimate of how the fitted weights do on new outcomes.',
  );
  return out;
}
