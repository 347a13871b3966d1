/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { HistoryView, RunSummaryView } from './data.js';
import { asOfDate, bandColor, num } from './layout.js';

/**
 * Inline SVG charts drawn from the data (no chart library: bars, columns and a line are a few shapes each). Every
 * chart is `role="img"` with a <title> and <desc> (its text alternative), and sits next to a table with the same
 * numbers (docs/dashboard.md#accessibility).
 */

interface ChartLabel {
  id: string;
  title: string;
  desc: string;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

function Svg(props: ChartLabel & { width: number; height: number; class: string; children: unknown }) {
  return (
    <svg
      id={props.id}
      class={props.class}
      viewBox={`0 0 ${props.width} ${props.height}`}
      width={props.width}
      height={props.height}
      role="img"
      aria-labelledby={`${props.id}-title ${props.id}-desc`}
    >
      <title id={`${props.id}-title`}>{props.title}</title>
      <desc id={`${props.id}-desc`}>{props.desc}</desc>
      {props.children}
    </svg>
  );
}

/** One row of a bar chart: its label right-aligned up to `labelX`, the bar (the children), its value at `valueX`. */
function BarRow(props: {
  label: string;
  labelX: number;
  value: string;
  valueX: number;
  textY: number;
  children: unknown;
}) {
  return (
    <g>
      <text x={props.labelX} y={props.textY} text-anchor="end">
        {props.label}
      </text>
      {props.children}
      <text x={props.valueX} y={props.textY}>
        {props.value}
      </text>
    </g>
  );
}

/** Horizontal bars: entities per band (highest band on top). */
export function BandBars(props: { id: string; model: string; bands: RunSummaryView['bands'] }) {
  const total = props.bands.reduce((s, b) => s + b.count, 0);
  const max = Math.max(1, ...props.bands.map((b) => b.count));
  const rows = [...props.bands].map((b, i) => ({ ...b, i })).reverse();
  const width = 420;
  const row = 24;
  const labelW = 110;
  const barW = width - labelW - 90;
  const desc = props.bands.map((b) => `${b.band}: ${b.count}`).join(', ');
  return (
    <Svg
      id={props.id}
      class="band-chart"
      width={width}
      height={rows.length * row + 6}
      title={`Entities per band, model ${props.model}`}
      desc={`${total} entities. ${desc}.`}
    >
      {rows.map((b, k) => {
        const y = k * row + 3;
        const w = r1((b.count / max) * barW);
        const pct = total === 0 ? 0 : Math.round((b.count / total) * 100);
        return (
          <BarRow
            label={b.band}
            labelX={labelW - 6}
            value={`${b.count} (${pct}%)`}
            valueX={labelW + w + 6}
            textY={y + 15}
          >
            <rect
              class="band-bar"
              data-band={b.band}
              x={labelW}
              y={y}
              width={Math.max(w, b.count > 0 ? 1 : 0)}
              height={row - 6}
              fill={bandColor(b.i, props.bands.length)}
            />
          </BarRow>
        );
      })}
    </Svg>
  );
}

export interface RunBands {
  date: string;
  bands: RunSummaryView['bands'];
}

/** 100 % stacked columns: the band mix of each recent run, oldest left. */
export function BandHistory(props: { id: string; model: string; runs: RunBands[] }) {
  const width = 420;
  const height = 170;
  const plotH = 130;
  const n = Math.max(1, props.runs.length);
  const slot = (width - 40) / n;
  const colW = Math.min(36, slot * 0.7);
  const first = props.runs[0]?.date ?? '';
  const last = props.runs[props.runs.length - 1]?.date ?? '';
  return (
    <Svg
      id={props.id}
      class="band-history"
      width={width}
      height={height}
      title={`Band mix over the last ${props.runs.length} runs, model ${props.model}`}
      desc={`Share of entities per band for runs from ${first} to ${last}; the table below lists the counts.`}
    >
      <text x="0" y="10">
        100%
      </text>
      <text x="0" y={plotH + 4}>
        0%
      </text>
      {props.runs.map((run, k) => {
        const total = run.bands.reduce((s, b) => s + b.count, 0) || 1;
        const x = 36 + k * slot + (slot - colW) / 2;
        let y = plotH + 2;
        return (
          <g class="run-column" data-date={run.date}>
            {run.bands.map((b, i) => {
              const h = r1((b.count / total) * (plotH - 4));
              y -= h;
              return (
                <rect x={r1(x)} y={r1(y)} width={r1(colW)} height={h} fill={bandColor(i, run.bands.length)}>
                  <title>{`${run.date} ${b.band}: ${b.count}`}</title>
                </rect>
              );
            })}
            <text x={r1(x + colW / 2)} y={height - 20} text-anchor="middle">
              {run.date.slice(5)}
            </text>
          </g>
        );
      })}
    </Svg>
  );
}

/** Score histogram of a run. */
export function Histogram(props: { id: string; model: string; bins: RunSummaryView['histogram'] }) {
  const width = 420;
  const height = 160;
  const plotH = 120;
  const max = Math.max(1, ...props.bins.map((b) => b.count));
  const n = Math.max(1, props.bins.length);
  const barW = (width - 20) / n;
  const lo = props.bins[0]?.lo ?? 0;
  const hi = props.bins[props.bins.length - 1]?.hi ?? 0;
  const peak = props.bins.reduce((p, b) => (b.count > p.count ? b : p), props.bins[0] ?? { lo: 0, hi: 0, count: 0 });
  return (
    <Svg
      id={props.id}
      class="histogram"
      width={width}
      height={height}
      title={`Score distribution, model ${props.model}`}
      desc={`${props.bins.length} bins from ${num(lo)} to ${num(hi)}; the most common range is ${num(peak.lo)}–${num(peak.hi)} with ${peak.count} entities.`}
    >
      {props.bins.map((b, k) => {
        const h = r1((b.count / max) * plotH);
        return (
          <rect class="hist-bar" x={r1(10 + k * barW + 1)} y={r1(plotH - h + 4)} width={r1(barW - 2)} height={h}>
            <title>{`${num(b.lo)}–${num(b.hi)}: ${b.count}`}</title>
          </rect>
        );
      })}
      <line x1="10" y1={plotH + 4} x2={width - 10} y2={plotH + 4} stroke="#888" />
      <text x="10" y={height - 20}>
        {num(lo)}
      </text>
      <text x={width - 10} y={height - 20} text-anchor="end">
        {num(hi)}
      </text>
      <text x={width / 2} y={height - 4} text-anchor="middle">
        score
      </text>
    </Svg>
  );
}

/** The trend chart's size, its margins (axis labels on the left, band names on the right) and its plot height. */
const TREND_FRAME = { width: 640, height: 220, left: 44, right: 90, top: 10, plotH: 170 } as const;

/** The entity's score over its runs, with the band thresholds as dashed lines. */
export function TrendChart(props: {
  id: string;
  model: string;
  timezone: string;
  history: HistoryView[];
  bands: { name: string; min: number | null }[];
}) {
  const { width, height, left, right, top, plotH } = TREND_FRAME;
  const scores = props.history.map((h) => h.score);
  const thresholds = props.bands.filter((b) => b.min !== null) as { name: string; min: number }[];
  const values = [...scores, ...thresholds.map((t) => t.min)];
  let lo = Math.min(...values, 0);
  let hi = Math.max(...values, 1);
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const y = (v: number) => r1(top + plotH - ((v - lo) / (hi - lo)) * plotH);
  const n = props.history.length;
  const x = (i: number) => r1(left + (n <= 1 ? (width - left - right) / 2 : (i / (n - 1)) * (width - left - right)));
  const points = props.history.map((h, i) => `${x(i)},${y(h.score)}`).join(' ');
  const first = props.history[0];
  const last = props.history[n - 1];
  const desc =
    first && last
      ? `${n} runs from ${asOfDate(first.asOf, props.timezone)} (score ${num(first.score)}, ${first.band}) to ${asOfDate(last.asOf, props.timezone)} (score ${num(last.score)}, ${last.band}).`
      : 'No history yet.';
  return (
    <Svg
      id={props.id}
      class="trend-chart"
      width={width}
      height={height}
      title={`Score over time, model ${props.model}`}
      desc={desc}
    >
      {thresholds.map((t) => (
        <g>
          <line
            x1={left}
            x2={width - right}
            y1={y(t.min)}
            y2={y(t.min)}
            stroke="#9aa5b5"
            stroke-dasharray="4 3"
            class="band-threshold"
          />
          <text x={width - right + 4} y={y(t.min) + 4}>
            {`${t.name} ≥ ${num(t.min)}`}
          </text>
        </g>
      ))}
      <text x={left - 4} y={y(hi - pad) + 4} text-anchor="end">
        {num(Math.round(hi - pad))}
      </text>
      <text x={left - 4} y={y(lo + pad) + 4} text-anchor="end">
        {num(Math.round(lo + pad))}
      </text>
      {n > 1 ? <polyline class="trend-line" points={points} fill="none" stroke="#0b57d0" stroke-width="2" /> : null}
      {props.history.map((h, i) => (
        <circle class="trend-point" cx={x(i)} cy={y(h.score)} r="3.5" fill="#0b57d0">
          <title>{`${asOfDate(h.asOf, props.timezone)}: ${num(h.score)} (${h.band})`}</title>
        </circle>
      ))}
      {first ? (
        <text x={left} y={height - 8}>
          {asOfDate(first.asOf, props.timezone)}
        </text>
      ) : null}
      {last && n > 1 ? (
        <text x={width - right} y={height - 8} text-anchor="end">
          {asOfDate(last.asOf, props.timezone)}
        </text>
      ) : null}
    </Svg>
  );
}

/** Diverging bars: points per signal and penalty around zero. */
export function ContributionChart(props: { id: string; items: { name: string; points: number }[] }) {
  const width = 520;
  const row = 22;
  const labelW = 150;
  const plotW = width - labelW - 60;
  const maxAbs = Math.max(1, ...props.items.map((i) => Math.abs(i.points)));
  const anyNegative = props.items.some((i) => i.points < 0);
  const zero = labelW + (anyNegative ? plotW / 2 : 0);
  const scale = (anyNegative ? plotW / 2 : plotW) / maxAbs;
  const total = props.items.reduce((s, i) => s + i.points, 0);
  return (
    <Svg
      id={props.id}
      class="contribution-chart"
      width={width}
      height={props.items.length * row + 8}
      title="Points per signal and penalty"
      desc={`${props.items.map((i) => `${i.name} ${num(i.points)}`).join(', ')}; total ${num(total)} points.`}
    >
      <line x1={zero} x2={zero} y1="0" y2={props.items.length * row + 8} stroke="#888" />
      {props.items.map((item, k) => {
        const yy = k * row + 4;
        const w = r1(Math.abs(item.points) * scale);
        const x = item.points >= 0 ? zero : zero - w;
        return (
          <BarRow
            label={item.name}
            labelX={labelW - 6}
            value={num(item.points)}
            valueX={item.points >= 0 ? r1(zero + w + 4) : r1(zero + 4)}
            textY={yy + 14}
          >
            <rect
              class="contribution-bar"
              x={r1(x)}
              y={yy}
              width={w}
              height={row - 6}
              fill={item.points >= 0 ? '#2e7d32' : '#c62828'}
            />
          </BarRow>
        );
      })}
    </Svg>
  );
}
