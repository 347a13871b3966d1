import type { CalibrationReport } from './calibrate.js';
import { aucVerdict, fmt, notes } from './format.js';

const MAX_CHANGES_LISTED = 50;

/** The Markdown report: the same findings as the HTML one, as tables. */
export function renderMarkdown(report: CalibrationReport, suggestedFile: string): string {
  const written = `Written to \`${suggestedFile}\` (version ${report.model.version + 1}).`;
  const { model, current, suggested, suggestion } = report;
  const lines: string[] = [];
  const push = (...l: string[]): void => {
    lines.push(...l);
  };
  push(
    `# Calibration of model \`${model.name}\` v${model.version}`,
    '',
    `Generated ${report.generatedAt}. ${current.n.toLocaleString('en-US')} outcomes (${current.bad.toLocaleString('en-US')} churned, ${current.good.toLocaleString('en-US')} retained/renewed/upgraded), each scored ${report.horizonDays} days before its outcome.`,
    '',
    '## How well the score predicts outcomes',
    '',
    `**AUC ${fmt.auc(current.auc)}** (95% bootstrap CI ${fmt.auc(current.aucCi[0])}–${fmt.auc(current.aucCi[1])}): ${aucVerdict(current.auc)}. ` +
      'AUC is the probability that an entity with a good outcome scores higher than one that churned (ties count half); 0.5 is chance.',
    '',
    '## Churn by band',
    '',
    '| band | entities | churned | churn rate |',
    '|---|---:|---:|---:|',
    ...current.bands.map((b) => `| ${b.band} | ${fmt.num(b.n)} | ${fmt.num(b.bad)} | ${fmt.pct(b.badRate)} |`),
    '',
    current.monotonic
      ? 'Churn falls (or stays level) from each band to the next higher one: the bands are ordered the way they should be.'
      : '**Churn does not fall monotonically with band**: a higher band churns more than a lower one. Revisit the band boundaries or the weights.',
    '',
    `Bottom decile: the lowest-scoring 10% churn at ${fmt.pct(current.bottomDecile.badRate)} against ${fmt.pct(current.bottomDecile.overallBadRate)} overall — a lift of **${fmt.times(current.bottomDecile.lift)}**.`,
    '',
    '## Each signal on its own',
    '',
    'AUC of the signal’s value alone (above 0.5: more of it goes with good outcomes).',
    '',
    '| signal | weight | AUC | sign agrees with data |',
    '|---|---:|---:|---|',
    ...report.signals.map(
      (s) =>
        `| ${s.name} | ${s.weight === null ? 'tiers' : fmt.num(s.weight)} | ${fmt.auc(s.auc)} | ${s.agrees === null ? '–' : s.agrees ? 'yes' : '**no**'} |`,
    ),
    '',
    '## Suggested weights',
    '',
    `Fitted by L2-regularised logistic regression on standardised features: each weighted signal gets the transform (none, log1p, sqrt) that fits it best alone, λ = ${fmt.num(suggestion.lambda)} is chosen by 5-fold cross-validation, ${report.constraints.length === 0 ? 'and no weight takes the sign opposite to its signal’s own AUC' : 'a weight never takes the sign opposite to its signal’s own AUC'}; the weights are then scaled so the suggested raw scores spread like the current ones. ${written}`,
    '',
    '| signal / penalty | current | suggested | transform | own AUC | effect per SD (log-odds) |',
    '|---|---:|---:|---|---:|---:|',
    ...suggestion.signals.map(
      (s) =>
        `| ${s.name}${s.kind === 'tiers' ? ' (tier points ×)' : ''} | ${fmt.num(s.current)} | ${fmt.num(s.suggested)}${s.kept ? ' (kept: no variation)' : ''}${s.bound ? ' (held at 0: sign constraint)' : ''} | ${s.kind === 'tiers' ? '–' : s.currentTransform === s.transform ? s.transform : `${s.currentTransform} → ${s.transform}`} | ${fmt.auc(s.auc)} | ${s.standardized.toFixed(3)} |`,
    ),
    ...suggestion.penalties.map(
      (p) =>
        `| penalty ${p.name} | ${fmt.num(p.current)} | ${fmt.num(p.suggested)}${p.kept ? ' (kept: never varied)' : ''}${p.bound ? ' (held at 0: sign constraint)' : ''} | – | ${fmt.auc(p.auc)} | ${p.standardized.toFixed(3)} |`,
    ),
    '',
    ...(report.constraints.length > 0
      ? [
          `Sign constraints that bound (pass \`--allow-sign-flip\` to lift them): ${report.constraints.map((c) => `${c.kind} \`${c.name}\` (own AUC ${fmt.auc(c.auc)})`).join(', ')}.`,
          '',
        ]
      : []),
    '## Out of sample',
    '',
    '| | AUC |',
    '|---|---:|',
    `| current model (not fitted to these outcomes) | ${fmt.auc(current.auc)} |`,
    `| best single signal${report.bestSingle ? ` (\`${report.bestSingle.name}\`)` : ''} | ${report.bestSingle ? fmt.auc(report.bestSingle.auc) : '–'} |`,
    `| suggestion, 5-fold cross-validated (everything refitted per fold) | ${fmt.auc(report.crossValidatedAuc)} |`,
    ...(report.outOfTime
      ? [
          `| suggestion out of time: fitted on ${fmt.num(report.outOfTime.fitN)} outcomes before ${report.outOfTime.splitDate}, scored on ${fmt.num(report.outOfTime.testN)} after | ${fmt.auc(report.outOfTime.suggestedAuc)} |`,
          `| current model on the same later outcomes | ${fmt.auc(report.outOfTime.currentAuc)} |`,
          `| best single signal on the same later outcomes | ${fmt.auc(report.outOfTime.bestSingleAuc)} |`,
        ]
      : []),
    '',
    ...(report.outOfTime ? [] : [`Out-of-time check not run: ${report.outOfTimeSkipped}.`, '']),
    '## Bands before and after',
    '',
    report.bandFit.method === 'shares'
      ? 'The suggested model’s band cut-offs are refitted on its own scale so each band keeps the share of entities the current model gives it here.'
      : `The suggested model’s band cut-offs sit where the fitted churn rate falls to ${report.bandFit.rates.map((r) => fmt.pct(r)).join(', ')}.`,
    '',
    '| band | current min | entities | churn rate | suggested min | entities | churn rate |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...report.bandsBefore.map((b, k) => {
      const a = report.bandsAfter[k]!;
      return `| ${b.band} | ${b.min === null ? '–' : fmt.num(b.min)} | ${fmt.num(b.n)} (${fmt.pct(b.share)}) | ${fmt.pct(b.badRate)} | ${a.min === null ? '–' : fmt.num(a.min)} | ${fmt.num(a.n)} (${fmt.pct(a.share)}) | ${fmt.pct(a.badRate)} |`;
    }),
    '',
    ...(report.warnings.length > 0 ? ['## Warnings', '', ...report.warnings.map((w) => `- **${w}**`), ''] : []),
    '## Shadow comparison: current vs suggested',
    '',
    '| | current | suggested |',
    '|---|---:|---:|',
    `| AUC (same outcomes) | ${fmt.auc(current.auc)} | ${fmt.auc(suggested.auc)} |`,
    `| AUC 95% CI | ${fmt.auc(current.aucCi[0])}–${fmt.auc(current.aucCi[1])} | ${fmt.auc(suggested.aucCi[0])}–${fmt.auc(suggested.aucCi[1])} |`,
    `| AUC cross-validated (5 folds) | – | ${fmt.auc(report.crossValidatedAuc)} |`,
    `| bottom-decile lift | ${fmt.times(current.bottomDecile.lift)} | ${fmt.times(suggested.bottomDecile.lift)} |`,
    `| churn falls with band | ${current.monotonic ? 'yes' : 'no'} | ${suggested.monotonic ? 'yes' : 'no'} |`,
    '',
    `${report.bandChanges.length.toLocaleString('en-US')} of ${current.n.toLocaleString('en-US')} entities would change band.`,
    '',
    `| current band ↓ / suggested → | ${model.bands.map((b) => b.name).join(' | ')} |`,
    `|---|${model.bands.map(() => '---:').join('|')}|`,
    ...model.bands.map(
      (b) => `| ${b.name} | ${model.bands.map((c) => fmt.num(report.bandMatrix[b.name]![c.name]!)).join(' | ')} |`,
    ),
    '',
  );
  if (report.bandChanges.length > 0) {
    push(
      `Entities that would change band${report.bandChanges.length > MAX_CHANGES_LISTED ? ` (first ${MAX_CHANGES_LISTED})` : ''}:`,
      '',
      '| entity | outcome date | outcome | band now | suggested band | score now | suggested score |',
      '|---|---|---|---|---|---:|---:|',
      ...report.bandChanges
        .slice(0, MAX_CHANGES_LISTED)
        .map(
          (c) =>
            `| ${escapeCell(c.entityId)} | ${c.outcomeDate} | ${c.good ? 'good' : 'churned'} | ${c.from} | ${c.to} | ${fmt.num(c.score)} | ${fmt.num(c.suggestedScore)} |`,
        ),
      '',
    );
  }
  push('## Notes', '', ...notes(report).map((n) => `- ${n}`), '');
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[\r\n]/g, ' ');
}
