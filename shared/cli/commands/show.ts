import type { historyView, scoreView } from '../../http/api-views.js';
import { type ApiTarget, PulseClient } from '../client.js';
import { type CliIO, EXIT_OK, formatTable } from '../io.js';
import { type OutputFormat, writeCsv, writeJson } from '../output.js';

/** A current score as `GET /v1/scores/{type}/{id}` returns it. */
export type ScoreView = ReturnType<typeof scoreView>;

/** A history entry as `GET /v1/scores/{type}/{id}/history` returns it. */
type HistoryItem = ReturnType<typeof historyView>;

export interface ShowOptions {
  entityType: string;
  entityId: string;
  model?: string | undefined;
  format: OutputFormat;
  /** History rows in the table (the newest); JSON has them all. */
  historyRows?: number | undefined;
}

const r1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
const signed = (n: number | null) => (n === null ? '—' : n > 0 ? `+${r1(n)}` : String(r1(n)));

/** `pulse show <type> <id>`: why an entity scores what it does — score, band, reasons, contributions, history. */
export async function showCommand(options: ShowOptions, target: ApiTarget, io: CliIO): Promise<number> {
  const client = new PulseClient(target);
  const path = `/v1/scores/${encodeURIComponent(options.entityType)}/${encodeURIComponent(options.entityId)}`;
  const query = options.model ? `?${new URLSearchParams({ model: options.model })}` : '';
  const entity = await client.call<{ entityType: string; entityId: string; scores: ScoreView[] }>(
    'GET',
    `${path}${query}`,
    { auth: 'api' },
  );
  const scores = await Promise.all(
    entity.scores.map(async (score) => {
      const history = await client.call<{ items: HistoryItem[] }>(
        'GET',
        `${path}/history?${new URLSearchParams({ model: score.model })}`,
        { auth: 'api' },
      );
      return { ...score, history: history.items };
    }),
  );

  if (options.format === 'json') {
    writeJson(io, { entityType: entity.entityType, entityId: entity.entityId, scores });
    return EXIT_OK;
  }
  if (options.format === 'csv') {
    // One row per signal and penalty of each current score: what a spreadsheet breaks a score down by.
    writeCsv(
      io,
      ['entity_type', 'entity_id', 'model', 'as_of', 'score', 'band', 'part', 'name', 'value', 'points'],
      scores.flatMap((s) => {
        const part = (kind: string, name: string, value: number | null, points: number) => {
          return [entity.entityType, entity.entityId, s.model, s.asOf, s.score, s.band, kind, name, value, points];
        };
        return [
          ...s.contributions.map((c) => part('signal', c.signal, c.value, c.points)),
          ...s.penalties.map((p) => part('penalty', p.rule, null, p.points)),
        ];
      }),
    );
    return EXIT_OK;
  }

  const out: string[] = [];
  for (const s of scores) {
    if (out.length > 0) out.push('');
    out.push(`${entity.entityType} ${entity.entityId} — ${s.model} v${s.modelVersion}, as of ${s.asOf}`);
    const moved =
      s.previousScore === null
        ? 'first score'
        : `${signed(s.delta)} from ${r1(s.previousScore)}${s.previousBand !== s.band ? ` (${s.previousBand})` : ''}`;
    out.push(`  score ${r1(s.score)}  band ${s.band}  (${moved}; raw ${r1(s.rawScore)})`);
    if (s.override)
      out.push(
        `  overridden: ${[s.override.band && `band ${s.override.band}`, s.override.score !== undefined && `score ${s.override.score}`].filter(Boolean).join(', ')} until ${s.override.expiresAt} — ${s.override.reason}`,
      );
    out.push(
      `  coverage: ${s.coverage.events} events on ${s.coverage.activeDays} active days, observed ${s.coverage.observedDays} days`,
    );
    if (s.reasons.length > 0) {
      out.push('', '  Why it moved');
      out.push(
        indent(
          formatTable(
            ['KIND', 'NAME', 'BEFORE', 'NOW', 'CHANGE'],
            s.reasons.map((r) => [r.kind, r.name, r1(r.previousPoints), r1(r.points), signed(r.delta)]),
          ),
        ),
      );
    }
    out.push('', '  Contributions');
    out.push(
      indent(
        formatTable(
          ['SIGNAL', 'VALUE', 'POINTS'],
          s.contributions.map((c) => [c.signal, r1(c.value), r1(c.points)]),
        ),
      ),
    );
    if (s.penalties.length > 0) {
      out.push('', '  Penalties');
      out.push(
        indent(
          formatTable(
            ['RULE', 'POINTS'],
            s.penalties.map((p) => [p.rule, r1(p.points)]),
          ),
        ),
      );
    }
    const rows = s.history.slice(-(options.historyRows ?? 10));
    out.push('', `  History${rows.length < s.history.length ? ` (last ${rows.length} of ${s.history.length})` : ''}`);
    out.push(
      indent(
        formatTable(
          ['AS OF', 'VERSION', 'SCORE', 'BAND', 'DELTA'],
          rows.map((h) => [h.asOf, h.modelVersion, r1(h.score), h.band, r1(h.delta)]),
        ),
      ),
    );
  }
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT_OK;
}

function indent(table: string): string {
  return table
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
