/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { BandBars, BandHistory, ContributionChart, Histogram, type RunBands, TrendChart } from './charts.js';
import type {
  AlertView,
  EntityScoreView,
  EntityView,
  HistoryView,
  ModelView,
  Page,
  ReasonView,
  RunView,
  ScoreListView,
} from './data.js';
import {
  asOfDate,
  BandBadge,
  DataTable,
  Delta,
  dateTime,
  entityHref,
  FoldedTable,
  Layout,
  num,
  TableHead,
  withQuery,
} from './layout.js';

/** The dashboard pages as JSX components; each takes what its route read (docs/dashboard.md#pages). */

const bandNames = (model: ModelView) => model.bands.map((b) => b.name);

function bandRange(model: ModelView, index: number): string {
  const band = model.bands[index]!;
  const next = model.bands[index + 1];
  if (band.min === null) return next?.min != null ? `< ${num(next.min)}` : 'all scores';
  return next?.min != null ? `${num(band.min)} – < ${num(next.min)}` : `≥ ${num(band.min)}`;
}

/** A row of a score table: what it is a score of (the row's heading), the score, its band and its change. */
function ScoreRow(props: {
  score: { score: number; band: string; delta: number | null };
  bands: readonly string[];
  children: Child;
}) {
  return (
    <tr>
      <th scope="row">{props.children}</th>
      <td class="num">{num(props.score.score)}</td>
      <td>
        <BandBadge band={props.score.band} bands={props.bands} />
      </td>
      <td class="num">
        <Delta delta={props.score.delta} />
      </td>
    </tr>
  );
}

/** Links to a list's first page (when not on it) and to its next page, or "End of list". */
function Pager(props: { first: string | undefined; next: string | undefined }) {
  return (
    <nav class="pager" aria-label="Pages">
      {props.first ? <a href={props.first}>« First page</a> : null}
      {props.next ? (
        <a rel="next" href={props.next}>
          Next page »
        </a>
      ) : (
        <span class="muted">End of list</span>
      )}
    </nav>
  );
}

function RunStatus(props: { run: RunView | undefined; timezone: string }) {
  const run = props.run;
  if (!run) return <p class="muted">No run yet. Start one with `pulse run` or wait for the schedule.</p>;
  return (
    <p>
      Last run <strong class={`status-${run.status}`}>{run.status}</strong> · as of {run.date} · {run.counts.entities}{' '}
      entities · {run.counts.events} events
      {run.alerts ? ` · ${run.alerts.fired} alerts` : ''}
      {run.alerts && run.alerts.failed > 0 ? ` (${run.alerts.failed} not delivered)` : ''} · updated{' '}
      {dateTime(run.updatedAt)} UTC
      {run.error ? <span class="down"> · {run.error}</span> : null}
    </p>
  );
}

