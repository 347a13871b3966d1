/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { DateTime } from 'luxon';

/** Page chrome shared by every dashboard page: one inline style sheet, no scripts (docs/dashboard.md). */

const STYLE = `
:root{color-scheme:light;--fg:#1d2430;--muted:#5b6575;--line:#d9dee7;--bg:#f6f7f9;--card:#fff;--link:#0b57d0;--up:#1b7f3b;--down:#b3261e}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link)}a:focus-visible,button:focus-visible,select:focus-visible,input:focus-visible{outline:3px solid #f4b400;outline-offset:2px}
header{background:#12263f;color:#fff;padding:.5rem 1rem;display:flex;gap:1.25rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}header a[aria-current=page]{text-decoration:underline;text-underline-offset:4px}
header .brand{font-weight:700;font-size:1.1rem;margin-right:.5rem}header form{margin-left:auto}
header button{background:transparent;color:#fff;border:1px solid #8aa0bd;border-radius:4px;padding:.15rem .6rem;cursor:pointer}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .75rem}h3{font-size:1rem;margin:.75rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem}
.muted{color:var(--muted)}.up{color:var(--up)}.down{color:var(--down)}.small{font-size:.85rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;background:#eef1f5}tbody th{background:transparent;font-weight:500}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}
.band{display:inline-block;padding:0 .45rem;border-radius:10px;color:#fff;font-size:.8rem;font-weight:600;white-space:nowrap}
.kpis{display:flex;gap:1.5rem;flex-wrap:wrap;margin-bottom:.5rem}.kpi .v{font-size:1.6rem;font-weight:700}.kpi .l{color:var(--muted);font-size:.8rem}
figure{margin:0}figcaption{font-size:.8rem;color:var(--muted)}svg{max-width:100%;height:auto;display:block}
svg text{font:11px system-ui,sans-serif;fill:#333}.hist-bar{fill:#4a6fa5}
details{margin-top:.5rem}summary{cursor:pointer;color:var(--link)}
form.filters{display:flex;gap:.75rem;flex-wrap:wrap;align-items:end;margin-bottom:.75rem}
label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted);gap:.15rem}
select,input,button.primary{font:inherit;padding:.3rem .5rem;border:1px solid #aab3c2;border-radius:4px;background:#fff}
button.primary{background:#0b57d0;color:#fff;border-color:#0b57d0;cursor:pointer}
nav.pager{display:flex;gap:1rem;margin-top:.75rem}
.chips{display:flex;gap:.5rem;flex-wrap:wrap;margin-bottom:.75rem}.chips a{text-decoration:none}
.status-succeeded{color:var(--up)}.status-failed{color:var(--down)}.status-running,.status-queued{color:#8a5a00}
.note{border-left:4px solid #f4b400;background:#fff8e1;padding:.5rem .75rem;margin-bottom:1rem}
.error{border-left:4px solid var(--down);background:#fdecea;padding:.75rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{max-width:1200px;margin:0 auto;padding:0 1rem 2rem;color:var(--muted);font-size:.8rem}
`;

export type Section = 'overview' | 'models' | 'alerts' | 'runs' | 'none';

export interface LayoutProps {
  title: string;
  section: Section;
  source: string;
  children: Child;
  /** Hide the navigation (login page). */
  bare?: boolean;
}

export function Layout(props: LayoutProps) {
  const current = (s: Section) => (props.section === s ? { 'aria-current': 'page' as const } : {});
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} · Pulse`}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <span class="brand">Pulse</span>
          {props.bare ? null : (
            <>
              <nav aria-label="Main">
                <a href="/" {...current('overview')}>
                  Overview
                </a>{' '}
                ·{' '}
                <a href="/runs" {...current('runs')}>
                  Runs
                </a>{' '}
                ·{' '}
                <a href="/alerts" {...current('alerts')}>
                  Alerts
                </a>
              </nav>
              <form method="post" action="/logout">
                <button type="submit">Sign out</button>
              </form>
            </>
          )}
        </header>
        <main id="main">{props.children}</main>
        <footer>Data: {props.source}. Pages are read-only; data is as of each model's last run.</footer>
      </body>
    </html>
  );
}

/** Colour of band `index` of `count` (lowest red → highest green/blue); the band name is always shown as text. */
export function bandColor(index: number, count: number): string {
  if (count <= 1) return 'hsl(210 55% 42%)';
  const hue = Math.round((index / (count - 1)) * 150);
  return `hsl(${hue} 62% ${hue > 40 && hue < 100 ? 32 : 40}%)`;
}

export function BandBadge(props: { band: string; bands: readonly string[] }) {
  const index = props.bands.indexOf(props.band);
  return (
    <span class="band" style={`background:${bandColor(Math.max(0, index), props.bands.length)}`}>
      {props.band}
    </span>
  );
}

/** A number with at most two decimals. */
export function num(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return Number.isInteger(n) ? String(n) : (Math.round(n * 100) / 100).toString();
}

export function Delta(props: { delta: number | null | undefined }) {
  const d = props.delta;
  if (d === null || d === undefined) return <span class="muted">new</span>;
  if (d === 0) return <span class="muted">±0</span>;
  return d > 0 ? <span class="up">▲ +{num(d)}</span> : <span class="down">▼ −{num(-d)}</span>;
}

/** The as-of date D of a run's instant T (T is the start of D+1 in the model's time zone). */
export function asOfDate(asOf: string, timezone = 'UTC'): string {
  const t = Date.parse(asOf);
  if (Number.isNaN(t)) return asOf;
  return DateTime.fromMillis(t - 1, { zone: timezone }).toISODate() ?? asOf;
}

export function dateTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

export function entityHref(entityType: string, entityId: string, model?: string): string {
  const path = `/entities/${entityType}/${encodeURIComponent(entityId)}`;
  return model ? `${path}?model=${encodeURIComponent(model)}` : path;
}

/** A URL with some query parameters replaced (undefined removes one). */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** A column heading of TableHead: plain text, or `{ num }` for a right-aligned numeric column. */
export type ColumnHead = string | { num: string };

/** A table's header row, one `<th scope="col">` a column. */
export function TableHead(props: { cols: readonly ColumnHead[] }) {
  return (
    <thead>
      <tr>
        {props.cols.map((col) =>
          typeof col === 'string' ? (
            <th scope="col">{col}</th>
          ) : (
            <th scope="col" class="num">
              {col.num}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/** A table of rows under a header row, with its caption when it has one. */
export function DataTable(props: { class?: string; caption?: string; cols: readonly ColumnHead[]; children: unknown }) {
  return (
    <table class={props.class}>
      {props.caption === undefined ? null : <caption>{props.caption}</caption>}
      <TableHead cols={props.cols} />
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** A chart's numbers as a table, folded under `summary` (docs/dashboard.md#accessibility). */
export function FoldedTable(props: {
  summary: string;
  class?: string;
  cols: readonly ColumnHead[];
  children: unknown;
}) {
  return (
    <details>
      <summary>{props.summary}</summary>
      <DataTable class={props.class} cols={props.cols}>
        {props.children}
      </DataTable>
    </details>
  );
}
