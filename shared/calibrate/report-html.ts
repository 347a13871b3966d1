import type { RocPoint } from './auc.js';
import type { CalibrationReport } from './calibrate.js';
import type { BandStat } from './evaluate.js';
import { aucVerdict, fmt, notes, sourceLine } from './format.js';

/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing fetched) with the ROC curve,
 * churn rate by band, the score distribution by outcome and each signal's AUC, then the tables of the Markdown
 * report.
 */
export function renderHtml(report: CalibrationReport, suggestedFile: string): string {
  const { model, current, suggested, suggestion } = report;
  const title = `Calibration of ${model.name} v${model.version}`;
  const cards = [
    card(
      'AUC',
      fmt.auc(current.auc),
      `95% CI ${fmt.auc(current.aucCi[0])}–${fmt.auc(current.aucCi[1])} · ${aucVerdict(current.auc)}`,
    ),
    card(
      'Bottom-decile lift',
      fmt.times(current.bottomDecile.lift),
      `lowest 10% churn ${fmt.pct(current.bottomDecile.badRate)} vs ${fmt.pct(current.bottomDecile.overallBadRate)} overall`,
    ),
    card(
      'Outcomes',
      fmt.num(current.n),
      `${fmt.num(current.bad)} churned · ${fmt.num(current.good)} good · scored ${report.horizonDays} days before`,
    ),
    card(
      'Suggested weights',
      fmt.auc(suggested.auc),
      `in-sample AUC · ${fmt.auc(report.crossValidatedAuc)} cross-validated · ${fmt.num(report.bandChanges.length)} band changes`,
    ),
  ].join('');
  const weightRows = [
    ...suggestion.signals.map(
      (s) =>
        `<tr><td>${esc(s.name)}${s.kind === 'tiers' ? ' <small>(tier points ×)</small>' : ''}</td><td class="n">${fmt.num(s.current)}</td><td class="n">${fmt.num(s.suggested)}${s.kept ? ' <small>kept</small>' : ''}${s.bound ? ' <small class="bad">held at 0 (sign)</small>' : ''}</td><td>${s.kind === 'tiers' ? '–' : esc(s.transform)}</td><td class="n">${s.standardized.toFixed(3)}</td></tr>`,
    ),
    ...suggestion.penalties.map(
      (p) =>
        `<tr><td>penalty ${esc(p.name)}</td><td class="n">${fmt.num(p.current)}</td><td class="n">${fmt.num(p.suggested)}${p.kept ? ' <small>kept</small>' : ''}${p.bound ? ' <small class="bad">held at 0 (sign)</small>' : ''}</td><td>–</td><td class="n">${p.standardized.toFixed(3)}</td></tr>`,
    ),
  ].join('');
  const bandRows = report.bandsBefore
    .map((b, i) => {
      const s = report.bandsAfter[i]!;
      return `<tr><td>${esc(b.band)}</td><td class="n">${b.min === null ? '–' : fmt.num(b.min)}</td><td class="n">${fmt.num(b.n)} (${fmt.pct(b.share)})</td><td class="n">${fmt.pct(b.badRate)}</td><td class="n">${s.min === null ? '–' : fmt.num(s.min)}</td><td class="n">${fmt.num(s.n)} (${fmt.pct(s.share)})</td><td class="n">${fmt.pct(s.badRate)}</td></tr>`;
    })
    .join('');
  const warnings =
    report.warnings.length > 0
      ? `<h2>Warnings</h2><ul class="notes">${report.warnings.map((w) => `<li class="bad">${esc(w)}</li>`).join('')}</ul>`
      : '';
  const oot = report.outOfTime
    ? `<tr><td>Suggestion out of time (fitted before ${esc(report.outOfTime.splitDate)}, ${fmt.num(report.outOfTime.testN)} later outcomes)</td><td class="n">${fmt.auc(report.outOfTime.currentAuc)}</td><td class="n">${fmt.auc(report.outOfTime.suggestedAuc)}</td></tr><tr><td>Best single signal on the later outcomes</td><td class="n" colspan="2">${fmt.auc(report.outOfTime.bestSingleAuc)}</td></tr>`
    : `<tr><td>Out of time</td><td colspan="2"><small>not run: ${esc(report.outOfTimeSkipped ?? '')}</small></td></tr>`;
  const constraints =
    report.constraints.length > 0
      ? `<p>Held at 0 by the sign constraint (<code>--allow-sign-flip</code> lifts it): ${report.constraints.map((c) => `${esc(c.name)} (own AUC ${fmt.auc(c.auc)})`).join(', ')}.</p>`
      : '';
  const matrix = `<table><thead><tr><th>now ↓ / suggested →</th>${model.bands.map((b) => `<th class="n">${esc(b.name)}</th>`).join('')}</tr></thead><tbody>${model.bands
    .map(
      (b) =>
        `<tr><th>${esc(b.name)}</th>${model.bands
          .map((c) => {
            const v = report.bandMatrix[b.name]![c.name]!;
            return `<td class="n${b.name === c.name ? ' same' : v > 0 ? ' moved' : ''}">${fmt.num(v)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
  const changes = report.bandChanges
    .slice(0, 50)
    .map(
      (c) =>
        `<tr><td>${esc(c.entityId)}</td><td>${esc(c.outcomeDate)}</td><td>${c.good ? 'good' : '<b class="bad">churned</b>'}</td><td>${esc(c.from)} → ${esc(c.to)}</td><td class="n">${fmt.num(c.score)} → ${fmt.num(c.suggestedScore)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
:root { --good: #2a9d8f; --bad: #e76f51; --cur: #264653; --sug: #f4a261; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 0; background: #f9fafb; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 36px 0 12px; }
.sub { color: var(--muted); margin: 0 0 24px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .k { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 30px; font-weight: 650; margin: 2px 0; }
.card .d { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
figcaption { font-weight: 600; margin-bottom: 6px; } figcaption small { font-weight: 400; color: var(--muted); }
svg { width: 100%; height: auto; display: block; } svg text { font: 12px system-ui, sans-serif; fill: #374151; }
table { border-collapse: collapse; background: #fff; width: 100%; border: 1px solid var(--line); }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; }
.n { text-align: right; font-variant-numeric: tabular-nums; } .same { color: var(--muted); } .moved { background: #fff4e6; font-weight: 600; }
.bad { color: var(--bad); } .ok { color: var(--good); }
ul.notes { color: #374151; } code { background: #eef2f7; padding: 1px 4px; border-radius: 4px; }
</style>
</head>
<body><main>
<h1>${esc(title)}</h1>
<p class="sub">Generated ${esc(report.generatedAt)} · window ${model.windowDays} days · horizon ${report.horizonDays} days · ${esc(sourceLine(report))}</p>
<section class="cards">${cards}</section>
<h2>Charts</h2>
<section class="charts">
<figure><figcaption>ROC curve <small>higher and further left is better; the diagonal is chance</small></figcaption>${rocChart(current.roc, suggested.roc, current.auc, suggested.auc)}</figure>
<figure><figcaption>Churn rate by band <small>${current.monotonic ? '<span class="ok">falls with every band</span>' : '<span class="bad">does not fall monotonically</span>'}</small></figcaption>${bandChart(current.bands)}</figure>
<figure><figcaption>Score distribution by outcome <small>good outcomes should sit to the right</small></figcaption>${histogram(report.scores)}</figure>
<figure><figcaption>Each signal’s own AUC <small>right of 0.5: more of it goes with good outcomes</small></figcaption>${signalChart(report.signals)}</figure>
</section>
${warnings}
<h2>Bands before and after <small>${report.bandFit.method === 'shares' ? 'suggested cut-offs keep the current band shares' : 'suggested cut-offs at target churn rates'}</small></h2>
<table><thead><tr><th>band</th><th class="n">min now</th><th class="n">entities now</th><th class="n">churn now</th><th class="n">suggested min</th><th class="n">entities suggested</th><th class="n">churn suggested</th></tr></thead><tbody>${bandRows}</tbody></table>
<h2>Suggested weights <small>(<code>${esc(suggestedFile)}</code>, version ${model.version + 1})</small></h2>
<p>L2-regularised logistic regression on standardised features, a transform per signal, λ = ${fmt.num(suggestion.lambda)} chosen by 5-fold cross-validation, sign constraints; scaled so the suggested raw scores spread like the current ones.</p>
${constraints}
<table><thead><tr><th>signal / penalty</th><th class="n">current</th><th class="n">suggested</th><th>transform</th><th class="n">log-odds per SD</th></tr></thead><tbody>${weightRows}</tbody></table>
<h2>Shadow comparison</h2>
<table><thead><tr><th></th><th class="n">current</th><th class="n">suggested</th></tr></thead><tbody>
<tr><td>AUC (same outcomes)</td><td class="n">${fmt.auc(current.auc)}</td><td class="n">${fmt.auc(suggested.auc)}</td></tr>
<tr><td>AUC 95% CI</td><td class="n">${fmt.auc(current.aucCi[0])}–${fmt.auc(current.aucCi[1])}</td><td class="n">${fmt.auc(suggested.aucCi[0])}–${fmt.auc(suggested.aucCi[1])}</td></tr>
<tr><td>AUC cross-validated (5 folds, refitted per fold)</td><td class="n">–</td><td class="n">${fmt.auc(report.crossValidatedAuc)}</td></tr>
<tr><td>Best single signal${report.bestSingle ? ` (${esc(report.bestSingle.name)})` : ''}</td><td class="n" colspan="2">${report.bestSingle ? fmt.auc(report.bestSingle.auc) : '–'}</td></tr>
${oot}
<tr><td>Bottom-decile lift</td><td class="n">${fmt.times(current.bottomDecile.lift)}</td><td class="n">${fmt.times(suggested.bottomDecile.lift)}</td></tr>
</tbody></table>
<h2>Band changes <small>${fmt.num(report.bandChanges.length)} of ${fmt.num(current.n)} entities</small></h2>
${matrix}
${changes ? `<p></p><table><thead><tr><th>entity</th><th>outcome date</th><th>outcome</th><th>band</th><th class="n">score</th></tr></thead><tbody>${changes}</tbody></table>` : ''}
<h2>Notes</h2>
<ul class="notes">${notes(report)
    .map((n) => `<li>${esc(n)}</li>`)
    .join('')}</ul>
</main></body>
</html>
`;
}

function card(key: string, value: string, detail: string): string {
  return `<div class="card"><div class="k">${esc(key)}</div><div class="v">${esc(value)}</div><div class="d">${esc(detail)}</div></div>`;
}

/** Chart colours (SVG attributes take literal colours). */
const C = { good: '#2a9d8f', bad: '#e76f51', current: '#264653', suggested: '#f4a261' };

const W = 480;
const H = 320;
const PAD = { left: 64, right: 16, top: 12, bottom: 40 };
const IW = W - PAD.left - PAD.right;
const IH = H - PAD.top - PAD.bottom;

function frame(id: string, label: string, body: string, height = H): string {
  return `<svg id="${id}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

/** Axis with ticks from 0 to 1 on both sides (ROC) or custom y ticks. */
function axes(
  xTicks: { at: number; label: string }[],
  yTicks: { at: number; label: string }[],
  xTitle: string,
  yTitle: string,
): string {
  const x0 = PAD.left;
  const y0 = PAD.top + IH;
  const parts = [
    `<line x1="${x0}" y1="${y0}" x2="${x0 + IW}" y2="${y0}" stroke="#9ca3af"/>`,
    `<line x1="${x0}" y1="${PAD.top}" x2="${x0}" y2="${y0}" stroke="#9ca3af"/>`,
    ...xTicks.map((t) => `<text x="${r(x0 + t.at * IW)}" y="${y0 + 16}" text-anchor="middle">${esc(t.label)}</text>`),
    ...yTicks.map(
      (t) =>
        `<line x1="${x0}" y1="${r(y0 - t.at * IH)}" x2="${x0 + IW}" y2="${r(y0 - t.at * IH)}" stroke="#f3f4f6"/><text x="${x0 - 6}" y="${r(y0 - t.at * IH + 4)}" text-anchor="end">${esc(t.label)}</text>`,
    ),
    `<text x="${x0 + IW / 2}" y="${H - 6}" text-anchor="middle">${esc(xTitle)}</text>`,
    `<text transform="translate(12 ${PAD.top + IH / 2}) rotate(-90)" text-anchor="middle">${esc(yTitle)}</text>`,
  ];
  return parts.join('');
}

const unitTicks = [0, 0.25, 0.5, 0.75, 1].map((at) => ({ at, label: at.toFixed(2) }));

export function rocChart(current: RocPoint[], suggested: RocPoint[], currentAuc: number, suggestedAuc: number): string {
  const path = (points: RocPoint[]): string =>
    thin(points)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${r(PAD.left + p.fpr * IW)},${r(PAD.top + IH - p.tpr * IH)}`)
      .join('');
  const body = [
    axes(unitTicks, unitTicks, 'false positive rate (churned ranked high)', 'true positive rate (good ranked high)'),
    `<line x1="${PAD.left}" y1="${PAD.top + IH}" x2="${PAD.left + IW}" y2="${PAD.top}" stroke="#9ca3af" stroke-dasharray="4 4"/>`,
    `<path class="roc-current" d="${path(current)}" fill="none" stroke="${C.current}" stroke-width="2.5"/>`,
    `<path class="roc-suggested" d="${path(suggested)}" fill="none" stroke="${C.suggested}" stroke-width="2" stroke-dasharray="6 3"/>`,
    legend(PAD.left + IW - 190, PAD.top + IH - 46, [
      { color: C.current, label: `current (AUC ${fmt.auc(currentAuc)})` },
      { color: C.suggested, label: `suggested (AUC ${fmt.auc(suggestedAuc)})` },
    ]),
  ].join('');
  return frame('roc-chart', `ROC curve, AUC ${fmt.auc(currentAuc)}`, body);
}

export function bandChart(bands: BandStat[]): string {
  const max = Math.max(0.05, ...bands.map((b) => b.badRate ?? 0));
  const top = niceCeil(max);
  const slot = IW / bands.length;
  const barW = Math.min(80, slot * 0.6);
  const bars = bands.map((b, i) => {
    const x = PAD.left + slot * i + (slot - barW) / 2;
    const h = ((b.badRate ?? 0) / top) * IH;
    const y = PAD.top + IH - h;
    return [
      `<rect class="band-bar" x="${r(x)}" y="${r(y)}" width="${r(barW)}" height="${r(h)}" fill="${C.bad}" rx="3"><title>${esc(b.band)}: ${fmt.pct(b.badRate)} churned of ${b.n}</title></rect>`,
      `<text x="${r(x + barW / 2)}" y="${r(y - 4)}" text-anchor="middle">${b.badRate === null ? 'no data' : fmt.pct(b.badRate)}</text>`,
      `<text x="${r(x + barW / 2)}" y="${PAD.top + IH + 16}" text-anchor="middle">${esc(b.band)} (n=${fmt.num(b.n)})</text>`,
    ].join('');
  });
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ at: f, label: `${Math.round(1000 * f * top) / 10}%` }));
  const body = [axes([], yTicks, '', 'churn rate'), ...bars].join('');
  return frame('band-chart', 'Churn rate by band', body);
}

export function histogram(scores: { score: number; good: boolean }[], bins = 20): string {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of scores) {
    if (s.score < lo) lo = s.score;
    if (s.score > hi) hi = s.score;
  }
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const good = new Array<number>(bins).fill(0);
  const bad = new Array<number>(bins).fill(0);
  for (const s of scores) {
    const b = Math.min(bins - 1, Math.floor((s.score - lo) / width));
    (s.good ? good : bad)[b]!++;
  }
  const top = niceCeil(Math.max(1, ...good.map((g, i) => g + bad[i]!)));
  const barW = IW / bins;
  const rects: string[] = [];
  for (let i = 0; i < bins; i++) {
    const x = PAD.left + i * barW;
    const hb = (bad[i]! / top) * IH;
    const hg = (good[i]! / top) * IH;
    const yb = PAD.top + IH - hb;
    const range = `${fmt.num(lo + i * width)}–${fmt.num(lo + (i + 1) * width)}`;
    rects.push(
      `<rect class="hist-bad" x="${r(x + 1)}" y="${r(yb)}" width="${r(barW - 2)}" height="${r(hb)}" fill="${C.bad}"><title>${range}: ${bad[i]} churned</title></rect>`,
      `<rect class="hist-good" x="${r(x + 1)}" y="${r(yb - hg)}" width="${r(barW - 2)}" height="${r(hg)}" fill="${C.good}"><title>${range}: ${good[i]} good</title></rect>`,
    );
  }
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({
    at: f,
    label: fmt.num(Math.round((lo + f * (hi - lo)) * 10) / 10),
  }));
  const yTicks = [0, 0.5, 1].map((f) => ({ at: f, label: fmt.num(Math.round(f * top)) }));
  const body = [
    axes(xTicks, yTicks, 'score', 'entities'),
    ...rects,
    legend(PAD.left + IW - 120, PAD.top + 4, [
      { color: C.good, label: 'good outcome' },
      { color: C.bad, label: 'churned' },
    ]),
  ].join('');
  return frame('score-histogram', 'Score distribution by outcome', body);
}

export function signalChart(signals: { name: string; auc: number }[]): string {
  const rowH = Math.min(28, IH / Math.max(1, signals.length));
  const left = 150;
  const innerW = W - left - PAD.right - 40;
  const xOf = (a: number): number => left + a * innerW;
  const bars = signals.map((s, i) => {
    const y = PAD.top + i * rowH;
    const a = Number.isNaN(s.auc) ? 0.5 : s.auc;
    const x = Math.min(xOf(0.5), xOf(a));
    const w = Math.abs(xOf(a) - xOf(0.5));
    return `<text x="${left - 8}" y="${r(y + rowH / 2 + 4)}" text-anchor="end">${esc(s.name)}</text><rect class="signal-bar" x="${r(x)}" y="${r(y + 4)}" width="${r(w)}" height="${r(rowH - 8)}" fill="${a >= 0.5 ? C.good : C.bad}" rx="2"/><text x="${r(Math.max(xOf(0.5), xOf(a)) + 4)}" y="${r(y + rowH / 2 + 4)}">${fmt.auc(s.auc)}</text>`;
  });
  const base = PAD.top + signals.length * rowH + 4;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => `<text x="${r(xOf(t))}" y="${r(base + 14)}" text-anchor="middle">${t.toFixed(2)}</text>`)
    .join('');
  const body = `<line x1="${r(xOf(0.5))}" y1="${PAD.top}" x2="${r(xOf(0.5))}" y2="${r(base)}" stroke="#9ca3af" stroke-dasharray="3 3"/>${bars.join('')}<line x1="${left}" y1="${r(base)}" x2="${r(xOf(1))}" y2="${r(base)}" stroke="#9ca3af"/>${ticks}`;
  return frame('signal-chart', 'AUC of each signal', body, Math.ceil(base + 24));
}

function legend(x: number, y: number, items: { color: string; label: string }[]): string {
  return items
    .map(
      (it, i) =>
        `<rect x="${x}" y="${y + i * 18}" width="12" height="12" fill="${it.color}" rx="2"/><text x="${x + 18}" y="${y + i * 18 + 10}">${esc(it.label)}</text>`,
    )
    .join('');
}

/** At most ~400 points: enough for a smooth curve, small enough for a light file. Keeps the last point. */
function thin(points: RocPoint[]): RocPoint[] {
  if (points.length <= 400) return points;
  const step = Math.ceil(points.length / 400);
  const out = points.filter((_, i) => i % step === 0);
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]!);
  return out;
}

function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function r(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