function MoversTable(props: { caption: string; model: ModelView; movers: NonNullable<RunView['summary']>['rises'] }) {
  if (props.movers.length === 0) return <p class="muted">{props.caption}: none.</p>;
  return (
    <table class="movers">
      <caption>{props.caption}</caption>
      <TableHead
        cols={[props.model.level === 'account' ? 'Account' : 'User', { num: 'Score' }, { num: 'Change' }, 'Band']}
      />
      <tbody>
        {props.movers.map((m) => (
          <tr>
            <th scope="row">
              <a href={entityHref(m.entityType, m.entityId, props.model.name)}>{m.entityId}</a>
            </th>
            <td class="num">{num(m.score)}</td>
            <td class="num">
              <Delta delta={m.delta} />
            </td>
            <td>
              {m.previousBand && m.previousBand !== m.band ? (
                <>
                  <BandBadge band={m.previousBand} bands={bandNames(props.model)} /> →{' '}
                </>
              ) : null}
              <BandBadge band={m.band} bands={bandNames(props.model)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReasonsText(props: { reasons: ReasonView[] | undefined }) {
  if (!props.reasons || props.reasons.length === 0) return <span class="muted">—</span>;
  return (
    <span>
      {props.reasons
        .slice(0, 3)
        .map((r) => `${r.name} ${r.delta >= 0 ? '+' : '−'}${num(Math.abs(r.delta))}`)
        .join(', ')}
    </span>
  );
}

function AlertsTable(props: { alerts: AlertView[]; models: ModelView[]; caption: string; showModel?: boolean }) {
  const byName = new Map(props.models.map((m) => [m.name, m]));
  if (props.alerts.length === 0) return <p class="muted">No alerts in this period.</p>;
  return (
    <table class="alerts">
      <caption>{props.caption}</caption>
      <TableHead
        cols={['As of', 'Alert', 'Entity', ...(props.showModel ? ['Model'] : []), { num: 'Score' }, 'Band', 'Why']}
      />
      <tbody>
        {props.alerts.map((a) => {
          const model = byName.get(a.model);
          const bands = model ? bandNames(model) : [a.band];
          return (
            <tr>
              <td>{asOfDate(a.asOf, model?.timezone)}</td>
              <td>{alertLabel(a.type)}</td>
              <th scope="row">
                <a href={entityHref(a.entityType, a.entityId, a.model)}>{a.entityId}</a>{' '}
                <span class="muted small">{a.entityType}</span>
              </th>
              {props.showModel ? <td>{a.model}</td> : null}
              <td class="num">
                {a.previousScore === null ? '' : `${num(a.previousScore)} → `}
                {num(a.score)}
              </td>
              <td>
                {a.previousBand && a.previousBand !== a.band ? (
                  <>
                    <BandBadge band={a.previousBand} bands={bands} /> →{' '}
                  </>
                ) : null}
                <BandBadge band={a.band} bands={bands} />
              </td>
              <td>
                <ReasonsText reasons={a.reasons} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function alertLabel(type: AlertView['type']): string {
  return type === 'ScoreDropped' ? 'Score dropped' : type === 'ScoreSpiked' ? 'Score spiked' : 'Band changed';
}

export interface ModelOverview {
  model: ModelView;
  runs: RunView[];
  alerts: AlertView[];
}

/** Latest succeeded run per as-of date, oldest first, that carries a summary. */
export function summarisedRuns(runs: RunView[]): (RunView & { summary: NonNullable<RunView['summary']> })[] {
  const byDate = new Map<string, RunView & { summary: NonNullable<RunView['summary']> }>();
  for (const run of runs) {
    if (run.kind !== 'run' || run.status !== 'succeeded' || !run.summary) continue;
    if (!byDate.has(run.date)) byDate.set(run.date, run as RunView & { summary: NonNullable<RunView['summary']> });
  }
  return [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
}

export function OverviewPage(props: { source: string; overviews: ModelOverview[] }) {
  return (
    <Layout title="Overview" section="overview" source={props.source}>
      <h1>Engagement overview</h1>
      {props.overviews.length === 0 ? <p>No model is active.</p> : null}
      {props.overviews.map(({ model, runs, alerts }) => {
        const summarised = summarisedRuns(runs);
        const latest = summarised[summarised.length - 1];
        const history: RunBands[] = summarised.map((r) => ({ date: r.date, bands: r.summary.bands }));
        const total = latest ? latest.summary.bands.reduce((s, b) => s + b.count, 0) : 0;
        return (
          <section class="card model" id={`model-${model.name}`} aria-labelledby={`h-${model.name}`}>
            <h2 id={`h-${model.name}`}>
              <a href={`/models/${model.name}`}>{model.name}</a>{' '}
              <span class="muted small">
                v{model.version} · {model.level}s · {model.windowDays}-day window · {model.cadence}
              </span>
            </h2>
            {model.description ? <p class="muted">{model.description}</p> : null}
            <RunStatus run={runs[0]} timezone={model.timezone} />
            {latest ? (
              <>
                <div class="kpis">
                  <div class="kpi">
                    <div class="v">{total}</div>
                    <div class="l">{model.level}s scored</div>
                  </div>
                  <div class="kpi">
                    <div class="v">{num(latest.summary.mean)}</div>
                    <div class="l">mean score</div>
                  </div>
                  <div class="kpi">
                    <div class="v">{latest.summary.bandChanges}</div>
                    <div class="l">band changes</div>
                  </div>
                </div>
                <div class="grid">
                  <figure>
                    <h3>Bands now ({latest.date})</h3>
                    <BandBars id={`bands-${model.name}`} model={model.name} bands={latest.summary.bands} />
                    <table class="band-table">
                      <caption class="sr-only">Entities per band, model {model.name}</caption>
                      <TableHead cols={['Band', 'Scores', { num: 'Entities' }]} />
                      <tbody>
                        {[...latest.summary.bands].reverse().map((b) => {
                          const i = model.bands.findIndex((mb) => mb.name === b.band);
                          return (
                            <tr>
                              <th scope="row">
                                <a href={withQuery(`/models/${model.name}`, { band: b.band })}>
                                  <BandBadge band={b.band} bands={bandNames(model)} />
                                </a>
                              </th>
                              <td class="small">{i >= 0 ? bandRange(model, i) : ''}</td>
                              <td class="num">{b.count}</td>
                            </tr>
                          );
                        })}
                      </tbody>
                    </table>
                  </figure>
                  <figure>
                    <h3>Score distribution</h3>
                    <Histogram id={`hist-${model.name}`} model={model.name} bins={latest.summary.histogram} />
                    <FoldedTable summary="Histogram as a table" cols={['Score range', { num: 'Entities' }]}>
                      {latest.summary.histogram.map((b) => (
                        <tr>
                          <th scope="row">
                            {num(b.lo)} – {num(b.hi)}
                          </th>
                          <td class="num">{b.count}</td>
                        </tr>
                      ))}
                    </FoldedTable>
                  </figure>
                  <figure>
                    <h3>Bands over recent runs</h3>
                    <BandHistory id={`band-history-${model.name}`} model={model.name} runs={history} />
                    <FoldedTable
                      summary="Band mix per run as a table"
                      cols={['As of', ...model.bands.map((b) => ({ num: b.name }))]}
                    >
                      {history.map((r) => (
                        <tr>
                          <th scope="row">{r.date}</th>
                          {r.bands.map((b) => (
                            <td class="num">{b.count}</td>
                          ))}
                        </tr>
                      ))}
                    </FoldedTable>
                  </figure>
                </div>
                <h3>Biggest movers since the previous run</h3>
                <div class="grid">
                  <MoversTable caption="Largest drops" model={model} movers={latest.summary.drops} />
                  <MoversTable caption="Largest rises" model={model} movers={latest.summary.rises} />
                </div>
              </>
            ) : (
              <p class="muted">No summarised run yet: band counts appear after the next successful run.</p>
            )}
            <h3>Recent alerts</h3>
            <AlertsTable alerts={alerts} models={[model]} caption={`Latest alerts, model ${model.name}`} />
            <p>
              <a href={withQuery('/alerts', { model: model.name })}>All alerts of {model.name}</a> ·{' '}
              <a href={withQuery('/runs', { model: model.name })}>All runs of {model.name}</a>
            </p>
          </section>
        );
      })}
    </Layout>
  );
}

export interface ModelPageProps {
  source: string;
  model: ModelView;
  latest: RunView | undefined;
  page: Page<ScoreListView>;
  band: string | undefined;
  limit: number;
  cursor: string | undefined;
  /** Position of the first row (1-based) when known. */
  offset: number;
}

export function ModelPage(props: ModelPageProps) {
  const { model, page } = props;
  const bands = bandNames(model);
  const counts = new Map((props.latest?.summary?.bands ?? []).map((b) => [b.band, b.count]));
  const base = `/models/${model.name}`;
  const csv = withQuery(`${base}/scores.csv`, { band: props.band });
  return (
    <Layout title={`Model ${model.name}`} section="models" source={props.source}>
      <h1>
        {model.name} <span class="muted small">v{model.version}</span>
      </h1>
      {model.description ? <p class="muted">{model.description}</p> : null}
      <p class="small muted">
        {model.level}s · {model.windowDays}-day window · {model.cadence} · time zone {model.timezone} · signals:{' '}
        {model.signals.join(', ')}
        {model.penalties.length > 0 ? ` · penalties: ${model.penalties.join(', ')}` : ''}
      </p>
      <nav class="chips" aria-label="Filter by band">
        <a href={base} aria-current={props.band === undefined ? 'true' : undefined}>
          All{counts.size > 0 ? ` (${[...counts.values()].reduce((s, n) => s + n, 0)})` : ''}
        </a>
        {[...model.bands].reverse().map((b) => (
          <a href={withQuery(base, { band: b.name })} aria-current={props.band === b.name ? 'true' : undefined}>
            <BandBadge band={b.name} bands={bands} />
            {counts.has(b.name) ? ` ${counts.get(b.name)}` : ''}
          </a>
        ))}
      </nav>
      <form class="filters" method="get" action={base}>
        <label>
          Band
          <select name="band">
            <option value="">all bands</option>
            {[...bands].reverse().map((b) => (
              <option value={b} selected={props.band === b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label>
          Rows
          <select name="limit">
            {[25, 50, 100, 200].map((n) => (
              <option value={String(n)} selected={props.limit === n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Apply
        </button>
        <a href={csv} download>
          Download CSV{props.band ? ` (${props.band})` : ''}
        </a>
      </form>
      <div class="card">
        {page.items.length === 0 ? (
          <p>No scores{props.band ? ` in band ${props.band}` : ''} yet.</p>
        ) : (
          <table class="scores">
            <caption>
              {props.band ? `Band ${props.band}` : 'All bands'}: rows {props.offset}–
              {props.offset + page.items.length - 1}, highest score first
            </caption>
            <TableHead
              cols={[
                model.level === 'account' ? 'Account' : 'User',
                { num: 'Score' },
                'Band',
                { num: 'Change since previous run' },
              ]}
            />
            <tbody>
              {page.items.map((s) => (
                <ScoreRow score={s} bands={bands}>
                  <a href={entityHref(s.entityType, s.entityId, model.name)}>{s.entityId}</a>
                </ScoreRow>
              ))}
            </tbody>
          </table>
        )}
        <Pager
          first={props.cursor ? withQuery(base, { band: props.band, limit: String(props.limit) }) : undefined}
          next={
            page.nextCursor
              ? withQuery(base, {
                  band: props.band,
                  limit: String(props.limit),
                  cursor: page.nextCursor,
                  from: String(props.offset + page.items.length),
                })
              : undefined
          }
        />
      </div>
    </Layout>
  );
}

export interface EntityPageProps {
  source: string;
  entity: EntityView;
  model: ModelView;
  score: EntityScoreView | undefined;
  history: HistoryView[];
  alerts: AlertView[];
  /** Other models scoring this entity. */
  otherModels: string[];
}

export function EntityPage(props: EntityPageProps) {
  const { entity, model, score } = props;
  const bands = bandNames(model);
  const title = `${entity.entityType} ${entity.entityId}`;
  const items = score
    ? [
        ...score.contributions.map((c) => ({ name: c.signal, points: c.points })),
        ...score.penalties.map((p) => ({ name: `penalty: ${p.rule}`, points: p.points })),
      ]
    : [];
  const traits = Object.entries(entity.traits ?? {});
  return (
    <Layout title={title} section="none" source={props.source}>
      <p class="small">
        <a href={`/models/${model.name}`}>« {model.name}</a>
      </p>
      <h1>
        {entity.entityId} <span class="muted small">{entity.entityType}</span>
      </h1>
      {props.otherModels.length > 0 ? (
        <p class="small">
          Also scored by:{' '}
          {props.otherModels.map((m, i) => (
            <>
              {i > 0 ? ', ' : ''}
              <a href={entityHref(entity.entityType, entity.entityId, m)}>{m}</a>
            </>
          ))}
        </p>
      ) : null}
      {!score ? (
        <div class="card">
          <p>Not scored by model {model.name} yet (known from identify/group calls; it is scored at the next run).</p>
        </div>
      ) : (
        <>
          {score.override ? (
            <div class="note override" role="note">
              <strong>Manual override:</strong>{' '}
              {score.override.band ? (
                <>
                  band <BandBadge band={score.override.band} bands={bands} />{' '}
                </>
              ) : null}
              {score.override.score != null ? `score ${num(score.override.score)} ` : ''}— “{score.override.reason}”,
              until {dateTime(score.override.expiresAt)} UTC
              {score.override.createdAt ? ` (set ${dateTime(score.override.createdAt)} UTC)` : ''}. The computed score
              is {num(score.rawScore)} raw.
            </div>
          ) : null}
          <div class="card">
            <div class="kpis">
              <div class="kpi">
                <div class="v" id="score">
                  {num(score.score)}
                </div>
                <div class="l">
                  score ({model.name} v{score.modelVersion})
                </div>
              </div>
              <div class="kpi">
                <div class="v">
                  <BandBadge band={score.band} bands={bands} />
                </div>
                <div class="l">band{score.previousBand ? ` (was ${score.previousBand})` : ''}</div>
              </div>
              <div class="kpi">
                <div class="v">
                  <Delta delta={score.delta} />
                </div>
                <div class="l">
                  since previous run{score.previousScore !== null ? ` (${num(score.previousScore)})` : ''}
                </div>
              </div>
              <div class="kpi">
                <div class="v">{num(score.rawScore)}</div>
                <div class="l">raw points</div>
              </div>
            </div>
            <p class="small muted">As of {asOfDate(score.asOf, model.timezone)}.</p>
          </div>
          <div class="grid">
            <section class="card" aria-labelledby="h-trend">
              <h2 id="h-trend">Trend</h2>
              {props.history.length > 0 ? (
                <TrendChart
                  id="trend"
                  model={model.name}
                  timezone={model.timezone}
                  history={props.history}
                  bands={model.bands}
                />
              ) : (
                <p class="muted">No history yet.</p>
              )}
              <FoldedTable
                summary={`History as a table (${props.history.length} runs)`}
                class="history"
                cols={['As of', { num: 'Score' }, 'Band', { num: 'Change' }]}
              >
                {[...props.history].reverse().map((h) => (
                  <ScoreRow score={h} bands={bands}>
                    {asOfDate(h.asOf, model.timezone)}
                  </ScoreRow>
                ))}
              </FoldedTable>
            </section>
            <section class="card" aria-labelledby="h-why">
              <h2 id="h-why">Why it moved</h2>
              {score.reasons.length === 0 ? (
                <p class="muted">
                  {score.delta === null ? 'First score: nothing to compare with yet.' : 'No signal changed its points.'}
                </p>
              ) : (
                <DataTable
                  class="reasons"
                  caption="Signals and penalties that changed most since the previous run"
                  cols={['Signal or penalty', { num: 'Before' }, { num: 'Now' }, { num: 'Change' }]}
                >
                  {score.reasons.map((r) => (
                    <tr>
                      <th scope="row">
                        {r.kind === 'penalty' ? 'penalty: ' : ''}
                        {r.name}
                      </th>
                      <td class="num">{num(r.previousPoints)}</td>
                      <td class="num">{num(r.points)}</td>
                      <td class="num">
                        <Delta delta={r.delta} />
                      </td>
                    </tr>
                  ))}
                </DataTable>
              )}
              <h3>Coverage</h3>
              <p class="coverage">
                {score.coverage.events} events on {score.coverage.activeDays} active days; known for{' '}
                {score.coverage.observedDays} of the {score.windowDays} days in the window. First seen{' '}
                {dateTime(score.coverage.firstSeenAt)}, last seen {dateTime(score.coverage.lastSeenAt)} UTC.
                {score.coverage.observedDays < score.windowDays / 2 ? (
                  <strong> Little evidence yet: read this score with care.</strong>
                ) : null}
              </p>
            </section>
          </div>
          <section class="card" aria-labelledby="h-contrib">
            <h2 id="h-contrib">What the score is made of</h2>
            {items.length > 0 ? <ContributionChart id="contributions" items={items} /> : null}
            <div class="grid">
              <DataTable class="contributions" caption="Signals" cols={['Signal', { num: 'Value' }, { num: 'Points' }]}>
                {score.contributions.map((c) => (
                  <tr>
                    <th scope="row">{c.signal}</th>
                    <td class="num">{num(c.value)}</td>
                    <td class="num">{num(c.points)}</td>
                  </tr>
                ))}
              </DataTable>
              <DataTable class="penalties" caption="Penalties applied" cols={['Penalty', { num: 'Points' }]}>
                {score.penalties.length === 0 ? (
                  <tr>
                    <td colspan={2} class="muted">
                      none
                    </td>
                  </tr>
                ) : (
                  score.penalties.map((p) => (
                    <tr>
                      <th scope="row">{p.rule}</th>
                      <td class="num">{num(p.points)}</td>
                    </tr>
                  ))
                )}
              </DataTable>
            </div>
            {score.groups && score.groups.length > 0 ? (
              <DataTable
                class="groups"
                caption="Breakdown by user group"
                cols={['Group', { num: 'Users' }, { num: 'Raw points' }, { num: 'Score' }]}
              >
                {score.groups.map((g) => (
                  <tr>
                    <th scope="row">{g.key}</th>
                    <td class="num">{g.users}</td>
                    <td class="num">{num(g.rawScore)}</td>
                    <td class="num">{num(g.score)}</td>
                  </tr>
                ))}
              </DataTable>
            ) : null}
          </section>
        </>
      )}
      <div class="grid">
        <section class="card" aria-labelledby="h-traits">
          <h2 id="h-traits">Traits</h2>
          {traits.length === 0 ? (
            <p class="muted">No traits recorded.</p>
          ) : (
            <table class="traits">
              <TableHead cols={['Trait', 'Value']} />
              <tbody>
                {traits.map(([key, value]) => (
                  <tr>
                    <th scope="row">{key}</th>
                    <td>{typeof value === 'string' ? value : JSON.stringify(value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section class="card" aria-labelledby="h-alerts">
          <h2 id="h-alerts">Alerts</h2>
          <AlertsTable
            alerts={props.alerts}
            models={[model]}
            caption={`Alerts of ${entity.entityId}, model ${model.name}`}
          />
        </section>
      </div>
    </Layout>
  );
}

export interface AlertsPageProps {
  source: string;
  models: ModelView[];
  model: string | undefined;
  since: string;
  page: Page<AlertView>;
  cursor: string | undefined;
}

/** The model filter of the alerts and runs pages: one option per model, plus "all models". */
function ModelFilter(props: { models: ModelView[]; selected: string | undefined }) {
  return (
    <label>
      Model
      <select name="model">
        <option value="">all models</option>
        {props.models.map((m) => (
          <option value={m.name} selected={props.selected === m.name}>
            {m.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function AlertsPage(props: AlertsPageProps) {
  return (
    <Layout title="Alerts" section="alerts" source={props.source}>
      <h1>Alerts</h1>
      <form class="filters" method="get" action="/alerts">
        <ModelFilter models={props.models} selected={props.model} />
        <label>
          Since
          <input type="date" name="since" value={props.since} />
        </label>
        <button type="submit" class="primary">
          Apply
        </button>
      </form>
      <div class="card">
        <AlertsTable
          alerts={props.page.items}
          models={props.models}
          caption={`Alerts since ${props.since}${props.model ? `, model ${props.model}` : ''}, newest first`}
          showModel
        />
        <Pager
          first={props.cursor ? withQuery('/alerts', { model: props.model, since: props.since }) : undefined}
          next={
            props.page.nextCursor
              ? withQuery('/alerts', { model: props.model, since: props.since, cursor: props.page.nextCursor })
              : undefined
          }
        />
      </div>
    </Layout>
  );
}

export function RunsPage(props: { source: string; models: ModelView[]; model: string | undefined; runs: RunView[] }) {
  return (
    <Layout title="Runs" section="runs" source={props.source}>
      <h1>Runs</h1>
      <form class="filters" method="get" action="/runs">
        <ModelFilter models={props.models} selected={props.model} />
        <button type="submit" class="primary">
          Apply
        </button>
      </form>
      <div class="card">
        {props.runs.length === 0 ? (
          <p>No runs yet.</p>
        ) : (
          <table class="runs">
            <caption>Latest {props.runs.length} runs, newest first</caption>
            <TableHead
              cols={[
                'Run',
                'Model',
                'As of',
                'Status',
                { num: 'Entities' },
                { num: 'Events' },
                { num: 'Alerts' },
                { num: 'Band changes' },
                'Started (UTC)',
                { num: 'Took' },
              ]}
            />
            <tbody>
              {props.runs.map((r) => (
                <tr>
                  <th scope="row" class="small">
                    {r.runId}
                    {r.kind === 'backfill' ? (
                      <span class="muted"> (backfill of {r.runs?.length ?? 0} dates)</span>
                    ) : null}
                  </th>
                  <td>{r.model}</td>
                  <td>{r.date}</td>
                  <td>
                    <span class={`status-${r.status}`}>{r.status}</span>
                    {r.error ? <div class="small down">{r.error}</div> : null}
                  </td>
                  <td class="num">{r.counts.entities}</td>
                  <td class="num">{r.counts.events}</td>
                  <td class="num">
                    {r.alerts ? r.alerts.fired : '—'}
                    {r.alerts && r.alerts.failed > 0 ? ` (${r.alerts.failed} failed)` : ''}
                  </td>
                  <td class="num">{r.summary ? r.summary.bandChanges : '—'}</td>
                  <td>{dateTime(r.createdAt)}</td>
                  <td class="num">{seconds(r.createdAt, r.updatedAt, r.status)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Layout>
  );
}

function seconds(from: string, to: string, status: RunView['status']): string {
  if (status === 'queued' || status === 'running') return '…';
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

export function LoginPage(props: { source: string; next: string; error?: string | undefined }) {
  return (
    <Layout title="Sign in" section="none" source={props.source} bare>
      <div class="card" style="max-width:28rem">
        <h1>Sign in to Pulse</h1>
        {props.error ? (
          <p class="error" role="alert">
            {props.error}
          </p>
        ) : null}
        <p>
          Enter the dashboard token: <code>PULSE_API_TOKEN</code> (printed in the <code>npm start</code> banner) or the
          token printed by <code>pulse dashboard</code>.
        </p>
        <form method="post" action="/login">
          <input type="hidden" name="next" value={props.next} />
          <label>
            Token
            <input type="password" name="token" autocomplete="current-password" required />
          </label>
          <p>
            <button type="submit" class="primary">
              Sign in
            </button>
          </p>
        </form>
      </div>
    </Layout>
  );
}

export function ErrorPage(props: { source: string; status: number; title: string; detail: string }) {
  return (
    <Layout title={props.title} section="none" source={props.source}>
      <h1>{props.title}</h1>
      <p class="error" role="alert">
        {props.detail}
      </p>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </Layout>
  );
}
